import * as realHttp from 'node:http';
import type { Duplex } from 'node:stream';
import { urlToHttpOptions } from 'node:url';
import type { NodeClock } from './clock.js';
import type { NodeNet } from './net/net.js';
import type { Socket } from './net/socket.js';
import { UnsupportedApiError } from './host.js';
import { guardedEmit, type AppFaults } from './process/uncaught.js';

type Listener = (req: realHttp.IncomingMessage, res: realHttp.ServerResponse) => void;

/** Longest interval Node accepts: http.Server's connection checker then never fires on its own. */
const NEVER_MS = 2 ** 31 - 1;

/**
 * One app's `node:http`: Node's own `http.Server` (the parser, keep-alive, pipelining, every
 * framework's expectations) handed its connections from our `net.Server` through
 * `emit('connection', socket)`; and Node's own `ClientRequest` over our sockets through an Agent
 * whose `createConnection` is ours. Node's server reads the host's clock for its `Date` header
 * (cached, on a host timer), so responses carry the node's clock instead: replies are then
 * byte-identical by seed under the virtual clock.
 */
export class NodeHttp {
  readonly globalAgent: realHttp.Agent;
  private readonly Agent: typeof realHttp.Agent;
  private readonly Response: typeof realHttp.ServerResponse;
  private readonly Request: typeof realHttp.IncomingMessage;
  /** Where a throwing request/response listener goes (set by the runtime). */
  faults: AppFaults | undefined;

  constructor(
    private readonly net: NodeNet,
    clock: NodeClock,
  ) {
    const connect = (options: { port?: number | string; host?: string; hostname?: string; timeout?: number }): Socket => {
      const socket = net.connect({ port: Number(options.port ?? 80), host: options.hostname ?? options.host ?? 'localhost' });
      if (typeof options.timeout === 'number') socket.setTimeout(options.timeout);
      return socket;
    };
    class Agent extends realHttp.Agent {
      override createConnection(options: realHttp.ClientRequestArgs, callback?: (e: Error | null, s: Duplex) => void): Duplex {
        const s = connect(options as Parameters<typeof connect>[0]);
        if (callback !== undefined) s.once('connect', () => callback(null, s));
        return s;
      }
    }
    this.Agent = Agent as unknown as typeof realHttp.Agent;
    this.globalAgent = new Agent({ keepAlive: true });
    const RealDate = Date;
    const guard = (): AppFaults | undefined => this.faults;
    // Requests and responses emit from host ticks ('end', 'finish', 'close'): a throwing
    // listener there is the app's uncaught exception too.
    class NodeIncomingMessage extends realHttp.IncomingMessage {
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        return guardedEmit(guard(), () => super.emit(event, ...args));
      }
    }
    this.Request = NodeIncomingMessage;
    class NodeServerResponse extends realHttp.ServerResponse {
      constructor(req: realHttp.IncomingMessage, ...rest: unknown[]) {
        // @ts-expect-error Node 20 passes response options as a second argument the types omit
        super(req, ...rest);
        this.sendDate = false;
        this.setHeader('Date', new RealDate(clock.nowMs()).toUTCString());
      }
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        return guardedEmit(guard(), () => super.emit(event, ...args));
      }
    }
    this.Response = NodeServerResponse as unknown as typeof realHttp.ServerResponse;
  }

  createServer(options?: realHttp.ServerOptions | Listener, listener?: Listener): realHttp.Server {
    if (typeof options === 'function') {
      listener = options;
      options = {};
    }
    const server = realHttp.createServer(
      { ...(options ?? {}), ServerResponse: this.Response, IncomingMessage: this.Request, connectionsCheckingInterval: NEVER_MS } as realHttp.ServerOptions,
      listener,
    );
    const ours = this.net.createServer({ allowHalfOpen: true });
    ours.onConnection = (socket) => server.emit('connection', socket);
    ours.on('error', (e) => server.emit('error', e));
    ours.on('listening', () => server.emit('listening'));
    ours.on('close', () => server.emit('close'));
    const methods = {
      listen(...args: unknown[]) {
        if (typeof args[args.length - 1] === 'function') server.once('listening', args.pop() as () => void);
        ours.listen(...args);
        return server;
      },
      address: () => ours.address(),
      close(callback?: (e?: Error) => void) {
        if (callback !== undefined) {
          if (!ours.listening) {
            ours.close(callback);
            return server;
          }
          server.once('close', callback);
        }
        server.closeIdleConnections();
        stopChecker(server);
        ours.close();
        return server;
      },
      closeAllConnections() {
        for (const s of ours.connections()) s.destroy();
      },
      getConnections: (cb: (e: Error | null, n: number) => void) => ours.getConnections(cb),
      ref: () => server,
      unref: () => server,
    };
    Object.assign(server, methods);
    Object.defineProperty(server, 'listening', { get: () => ours.listening, configurable: true });
    return server;
  }

  request(...args: unknown[]): realHttp.ClientRequest {
    return realHttp.request(...(this.requestArgs(args) as [realHttp.RequestOptions]));
  }

  get(...args: unknown[]): realHttp.ClientRequest {
    const req = this.request(...args);
    req.end();
    return req;
  }

  /** `(url, options?, cb?)` or `(options, cb?)` with our agent in place of Node's. */
  private requestArgs(args: unknown[]): unknown[] {
    const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    let options: Record<string, unknown> = {};
    if (typeof args[0] === 'string' || args[0] instanceof URL) {
      options = { ...urlToHttpOptions(typeof args[0] === 'string' ? new URL(args[0]) : args[0]) };
      if (args[1] !== null && typeof args[1] === 'object') Object.assign(options, args[1]);
    } else if (args[0] !== null && typeof args[0] === 'object') {
      options = { ...(args[0] as Record<string, unknown>) };
    }
    if (options.protocol !== undefined && options.protocol !== 'http:') throw new UnsupportedApiError(`http.request to ${String(options.protocol)}`, 'only http: is served');
    if (options.socketPath !== undefined) throw new UnsupportedApiError('http.request({ socketPath })', 'no Unix domain sockets');
    options._defaultAgent = this.globalAgent;
    if (options.agent === undefined) options.agent = this.globalAgent;
    if (typeof options.createConnection === 'function') throw new UnsupportedApiError('http.request({ createConnection })', 'connections come from the node\'s stack');
    return callback === undefined ? [options] : [options, callback];
  }

  /** The `node:http` module object. */
  module(): Record<string, unknown> {
    const http = this;
    function Server(this: unknown, options?: realHttp.ServerOptions | Listener, listener?: Listener): realHttp.Server {
      return http.createServer(options, listener);
    }
    Server.prototype = realHttp.Server.prototype;
    return {
      ...realHttp,
      Server,
      createServer: this.createServer.bind(this),
      request: this.request.bind(this),
      get: this.get.bind(this),
      Agent: this.Agent,
      globalAgent: this.globalAgent,
    };
  }
}

/** Stops the host interval http.Server started on 'listening' (it would run outside any core). */
function stopChecker(server: realHttp.Server): void {
  for (const sym of Object.getOwnPropertySymbols(server)) {
    if (sym.description === 'http.server.connectionsCheckingInterval') clearInterval((server as unknown as Record<symbol, NodeJS.Timeout>)[sym]);
  }
}

import { createServer, type Server, type Socket } from 'node:net';
import type { AgentFromNode, AgentToNode } from '@ebbrt/interfaces';

/** One node agent's control connection: JSON lines both ways (the runtime's TCP agent channel). */
export class ControlConnection {
  private readonly handlers: ((message: AgentFromNode) => void)[] = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket, pending: string) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    let buffered = pending;
    const drain = (): void => {
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() === '') continue;
        let message: AgentFromNode;
        try {
          message = JSON.parse(line) as AgentFromNode;
        } catch {
          socket.destroy();
          return;
        }
        for (const h of this.handlers) h(message);
      }
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      drain();
    });
    // Lines that came with the hello are handled once someone listens.
    queueMicrotask(drain);
  }

  /** The node's host as this front-end sees it: where its Messenger forward is reached. */
  get remoteHost(): string {
    return (this.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  }

  onMessage(handler: (message: AgentFromNode) => void): void {
    this.handlers.push(handler);
  }

  send(message: AgentToNode): void {
    if (!this.socket.destroyed) this.socket.write(JSON.stringify(message) + '\n');
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The front-end's one control port: every node job dials it and names its launch with a `hello`
 * token (EBBRT_AGENT_TOKEN), so one firewall rule covers every node. A connection that does not
 * say hello with a known token within a few seconds is dropped.
 */
export class ControlServer {
  private readonly expected = new Map<string, (connection: ControlConnection) => void>();
  private readonly server: Server;
  readonly listening: Promise<number>;

  constructor(bind: string, port: number) {
    this.server = createServer((socket) => this.accept(socket));
    this.server.unref();
    this.listening = new Promise((resolve, reject) => {
      this.server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`@ebbrt/platform-slurm: the control port cannot listen on ${bind}:${port}: ${e.code ?? e.message}`)));
      this.server.listen(port, bind, () => resolve((this.server.address() as { port: number }).port));
    });
  }

  /** Resolves `arrived` when the agent launched with `token` dials in. */
  expect(token: string, arrived: (connection: ControlConnection) => void): void {
    this.expected.set(token, arrived);
  }

  forget(token: string): void {
    this.expected.delete(token);
  }

  private accept(socket: Socket): void {
    socket.setEncoding('utf8');
    let buffered = '';
    const timer = setTimeout(() => socket.destroy(), 5_000);
    const onData = (chunk: string): void => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > 4096) socket.destroy();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      let hello: AgentFromNode | undefined;
      try {
        hello = JSON.parse(buffered.slice(0, nl)) as AgentFromNode;
      } catch {
        hello = undefined;
      }
      const arrived = hello?.type === 'hello' ? this.expected.get(hello.token) : undefined;
      if (arrived === undefined || hello?.type !== 'hello') return void socket.destroy();
      this.expected.delete(hello.token);
      arrived(new ControlConnection(socket, buffered.slice(nl + 1)));
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }

  close(): void {
    this.server.close();
  }
}

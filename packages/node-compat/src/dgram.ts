import { EventEmitter } from 'node:events';
import { IOBuf, type UdpSocket } from '@ebbrt/interfaces';
import type { NodeDns } from './dns.js';
import type { NodeEbbs } from './host.js';
import { UnsupportedApiError } from './host.js';
import { systemError } from './net/errors.js';

type SendCallback = (error: Error | null, bytes?: number) => void;

/**
 * `dgram.Socket` (udp4) over `NetworkManager.udpBind`. Datagrams arrive as 'message' on the app's
 * core. An unbound socket binds an ephemeral port on its first send, as Node's does.
 */
export class DgramSocket extends EventEmitter {
  private socket: UdpSocket | undefined;
  private closed = false;
  private boundAddress = '0.0.0.0';

  constructor(
    private readonly ebbs: NodeEbbs,
    private readonly dns: NodeDns,
  ) {
    super();
  }

  bind(...args: unknown[]): this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    if (callback !== undefined) this.once('listening', callback);
    let port: unknown = 0;
    let address: unknown;
    if (args[0] !== null && typeof args[0] === 'object') ({ port = 0, address } = args[0] as { port?: number; address?: string });
    else [port = 0, address] = args as [number?, string?];
    if (this.socket !== undefined) throw Object.assign(new Error('Socket is already bound'), { code: 'ERR_SOCKET_ALREADY_BOUND' });
    if (typeof address === 'string' && address !== '0.0.0.0') this.boundAddress = this.dns.resolve4(address, 'bind');
    let socket: UdpSocket;
    try {
      socket = this.ebbs.network.deref().udpBind(Number(port), (from, data) => this.deliver(from, data));
    } catch (e) {
      const err = e as Error;
      this.ebbs.events.deref().spawn(() => void this.emit('error', systemError(/in use/.test(err.message) ? 'EADDRINUSE' : 'EINVAL', 'bind', err.message)), { async: true });
      return this;
    }
    this.socket = socket;
    this.ebbs.settleOnApp(socket.bound).then(
      () => this.emit('listening'),
      (e: Error) => this.emit('error', systemError(/in use/.test(e.message) ? 'EADDRINUSE' : 'EINVAL', 'bind', e.message)),
    );
    return this;
  }

  private deliver(from: { address: string; port: number }, data: IOBuf): void {
    const msg = Buffer.from(data.toUint8Array());
    data.releaseChain();
    if (this.closed) return;
    this.ebbs.onApp(() => this.emit('message', msg, { address: from.address, family: 'IPv4', port: from.port, size: msg.length }));
  }

  /** `send(msg, [offset, length,] port, address?, cb?)`; msg a Buffer, string, or an array of them. */
  send(...args: unknown[]): void {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as SendCallback) : undefined;
    let msg = args[0] as Buffer | string | (Buffer | string)[];
    let rest = args.slice(1);
    if (typeof rest[0] === 'number' && typeof rest[1] === 'number' && rest.length >= 3) {
      const [offset, length] = rest as [number, number];
      msg = Buffer.from(typeof msg === 'string' ? Buffer.from(msg) : (msg as Buffer)).subarray(offset, offset + length);
      rest = rest.slice(2);
    }
    const [port, address = 'localhost'] = rest as [number, string?];
    if (this.closed) throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const bytes = Buffer.concat((Array.isArray(msg) ? msg : [msg]).map((m) => (typeof m === 'string' ? Buffer.from(m) : Buffer.from(m as Uint8Array))));
    if (this.socket === undefined) this.bind(0);
    const socket = this.socket;
    const finish = (e: Error | null): void => {
      if (callback !== undefined) this.ebbs.events.deref().spawn(() => callback(e, e === null ? bytes.length : undefined), { async: true });
      else if (e !== null) this.emit('error', e);
    };
    if (socket === undefined) return finish(systemError('EINVAL', 'send', 'the socket could not be bound'));
    let target: string;
    try {
      target = this.dns.resolve4(address, 'send');
    } catch (e) {
      return finish(e as Error);
    }
    socket.bound.then(
      () => {
        try {
          socket.sendTo(target, Number(port), IOBuf.copyOf(bytes));
          finish(null);
        } catch (e) {
          finish(systemError('EINVAL', 'send', (e as Error).message));
        }
      },
      (e: Error) => finish(e),
    );
  }

  close(callback?: () => void): this {
    if (this.closed) throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    this.closed = true;
    this.socket?.close();
    if (callback !== undefined) this.once('close', callback);
    this.ebbs.events.deref().spawn(() => void this.emit('close'), { async: true });
    return this;
  }

  address(): { address: string; family: string; port: number } {
    if (this.socket === undefined) throw Object.assign(new Error('getsockname EBADF'), { code: 'EBADF', syscall: 'getsockname' });
    return { address: this.boundAddress, family: 'IPv4', port: this.socket.port };
  }

  setBroadcast(): void {}
  setTTL(ttl: number): number {
    return ttl;
  }
  setRecvBufferSize(): void {}
  setSendBufferSize(): void {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  addMembership(): never {
    throw new UnsupportedApiError('dgram.Socket.addMembership', 'the stack has no multicast');
  }
  connect(): never {
    throw new UnsupportedApiError('dgram.Socket.connect', 'use send(msg, port, address)');
  }
}

export function dgramModule(ebbs: NodeEbbs, dns: NodeDns): Record<string, unknown> {
  return {
    createSocket(type: string | { type: string }, listener?: (msg: Buffer, rinfo: unknown) => void): DgramSocket {
      const kind = typeof type === 'string' ? type : type.type;
      if (kind !== 'udp4') throw new UnsupportedApiError(`dgram.createSocket('${kind}')`, 'the stack is IPv4 only (udp4)');
      const s = new DgramSocket(ebbs, dns);
      if (listener !== undefined) s.on('message', listener);
      return s;
    },
    Socket: DgramSocket,
  };
}

// A listening port (tcpListen, or the gateway's any-port listener).

import type { TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';
import type { TcpStack } from './stack.js';

export class TcpListenerImpl implements TcpListener {
  readonly listening: Promise<void> = Promise.resolve();
  closed = false;
  /** Half-open connections. */
  halfOpen = 0;
  constructor(
    private readonly stack: TcpStack,
    readonly port: number,
    readonly accept: (connection: TcpConnection) => TcpHandler,
    readonly core: number,
  ) {}
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stack.unlisten(this);
  }
}


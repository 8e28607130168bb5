// A listening port (tcpListen, or the gateway's any-port listener).

import type { TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';
import type { TcpPcb } from './pcb.js';
import type { TcpStack } from './stack.js';

export class TcpListenerImpl implements TcpListener {
  readonly listening: Promise<void> = Promise.resolve();
  closed = false;
  /** Half-open (SYN_RCVD) connections, oldest first (a Set keeps insertion order). */
  readonly halfOpen = new Set<TcpPcb>();
  /** Until when an ACK to this listener may carry a SYN cookie we sent (ns; -1: never sent one). */
  cookiesUntilNs = -1;
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


import { OutOfMemoryError, type IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { AsciiSession } from '../protocol/ascii/session.js';
import { BinarySession } from '../protocol/binary/session.js';
import { REQUEST_MAGIC } from '../protocol/binary/opcodes.js';
import type { ProtocolContext } from '../protocol/context.js';
import { InputQueue } from '../protocol/input.js';
import { ReplyBuilder } from '../protocol/output.js';
import { Action, type Session } from '../protocol/session.js';

/** Hooks a connection needs from its server. */
export interface ConnectionHost {
  readonly ctx: ProtocolContext;
  allocate(size: number): IOBuf;
  onOutOfMemory(bytes: number): void;
  /** A reply for when not even a reply buffer can be had (a view of a buffer allocated at start). */
  outOfMemoryReply(binary: boolean): IOBuf;
  forget(connection: MemcachedConnection): void;
  log(line: string): void;
  /** A receive has been handled (the host may look at memory pressure). */
  received(): void;
}

/**
 * One client connection: buffers the unparsed residue across receives, picks
 * the protocol from the first byte (0x80 = binary, like memcached), runs every
 * complete request in what arrived, and sends all of their replies as one
 * chain with a single `sendQueued`. Anything that goes wrong stays on this
 * connection: it is answered and/or closed, never thrown into the stack.
 */
export class MemcachedConnection implements TcpHandler {
  private readonly input = new InputQueue();
  private readonly out: ReplyBuilder;
  private session: Session | null = null;
  private binary = false;
  private open = true;

  constructor(
    private readonly host: ConnectionHost,
    readonly tcp: TcpConnection,
  ) {
    this.out = new ReplyBuilder(
      (size) => host.allocate(size),
      (bytes) => host.onOutOfMemory(bytes),
    );
  }

  receive(conn: TcpConnection, data: IOBuf): void {
    if (!this.open) {
      data.releaseChain();
      return;
    }
    const input = this.input;
    input.push(data);
    if (input.length === 0) return;
    if (this.session === null) {
      this.binary = input.byteAt(0) === REQUEST_MAGIC;
      this.session = this.binary ? new BinarySession(this.host.ctx) : new AsciiSession(this.host.ctx);
    }
    let action: Action;
    try {
      action = this.session.process(input, this.out);
    } catch (error) {
      action = Action.Close;
      this.host.ctx.connections.protocol_errors++;
      this.host.log(`memcached: connection from ${conn.remoteAddress}:${conn.remotePort} failed: ${(error as Error)?.stack ?? String(error)}`);
      // Whatever was half built is dropped; out of memory still gets its answer.
      this.out.dispose();
      if (error instanceof OutOfMemoryError) this.out.chain(this.host.outOfMemoryReply(this.binary));
    }
    const reply = this.out.finish();
    if (reply !== null) conn.sendQueued(reply);
    if (action === Action.Close) this.shutdown(conn);
    this.host.received();
  }

  closed(conn: TcpConnection): void {
    this.shutdown(conn);
  }

  aborted(): void {
    this.release();
  }

  /** Closes our side (flushing what was queued) and lets go of everything. */
  shutdown(conn: TcpConnection = this.tcp): void {
    if (!this.open) return;
    this.release();
    conn.close();
  }

  private release(): void {
    if (!this.open) return;
    this.open = false;
    this.input.clear();
    this.out.dispose();
    this.host.forget(this);
  }
}

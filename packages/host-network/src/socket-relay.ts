import type { Socket } from 'node:net';
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';

export interface RelayStats {
  accepted: number;
  active: number;
  /** Host → node payload bytes. */
  bytesIn: number;
  /** Node → host payload bytes. */
  bytesOut: number;
  /** Connections refused or reset by either side. */
  failed: number;
}

export function newRelayStats(): RelayStats {
  return { accepted: 0, active: 0, bytesIn: 0, bytesOut: 0, failed: 0 };
}

/**
 * Joins a host socket and a connection of the gateway's stack: bytes, half-closes (FIN) and
 * resets cross both ways. Host-side callbacks come from Node's loop and enter the gateway's core
 * through `post`; stack callbacks run on that core. Host → node honours the stack's send window
 * (the socket pauses while it is closed); node → host is copied out at once, because the received
 * views belong to the gateway's allocator and a host write completes later.
 */
export class SocketRelay implements TcpHandler {
  private conn: TcpConnection | undefined;
  private hostEnded = false;
  private nodeClosed = false;
  private finished = false;
  /** Node → host chunks of this scheduler chain, written together in the next check phase (see receive). */
  private readonly outbox: Buffer[] = [];
  private flushQueued = false;
  /** Host chunks not yet handed to the stack (see the 'data' handler). */
  private readonly inbox: Buffer[] = [];
  private inboxPosted = false;
  private readonly drainInbox = (): void => {
    this.inboxPosted = false;
    const conn = this.conn;
    const inbox = this.inbox;
    if (conn !== undefined) for (let i = 0; i < inbox.length; i++) conn.sendQueued(IOBuf.wrap(inbox[i]!));
    inbox.length = 0;
    if (conn !== undefined && conn.sendWindowRemaining() === 0) this.socket.pause();
  };
  private readonly flushLater = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(
    private readonly socket: Socket,
    private readonly post: (fn: () => void) => void,
    private readonly stats: RelayStats,
    private readonly onFinish: () => void,
    private readonly onAbort: (reason: Error) => void,
  ) {
    stats.accepted++;
    stats.active++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
      // One post per turn, not one closure per chunk: the chunks of one poll phase enter the
      // gateway's core together (and in order: 'end' and 'close' post after them).
      this.inbox.push(chunk);
      if (!this.inboxPosted) {
        this.inboxPosted = true;
        this.post(this.drainInbox);
      }
    });
    socket.on('end', () => {
      this.hostEnded = true;
      this.post(() => {
        if (this.conn === undefined) return;
        if (this.nodeClosed) this.conn.close();
        else this.conn.shutdown();
      });
    });
    socket.on('error', () => undefined);
    socket.on('close', (hadError) => {
      if (hadError) this.stats.failed++;
      this.finish();
      if (hadError || !this.hostEnded) {
        this.post(() => {
          this.conn?.abort();
          this.conn = undefined;
        });
      }
    });
  }

  /** The stack side, once it exists (accepted, or returned by tcpConnect). Call on the gateway's core. */
  attach(conn: TcpConnection): void {
    if (this.socket.destroyed) conn.abort();
    else this.conn = conn;
  }

  connected(): void {
    this.socket.resume();
  }

  receive(_c: TcpConnection, data: IOBuf): void {
    const bytes = copyOut(data);
    data.releaseChain();
    this.stats.bytesOut += bytes.length;
    if (this.socket.destroyed) return;
    // A profile of the port forward under memcaslap put ~40 % of the busy time in node:net's
    // writeBuffer (one loopback write syscall per segment, the kernel delivering each inline,
    // and waking the client, which then often preempts us on these 2 cores). The chunks of a
    // whole chain of scheduler steps leave together in the next check phase (setImmediate, not
    // nextTick: the chained scheduler drains ticks after every step, which spread the writes,
    // and so the client's wake-ups, between the steps). Not through cork/uncork: with the usual
    // one reply per connection, that machinery (a buffered entry, clearBuffer) was overhead.
    this.outbox.push(bytes);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushLater);
    }
  }

  /** Writes the outbox: one chunk as is, several as one Buffer (one write, one syscall). */
  private flush(): void {
    const out = this.outbox;
    if (out.length === 0) return;
    if (!this.socket.destroyed) this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    out.length = 0;
  }

  closed(c: TcpConnection): void {
    this.nodeClosed = true;
    this.flush(); // what arrived before the FIN goes first
    this.socket.end();
    if (this.hostEnded) c.close();
  }

  aborted(_c: TcpConnection, reason: Error): void {
    this.stats.failed++;
    this.conn = undefined;
    this.outbox.length = 0;
    this.socket.destroy();
    this.finish();
    if (!this.hostEnded) this.onAbort(reason);
  }

  sendWindowIncreased(): void {
    this.socket.resume();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stats.active--;
    this.onFinish();
  }
}

/**
 * The chain's bytes in a Buffer of their own (the views belong to the gateway's allocator). A
 * Buffer, not `IOBuf.toUint8Array`'s Uint8Array: small Buffers come from Node's pool (a fresh
 * ArrayBuffer per reply was ~2 % of the forward's profile), and node:net writes a Buffer as is.
 */
function copyOut(data: IOBuf): Buffer {
  if (!data.isChained()) return Buffer.copyBytesFrom(data.bytes, data.offset, data.length);
  const out = Buffer.allocUnsafe(data.computeChainDataLength());
  let at = 0;
  let e = data;
  do {
    out.set(e.bytes.subarray(e.offset, e.offset + e.length), at);
    at += e.length;
    e = e.next;
  } while (e !== data);
  return out;
}

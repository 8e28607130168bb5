/**
 * The Messenger's wire format and a zero-copy, never-throwing stream decoder.
 *
 * Every frame is a 12-byte big-endian header followed by `length` payload bytes:
 *
 * ```
 *  0               4               8               12
 *  | length (u32)  | typeCode (u32)| ebbId (u32)   | payload ...
 * ```
 *
 * `ebbId` 0 is never a valid EbbId, so it marks a control frame. The only control frame is the
 * HELLO (typeCode 1), which must be the first frame on every connection, in both directions:
 *
 * ```
 *  | 12 | 1 | 0 | magic "EBMS" (u32) | version (u32) | networkId (u32) |
 *  | 16 | 1 | 0 | magic "EBMS" (u32) | version (u32) | networkId (u32) | incarnation (u32) |
 * ```
 *
 * The 16-byte form is sent by a node that restarted (incarnation > 0: its restarts so far), so
 * its peers can tell its new connections from the stale ones of its previous life. A first life
 * sends the 12-byte form, byte for byte what it always was.
 */
import { IOBuf } from '@ebbrt/interfaces';

export const HEADER_BYTES = 12;
/** "EBMS" */
export const HELLO_MAGIC = 0x45424d53;
export const PROTOCOL_VERSION = 1;
export const CONTROL_EBB_ID = 0;
export const HELLO_TYPE = 1;
export const HELLO_PAYLOAD_BYTES = 12;
/** A restarted node's HELLO: the 12 bytes and its incarnation. */
export const HELLO_INCARNATION_PAYLOAD_BYTES = 16;

/** A header in its own small buffer, then the payload chain spliced behind it (no payload copy). */
export function encodeFrame(ebbId: number, typeCode: number, payload: IOBuf): IOBuf {
  const length = payload.computeChainDataLength();
  const header = IOBuf.allocate(HEADER_BYTES);
  const view = header.storage.dataView;
  view.setUint32(0, length, false);
  view.setUint32(4, typeCode >>> 0, false);
  view.setUint32(8, ebbId >>> 0, false);
  return header.appendChain(payload);
}

/** The HELLO frame announcing `networkId`, as one buffer. */
export function encodeHello(networkId: number, magic = HELLO_MAGIC, version = PROTOCOL_VERSION, incarnation = 0): IOBuf {
  const payload = incarnation > 0 ? HELLO_INCARNATION_PAYLOAD_BYTES : HELLO_PAYLOAD_BYTES;
  const buf = IOBuf.allocate(HEADER_BYTES + payload);
  const view = buf.storage.dataView;
  view.setUint32(0, payload, false);
  view.setUint32(4, HELLO_TYPE, false);
  view.setUint32(8, CONTROL_EBB_ID, false);
  view.setUint32(12, magic >>> 0, false);
  view.setUint32(16, version >>> 0, false);
  view.setUint32(20, networkId >>> 0, false);
  if (incarnation > 0) view.setUint32(24, incarnation >>> 0, false);
  return buf;
}

/** What a decoder hands out. `message` owns `payload` (views of the received buffers). */
export interface FrameSink {
  /** The peer's HELLO (`incarnation` 0 from a 12-byte one); return a reason to refuse it (the decoder then fails). */
  hello(networkId: number, incarnation: number): string | undefined;
  message(ebbId: number, typeCode: number, payload: IOBuf): void;
}

export type DecodeErrorKind =
  | 'bad-magic'
  | 'bad-version'
  | 'bad-hello'
  | 'duplicate-hello'
  | 'unknown-control'
  | 'before-hello'
  | 'too-long'
  | 'refused';

export interface DecodeError {
  readonly kind: DecodeErrorKind;
  readonly message: string;
}

/**
 * Turns a TCP byte stream (a sequence of IOBuf chains of any segmentation) into frames.
 * Payloads are handed out as views of the received elements: an element wholly inside one
 * payload is passed on as is, one straddling a boundary is cloned and narrowed, so nothing is
 * copied. Bad input never throws: {@link push} returns a {@link DecodeError} once, after which
 * the decoder is failed and releases whatever it is given.
 */
export class FrameDecoder {
  private head: IOBuf | null = null;
  private avail = 0;
  /** Payload length of the header already parsed, or -1. */
  private need = -1;
  private ebbId = 0;
  private typeCode = 0;
  private greeted = false;
  private failed: DecodeError | undefined;
  private disposed = false;
  /** The networkId from the peer's HELLO. */
  peer: number | undefined;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly sink: FrameSink,
  ) {}

  get error(): DecodeError | undefined {
    return this.failed;
  }

  /** Bytes received but not yet delivered. */
  get buffered(): number {
    return this.avail;
  }

  /** Takes ownership of `data`. Returns an error the first time the stream turns out bad. */
  push(data: IOBuf): DecodeError | undefined {
    if (this.failed !== undefined || this.disposed) {
      data.releaseChain();
      return undefined;
    }
    const n = data.computeChainDataLength();
    if (this.head === null) this.head = data;
    else this.head.appendChain(data);
    this.avail += n;
    while (this.failed === undefined && !this.disposed) {
      if (this.need < 0) {
        if (this.avail < HEADER_BYTES) break;
        const c = this.head!.cursor();
        const length = c.u32be();
        const typeCode = c.u32be();
        const ebbId = c.u32be();
        this.consume(HEADER_BYTES);
        const bad = this.checkHeader(length, typeCode, ebbId);
        if (bad !== undefined) return this.fail(bad);
        this.need = length;
        this.typeCode = typeCode;
        this.ebbId = ebbId;
      }
      if (this.avail < this.need) break;
      const payload = this.take(this.need);
      this.need = -1;
      if (this.ebbId === CONTROL_EBB_ID) {
        const bad = this.hello(payload);
        if (bad !== undefined) return this.fail(bad);
      } else {
        this.sink.message(this.ebbId, this.typeCode, payload);
      }
    }
    return this.failed;
  }

  /** Releases every buffered byte; later pushes are released at once. */
  dispose(): void {
    this.disposed = true;
    this.releaseAll();
  }

  private checkHeader(length: number, typeCode: number, ebbId: number): DecodeError | undefined {
    if (ebbId === CONTROL_EBB_ID) {
      if (typeCode !== HELLO_TYPE) return err('unknown-control', `unknown control frame type ${typeCode}`);
      if (this.greeted) return err('duplicate-hello', 'a second HELLO on the same connection');
      if (length !== HELLO_PAYLOAD_BYTES && length !== HELLO_INCARNATION_PAYLOAD_BYTES) {
        return err('bad-hello', `HELLO of ${length} bytes (expected ${HELLO_PAYLOAD_BYTES}, or ${HELLO_INCARNATION_PAYLOAD_BYTES} with an incarnation)`);
      }
      return undefined;
    }
    if (!this.greeted) return err('before-hello', `a message (ebb 0x${ebbId.toString(16)}, type ${typeCode}) before HELLO`);
    if (length > this.maxMessageBytes) {
      return err('too-long', `a message of ${length} bytes exceeds maxMessageBytes (${this.maxMessageBytes})`);
    }
    return undefined;
  }

  private hello(payload: IOBuf): DecodeError | undefined {
    const c = payload.cursor();
    const magic = c.u32be();
    const version = c.u32be();
    const networkId = c.u32be();
    const incarnation = payload.computeChainDataLength() >= HELLO_INCARNATION_PAYLOAD_BYTES ? c.u32be() : 0;
    payload.releaseChain();
    if (magic !== HELLO_MAGIC) return err('bad-magic', `bad magic 0x${magic.toString(16)} (not an EbbRT-TS messenger)`);
    if (version !== PROTOCOL_VERSION) return err('bad-version', `protocol version ${version} (this node speaks ${PROTOCOL_VERSION})`);
    this.greeted = true;
    this.peer = networkId;
    const refused = this.sink.hello(networkId, incarnation);
    if (refused !== undefined) return err('refused', refused);
    return undefined;
  }

  private fail(error: DecodeError): DecodeError {
    this.failed = error;
    this.releaseAll();
    return error;
  }

  private releaseAll(): void {
    if (this.head !== null) this.head.releaseChain();
    this.head = null;
    this.avail = 0;
  }

  /** Drops `n` bytes from the front. */
  private consume(n: number): void {
    this.avail -= n;
    while (n > 0) {
      const e = this.head!;
      if (e.length <= n) {
        n -= e.length;
        this.head = e.pop();
        e.release();
      } else {
        e.advance(n);
        n = 0;
      }
    }
    this.dropEmpty();
  }

  /** Detaches the first `n` bytes as a chain of their own (views, no copy). */
  private take(n: number): IOBuf {
    this.avail -= n;
    let out: IOBuf | null = null;
    while (n > 0) {
      const e = this.head!;
      let piece: IOBuf;
      if (e.length <= n) {
        this.head = e.pop();
        piece = e;
      } else {
        piece = e.clone();
        piece.trimEnd(piece.length - n);
        e.advance(n);
      }
      n -= piece.length;
      if (piece.length === 0) piece.release();
      else if (out === null) out = piece;
      else out.appendChain(piece);
    }
    this.dropEmpty();
    return out ?? IOBuf.allocate(0);
  }

  private dropEmpty(): void {
    while (this.head !== null && this.head.length === 0) {
      const e = this.head;
      this.head = e.pop();
      e.release();
    }
  }
}

function err(kind: DecodeErrorKind, message: string): DecodeError {
  return { kind, message };
}

/**
 * memcached binary protocol framing for the load generator: requests built from templates into a
 * caller's buffer (no allocation per request), and a streaming response parser that accepts the
 * bytes in whatever pieces TCP delivers them: a header split across reads, several responses
 * coalesced in one read, a value split anywhere.
 *
 * Only the fields a load generator needs are decoded (opcode, status, opaque, total body length);
 * the body is skipped without being copied.
 */

export const HEADER_BYTES = 24;
export const MAGIC_REQUEST = 0x80;
export const MAGIC_RESPONSE = 0x81;
export const OP_GET = 0x00;
export const OP_SET = 0x01;
/** The only status besides 0 a GET of this workload may get: the key is not there. */
export const STATUS_KEY_NOT_FOUND = 0x0001;
/** Larger bodies are certainly a framing error, not a response of this workload. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Bytes of a binary GET of a `keyBytes` key. */
export const getRequestBytes = (keyBytes: number): number => HEADER_BYTES + keyBytes;
/** Bytes of a binary SET (8 B extras: flags, expiry) of a `keyBytes` key and `valueBytes` value. */
export const setRequestBytes = (keyBytes: number, valueBytes: number): number => HEADER_BYTES + 8 + keyBytes + valueBytes;

/**
 * Writes a binary GET or SET into `out` at `at` and returns the bytes written. `value` is
 * ignored for GET. flags, expiry and cas are 0.
 */
export function encodeRequest(out: Uint8Array, at: number, op: typeof OP_GET | typeof OP_SET, key: Uint8Array, value: Uint8Array | undefined, opaque: number): number {
  if (key.length === 0 || key.length > 250) throw new RangeError(`memcached key must be 1..250 bytes, got ${key.length}`);
  const extras = op === OP_SET ? 8 : 0;
  const vlen = op === OP_SET ? (value?.length ?? 0) : 0;
  const total = HEADER_BYTES + extras + key.length + vlen;
  if (at < 0 || at + total > out.length) throw new RangeError(`request of ${total} bytes does not fit at ${at} in a ${out.length}-byte buffer`);
  out.fill(0, at, at + HEADER_BYTES + extras);
  out[at] = MAGIC_REQUEST;
  out[at + 1] = op;
  out[at + 2] = key.length >>> 8;
  out[at + 3] = key.length & 0xff;
  out[at + 4] = extras;
  writeU32(out, at + 8, extras + key.length + vlen);
  writeU32(out, at + 12, opaque);
  out.set(key, at + HEADER_BYTES + extras);
  if (vlen > 0) out.set(value!, at + HEADER_BYTES + extras + key.length);
  return total;
}

/** Overwrites the opaque field of a request (or response) that starts at `at`. */
export function setOpaque(buf: Uint8Array, at: number, opaque: number): void {
  writeU32(buf, at + 12, opaque);
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** Called once per complete response, after its last body byte arrived. */
export type ResponseHandler = (opcode: number, status: number, opaque: number, bodyBytes: number) => void;

/** The stream did not start a response where one was due: the connection is unusable. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/**
 * Incremental parser of a stream of binary responses. `feed` as many times as data arrives; the
 * handler runs for each response once its whole body was fed. After a FramingError the parser
 * stays failed (every later feed throws the same error).
 */
export class ResponseParser {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerHave = 0;
  /** Body bytes still to skip of the current response; -1 while its header is incomplete. */
  private bodyLeft = -1;
  private opcode = 0;
  private status = 0;
  private opaque = 0;
  private bodyBytes = 0;
  private failed: FramingError | undefined;
  /** Complete responses parsed so far. */
  responses = 0;

  constructor(private readonly onResponse: ResponseHandler) {}

  /** True when no response is partly received. */
  get idle(): boolean {
    return this.bodyLeft < 0 && this.headerHave === 0;
  }

  feed(bytes: Uint8Array, offset = 0, length = bytes.length - offset): void {
    if (this.failed !== undefined) throw this.failed;
    let i = offset;
    const end = offset + length;
    while (i < end) {
      if (this.bodyLeft < 0) {
        if (this.headerHave === 0 && end - i >= HEADER_BYTES) {
          // The common case: a whole header in this piece, decoded in place.
          this.decode(bytes, i);
          i += HEADER_BYTES;
        } else {
          const k = Math.min(HEADER_BYTES - this.headerHave, end - i);
          for (let j = 0; j < k; j++) this.header[this.headerHave + j] = bytes[i + j]!;
          this.headerHave += k;
          i += k;
          if (this.headerHave < HEADER_BYTES) return;
          this.headerHave = 0;
          this.decode(this.header, 0);
        }
      }
      const k = Math.min(this.bodyLeft, end - i);
      i += k;
      this.bodyLeft -= k;
      if (this.bodyLeft === 0) {
        this.bodyLeft = -1;
        this.responses++;
        this.onResponse(this.opcode, this.status, this.opaque, this.bodyBytes);
      }
    }
  }

  private decode(b: Uint8Array, at: number): void {
    if (b[at] !== MAGIC_RESPONSE) {
      this.failed = new FramingError(`expected a binary response (magic 0x81) after ${this.responses} responses, got byte 0x${b[at]!.toString(16).padStart(2, '0')}`);
      throw this.failed;
    }
    this.opcode = b[at + 1]!;
    this.status = (b[at + 6]! << 8) | b[at + 7]!;
    this.bodyBytes = ((b[at + 8]! << 24) | (b[at + 9]! << 16) | (b[at + 10]! << 8) | b[at + 11]!) >>> 0;
    this.opaque = ((b[at + 12]! << 24) | (b[at + 13]! << 16) | (b[at + 14]! << 8) | b[at + 15]!) >>> 0;
    if (this.bodyBytes > MAX_BODY_BYTES) {
      this.failed = new FramingError(`response ${this.responses + 1} claims a ${this.bodyBytes}-byte body (more than ${MAX_BODY_BYTES}): the stream is out of step`);
      throw this.failed;
    }
    this.bodyLeft = this.bodyBytes;
  }
}

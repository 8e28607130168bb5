/**
 * Wire format of FileSystem requests and replies, carried by the Messenger between the
 * FileSystem Ebbs (SystemEbbIds.FileSystem) of a node and of the home (big-endian):
 *
 * - REQUEST (type 1): `requestId u32 | core u16 | op u8 | 0 u8 | pathLength u32 | path (UTF-8) | data`
 *   (data: the bytes to write or append; `offset f64 | length u32` for read; `offset f64 | bytes` for
 *   write; `length f64` for truncate; `recursive u8` for mkdir; the target path (UTF-8) for rename;
 *   empty for the other ops).
 * - REPLY (type 2): `requestId u32 | core u16 | status u8 (0 ok, 1 error) | 0 u8 | body`: the file's
 *   bytes (readFile, read), JSON (stat, lstat: FileStat; readdir: string[]), nothing (the rest), or for an error
 *   JSON `{ code, detail }`.
 */
import { IOBuf } from '@ebbrt/interfaces';

export const REQUEST = 1;
export const REPLY = 2;
export const HEADER_BYTES = 8;
export const OK = 0;
export const ERROR = 1;

// New ops go at the end: a request names its op by index.
export const OPS = ['readFile', 'writeFile', 'appendFile', 'stat', 'readdir', 'lstat', 'read', 'write', 'truncate', 'mkdir', 'unlink', 'rmdir', 'rename'] as const;
/** Ops whose request carries data after the path. */
export const CARRIES_DATA: ReadonlySet<Op> = new Set<Op>(['writeFile', 'appendFile', 'read', 'write', 'truncate', 'mkdir', 'rename']);
export type Op = (typeof OPS)[number];

export interface Header {
  readonly requestId: number;
  readonly core: number;
  readonly byte6: number;
}

const encoder = new TextEncoder();

export function encodeRequest(requestId: number, core: number, op: Op, path: string, data?: IOBuf): IOBuf {
  const p = encoder.encode(path);
  const head = new Uint8Array(HEADER_BYTES + 4 + p.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, requestId);
  view.setUint16(4, core);
  head[6] = OPS.indexOf(op);
  view.setUint32(8, p.length);
  head.set(p, 12);
  const out = IOBuf.wrap(head);
  if (data !== undefined) out.appendChain(data);
  return out;
}

export function encodeReply(header: Header, status: number, body?: Uint8Array): IOBuf {
  const head = new Uint8Array(HEADER_BYTES + (body !== undefined && body.length <= 4096 ? body.length : 0));
  const view = new DataView(head.buffer);
  view.setUint32(0, header.requestId);
  view.setUint16(4, header.core);
  head[6] = status;
  if (body === undefined || body.length === 0) return IOBuf.wrap(head);
  if (head.length > HEADER_BYTES) {
    head.set(body, HEADER_BYTES);
    return IOBuf.wrap(head);
  }
  // A large body (a file) is chained as it is: no copy.
  return IOBuf.wrap(head).appendChain(IOBuf.wrap(body));
}

export function take(message: IOBuf): Uint8Array {
  try {
    return message.toUint8Array();
  } finally {
    message.releaseChain();
  }
}

export function readHeader(bytes: Uint8Array): Header | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { requestId: view.getUint32(0), core: view.getUint16(4), byte6: bytes[6]! };
}

/** Data of a write as an IOBuf chain (takes ownership of an IOBuf). */
export function toIOBuf(data: IOBuf | Uint8Array | string): IOBuf {
  if (typeof data === 'string') return IOBuf.wrap(encoder.encode(data));
  if (data instanceof Uint8Array) return IOBuf.wrap(data);
  return data;
}

export function byteLength(data: IOBuf | Uint8Array | string): number {
  if (typeof data === 'string') return encoder.encode(data).length;
  if (data instanceof Uint8Array) return data.length;
  return data.computeChainDataLength();
}

/** `values` as consecutive big-endian f64s (offsets and lengths past 2^32 stay exact up to 2^53). */
export function numbers(...values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(8 * i, v));
  return out;
}

/** The `index`th f64 of `bytes` (NaN when it is too short, which the checks refuse). */
export function numberAt(bytes: Uint8Array, index: number): number {
  if (bytes.length < 8 * (index + 1)) return Number.NaN;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(8 * index);
}

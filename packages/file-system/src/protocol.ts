/**
 * Wire format of FileSystem requests and replies, carried by the Messenger between the
 * FileSystem Ebbs (SystemEbbIds.FileSystem) of a node and of the home (big-endian):
 *
 * - REQUEST (type 1): `requestId u32 | core u16 | op u8 | 0 u8 | pathLength u32 | path (UTF-8) | data`
 *   (data: the bytes to write or append; empty for the other ops).
 * - REPLY (type 2): `requestId u32 | core u16 | status u8 (0 ok, 1 error) | 0 u8 | body`: the file's
 *   bytes (readFile), JSON (stat: FileStat; readdir: string[]), nothing (writes), or for an error
 *   JSON `{ code, detail }`.
 */
import { IOBuf } from '@ebbrt/interfaces';

export const REQUEST = 1;
export const REPLY = 2;
export const HEADER_BYTES = 8;
export const OK = 0;
export const ERROR = 1;

export const OPS = ['readFile', 'writeFile', 'appendFile', 'stat', 'readdir'] as const;
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

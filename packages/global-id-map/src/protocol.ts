/**
 * Wire format of GlobalIdMap requests and replies, carried by the Messenger to the GlobalIdMap
 * Ebb (SystemEbbIds.GlobalIdMap) of the home node and back. Every payload starts with
 * `requestId u32 | core u16 | flags u16` (big-endian): the asking core's own request counter and
 * index, echoed in the reply so the asking node routes it to that core.
 *
 * | type | payload after the 8-byte header |
 * | --- | --- |
 * | GET (1) | `id u32` |
 * | SET (2) | `id u32`, then the data (UTF-8) |
 * | REPLY (3) | `status u8` (0 = no entry, 1 = found, 2 = error), then the data (UTF-8) or the error as JSON `{code, message}` |
 */
import { IOBuf } from '@ebbrt/interfaces';

export const GET = 1;
export const SET = 2;
export const REPLY = 3;
export const HEADER_BYTES = 8;

export const NOT_FOUND = 0;
export const FOUND = 1;
export const FAILED = 2;

export interface Header {
  readonly requestId: number;
  readonly core: number;
}

export function encodeRequest(requestId: number, core: number, id: number, data?: Uint8Array): IOBuf {
  const out = new Uint8Array(HEADER_BYTES + 4 + (data?.length ?? 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, requestId);
  view.setUint16(4, core);
  view.setUint32(8, id);
  if (data !== undefined) out.set(data, 12);
  return IOBuf.wrap(out);
}

export function encodeReply(header: Header, status: number, body?: Uint8Array): IOBuf {
  const out = new Uint8Array(HEADER_BYTES + 1 + (body?.length ?? 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, header.requestId);
  view.setUint16(4, header.core);
  out[8] = status;
  if (body !== undefined) out.set(body, 9);
  return IOBuf.wrap(out);
}

/** Copies a received chain out and releases it. */
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
  return { requestId: view.getUint32(0), core: view.getUint16(4) };
}

export function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
}

/** UTF-8 byte length of `s` without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

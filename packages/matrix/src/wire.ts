/**
 * The matrix Ebb's messages: a fixed 64-byte little-endian header, then (for tile data) the
 * tile's float64 elements. One Messenger type code carries every op; the header says which.
 *
 * ```
 *  0 op u32      4 req u32 (request or job id)   8 matrix u32   12 ti u32   16 tj u32
 * 20 rows u32   24 cols u32   28 a u32   32 b u32   36 c u32   40 x f64   48 y f64   56 z f64
 * ```
 */
import { IOBuf } from '@ebbrt/interfaces';
import { ProtocolError } from './errors.js';

/** The matrix Ebb's Messenger type code ('MTRX'). */
export const MATRIX_TYPE = 0x4d545258;
export const HEADER_BYTES = 64;

export const Op = {
  // front-end -> tile node (each answered with REPLY or ERROR carrying req)
  get: 1,
  set: 2,
  fill: 3,
  randomize: 4,
  sum: 5,
  write: 6,
  read: 7,
  drop: 8,
  stats: 9,
  /** The node's recorded job windows (when installed with a clock): float64 [start, end, ...]. */
  windows: 13,
  /** Partial sums of every tile of `matrix` on the node: float64 [ti, tj, sum, ...]. */
  sumAll: 14,
  /** Send tile (ti, tj) of `matrix` to node `a` as input slot `b` of job `req`. */
  ship: 10,
  /** Compute tile (ti, tj) of `matrix` for job `req`: kind `a`, `b` inputs, parameter `x`. */
  expect: 11,
  // tile node -> tile node
  input: 12,
  // tile node -> front-end
  reply: 20,
  error: 21,
} as const;

/** What an `expect` computes from its inputs. */
export const Kind = {
  /** out = in0 + in1 (in1 absent: out = in0). */
  add: 1,
  /** out = in0 * x */
  scale: 2,
  /** out = in0^T */
  transpose: 3,
  /** out = sum over p of in(2p) x in(2p+1), accumulated in p order. */
  multiply: 4,
} as const;

export interface Header {
  op: number;
  req: number;
  matrix: number;
  ti: number;
  tj: number;
  rows: number;
  cols: number;
  a: number;
  b: number;
  c: number;
  x: number;
  y: number;
  z: number;
}

export function blank(): Header {
  return { op: 0, req: 0, matrix: 0, ti: 0, tj: 0, rows: 0, cols: 0, a: 0, b: 0, c: 0, x: 0, y: 0, z: 0 };
}

export function header(op: number, fields: Partial<Omit<Header, 'op'>> = {}): Header {
  return {
    op,
    req: fields.req ?? 0,
    matrix: fields.matrix ?? 0,
    ti: fields.ti ?? 0,
    tj: fields.tj ?? 0,
    rows: fields.rows ?? 0,
    cols: fields.cols ?? 0,
    a: fields.a ?? 0,
    b: fields.b ?? 0,
    c: fields.c ?? 0,
    x: fields.x ?? 0,
    y: fields.y ?? 0,
    z: fields.z ?? 0,
  };
}

/** A message: the header, then `data` (float64 elements) or `text` (UTF-8, for errors). */
export function encode(h: Header, data?: Float64Array, text?: string): IOBuf {
  const body = text !== undefined ? new TextEncoder().encode(text) : undefined;
  const payload = data !== undefined ? data.length * 8 : (body?.length ?? 0);
  const buf = IOBuf.allocate(HEADER_BYTES + payload);
  const bytes = buf.data();
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  view.setUint32(0, h.op, true);
  view.setUint32(4, h.req >>> 0, true);
  view.setUint32(8, h.matrix >>> 0, true);
  view.setUint32(12, h.ti >>> 0, true);
  view.setUint32(16, h.tj >>> 0, true);
  view.setUint32(20, h.rows >>> 0, true);
  view.setUint32(24, h.cols >>> 0, true);
  view.setUint32(28, h.a >>> 0, true);
  view.setUint32(32, h.b >>> 0, true);
  view.setUint32(36, h.c >>> 0, true);
  view.setFloat64(40, h.x, true);
  view.setFloat64(48, h.y, true);
  view.setFloat64(56, h.z, true);
  if (data !== undefined) new Float64Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, data.length).set(data);
  else if (body !== undefined) bytes.set(body, HEADER_BYTES);
  return buf;
}

export interface Decoded {
  readonly h: Header;
  /** The raw payload (after the header), contiguous and 8-aligned; empty when there is none. */
  readonly payload: Uint8Array;
}

/** Decodes (and releases) a received message. Throws ProtocolError on a short or ragged one. */
export function decode(message: IOBuf): Decoded {
  let bytes: Uint8Array;
  try {
    const single = !message.isChained() && message.data().byteOffset % 8 === 0;
    bytes = single ? message.data() : message.toUint8Array();
  } finally {
    message.releaseChain();
  }
  if (bytes.length < HEADER_BYTES) throw new ProtocolError(`matrix message of ${bytes.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const h: Header = {
    op: view.getUint32(0, true),
    req: view.getUint32(4, true),
    matrix: view.getUint32(8, true),
    ti: view.getUint32(12, true),
    tj: view.getUint32(16, true),
    rows: view.getUint32(20, true),
    cols: view.getUint32(24, true),
    a: view.getUint32(28, true),
    b: view.getUint32(32, true),
    c: view.getUint32(36, true),
    x: view.getFloat64(40, true),
    y: view.getFloat64(48, true),
    z: view.getFloat64(56, true),
  };
  return { h, payload: bytes.subarray(HEADER_BYTES) };
}

/** The payload as float64 elements, `count` of them: a view when aligned, else a copy. */
export function payloadFloats(d: Decoded, count: number): Float64Array {
  if (d.payload.length !== count * 8) {
    throw new ProtocolError(`matrix tile payload is ${d.payload.length} bytes, expected ${count * 8} (${count} float64)`);
  }
  if (d.payload.byteOffset % 8 === 0) return new Float64Array(d.payload.buffer, d.payload.byteOffset, count);
  return new Float64Array(d.payload.slice().buffer);
}

export function payloadText(d: Decoded): string {
  return new TextDecoder().decode(d.payload);
}

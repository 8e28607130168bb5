/**
 * Small byte helpers shared by the parsers. They read straight from scratch
 * arrays (the copied command line or binary header), so they allocate nothing
 * but the key strings the store's Map needs.
 */

/** The bytes of an ASCII literal (module constants: built once, never written). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** True when `bytes[start, end)` equals `word`. */
export function bytesEqual(bytes: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word[i]) return false;
  return true;
}

/**
 * `bytes[start, end)` as a latin1 string: one UTF-16 code unit per byte, so
 * any byte sequence maps 1:1 to a distinct string of the same length.
 *
 * The result is always a flat string. Building a key with `s += ch` made a
 * rope (V8 makes a ConsString from 13 characters up) that the store's Map then
 * flattened before hashing: with 16 B keys that was ~1 µs per request in the
 * hosted profile (store.live's self time), most of it garbage. Keys up to 16
 * bytes come from one fixed-arity String.fromCharCode (reading past `end` only
 * within the array, sliced off after), longer ones from one apply.
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 16 && start + 16 <= bytes.length) {
    const s = String.fromCharCode(
      bytes[start],
      bytes[start + 1],
      bytes[start + 2],
      bytes[start + 3],
      bytes[start + 4],
      bytes[start + 5],
      bytes[start + 6],
      bytes[start + 7],
      bytes[start + 8],
      bytes[start + 9],
      bytes[start + 10],
      bytes[start + 11],
      bytes[start + 12],
      bytes[start + 13],
      bytes[start + 14],
      bytes[start + 15],
    );
    return n === 16 ? s : s.slice(0, n);
  }
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Unsigned 32-bit decimal in `bytes[start, end)`, or -1 when not one (digits only). */
export function parseU32(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 10) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= 0xffffffff ? v : -1;
}

/** Sentinel returned by {@link parseI32} for invalid input. */
export const BAD_NUMBER = Number.NaN;

/** Signed 32-bit decimal (optional leading '-'), or NaN when not one. */
export function parseI32(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let sign = 1;
  if (i < end && bytes[i] === 0x2d) {
    sign = -1;
    i++;
  }
  const n = end - i;
  if (n <= 0 || n > 10) return BAD_NUMBER;
  let v = 0;
  for (; i < end; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return BAD_NUMBER;
    v = v * 10 + d;
  }
  v *= sign;
  return v >= -0x80000000 && v <= 0x7fffffff ? v : BAD_NUMBER;
}

/** A CAS unique no stored item can have (clients may send values beyond 2^53). */
export const UNMATCHABLE_CAS = -1;

/**
 * Unsigned 64-bit decimal as a number: exact below 2^53 (every CAS this store
 * hands out is); larger valid values become {@link UNMATCHABLE_CAS}; -2 when
 * the text is not a number.
 */
export function parseCas(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 20) return -2;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return -2;
    v = v * 10 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : UNMATCHABLE_CAS;
}

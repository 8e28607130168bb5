import type { IOBuf } from '@ebbrt/interfaces';

/** 2^64: incr wraps modulo this (memcached's counters are unsigned 64-bit). */
export const U64_LIMIT = 1n << 64n;
/** Longest stored value still considered a number ("18446744073709551615" plus slack for spaces). */
const MAX_NUMERIC_LENGTH = 32;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/**
 * The unsigned 64-bit number a stored value holds, as memcached's
 * safe_strtoull reads it (optional leading/trailing whitespace around decimal
 * digits), or null when the value is not such a number.
 */
export function parseStoredU64(value: IOBuf | null, length: number): bigint | null {
  if (value === null || length === 0 || length > MAX_NUMERIC_LENGTH) return null;
  let digits = '';
  let phase = 0; // 0 leading space, 1 digits, 2 trailing space
  let e = value;
  do {
    const bytes = e.bytes;
    for (let i = e.offset, end = e.offset + e.length; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x30 && b <= 0x39) {
        if (phase === 2) return null;
        phase = 1;
        digits += String.fromCharCode(b);
      } else if (isSpace(b)) {
        if (phase === 1) phase = 2;
      } else return null;
    }
    e = e.next;
  } while (e !== value);
  if (digits.length === 0) return null;
  const n = BigInt(digits);
  return n < U64_LIMIT ? n : null;
}

/**
 * Parses a client-supplied decimal delta/initial value (digits only) from
 * `bytes[start, end)`; null when it is not a valid unsigned 64-bit number.
 */
export function parseDecimalU64(bytes: Uint8Array, start: number, end: number): bigint | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let small = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b < 0x30 || b > 0x39) return null;
    small = small * 10 + (b - 0x30);
  }
  if (len < 16) return BigInt(small); // exact: < 10^15 < 2^53
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  const n = BigInt(text);
  return n < U64_LIMIT ? n : null;
}

/** `current + delta` modulo 2^64 (incr) or `max(current - delta, 0)` (decr). */
export function applyDelta(current: bigint, delta: bigint, incr: boolean): bigint {
  if (incr) return (current + delta) % U64_LIMIT;
  return current > delta ? current - delta : 0n;
}

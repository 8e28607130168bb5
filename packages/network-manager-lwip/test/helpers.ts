import fc from 'fast-check';

/** Independent reference: RFC 1071 checksum byte by byte, straight from the definition. */
export function naiveChecksum(data: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    const hi = data[i];
    const lo = i + 1 < data.length ? data[i + 1] : 0;
    sum += hi * 256 + lo;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  return 0xffff - sum;
}

/** Reference pseudo-header bytes (RFC 793/768). */
export function pseudoHeader(src: number, dst: number, proto: number, len: number): number[] {
  return [src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255, dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255, 0, proto, len >> 8, len & 255];
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export const u8 = fc.integer({ min: 0, max: 255 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const mac48 = fc.integer({ min: 0, max: 0xffffffffffff });
export const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOBuf, IOBufCursor } from './index.js';
import { buildChain, chainSpecArb } from './chain-fixtures.test.js';

type Read =
  | { kind: 'u8' | 'u16be' | 'u16le' | 'u32be' | 'u32le' | 'u64be' | 'u64le' | 'peekU8' | 'peekU16be' | 'peekU32be' }
  | { kind: 'bytes' | 'readInto' | 'skip'; n: number };

const readArb: fc.Arbitrary<Read> = fc.oneof(
  fc.record({
    kind: fc.constantFrom(
      'u8' as const,
      'u16be' as const,
      'u16le' as const,
      'u32be' as const,
      'u32le' as const,
      'u64be' as const,
      'u64le' as const,
      'peekU8' as const,
      'peekU16be' as const,
      'peekU32be' as const,
    ),
  }),
  fc.record({ kind: fc.constantFrom('bytes' as const, 'readInto' as const, 'skip' as const), n: fc.nat({ max: 40 }) }),
);

const WIDTH = { u8: 1, u16be: 2, u16le: 2, u32be: 4, u32le: 4, u64be: 8, u64le: 8, peekU8: 1, peekU16be: 2, peekU32be: 4 };

/** What reading `r` from a flat copy at `pos` yields: [value, bytes consumed]. */
function reference(flat: Uint8Array, pos: number, r: Read): [unknown, number] {
  const dv = new DataView(flat.buffer, flat.byteOffset, flat.byteLength);
  switch (r.kind) {
    case 'u8':
      return [dv.getUint8(pos), 1];
    case 'u16be':
      return [dv.getUint16(pos, false), 2];
    case 'u16le':
      return [dv.getUint16(pos, true), 2];
    case 'u32be':
      return [dv.getUint32(pos, false), 4];
    case 'u32le':
      return [dv.getUint32(pos, true), 4];
    case 'u64be':
      return [dv.getBigUint64(pos, false), 8];
    case 'u64le':
      return [dv.getBigUint64(pos, true), 8];
    case 'peekU8':
      return [dv.getUint8(pos), 0];
    case 'peekU16be':
      return [dv.getUint16(pos, false), 0];
    case 'peekU32be':
      return [dv.getUint32(pos, false), 0];
    case 'bytes':
    case 'readInto':
      return [flat.slice(pos, pos + r.n), r.n];
    case 'skip':
      return [undefined, r.n];
  }
}

function perform(c: IOBufCursor, r: Read): unknown {
  switch (r.kind) {
    case 'bytes':
      return Uint8Array.from(c.bytes(r.n));
    case 'readInto': {
      const dst = new Uint8Array(r.n);
      c.readInto(dst, r.n);
      return dst;
    }
    case 'skip':
      c.skip(r.n);
      return undefined;
    default:
      return c[r.kind]();
  }
}

describe('IOBufCursor', () => {
  it('reads the same values across elements as DataView over a flattened copy', () => {
    fc.assert(
      fc.property(chainSpecArb, fc.array(readArb, { maxLength: 40 }), (specs, reads) => {
        const head = buildChain(specs);
        const flat = head.toUint8Array();
        const c = head.cursor();
        let pos = 0;
        for (const r of reads) {
          const size = 'n' in r ? r.n : WIDTH[r.kind];
          if (size > flat.length - pos) {
            expect(() => perform(c, r)).toThrow(RangeError);
            expect(() => perform(c, r)).toThrow(`${size} byte(s) at position ${pos} exceeds chain length ${flat.length}`);
            expect(c.position).toBe(pos);
            continue;
          }
          const [want, consumed] = reference(flat, pos, r);
          expect(perform(c, r)).toEqual(want);
          pos += consumed;
          expect(c.position).toBe(pos);
          expect(c.remaining()).toBe(flat.length - pos);
        }
      }),
    );
  });

  it('reads the chain as written when elements carry headroom (offset is respected)', () => {
    const a = IOBuf.allocate(8, { headroom: 6, length: 2 });
    a.bytes.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x12, 0x34]);
    const b = IOBuf.wrap(new Uint8Array([0x56, 0x78]));
    a.appendChain(b);
    const c = a.cursor();
    expect(c.u32be()).toBe(0x12345678);
    expect(c.remaining()).toBe(0);
  });

  it('bytes(n) is a zero-copy subarray within one element and a copy across elements', () => {
    const a = IOBuf.copyOf(new Uint8Array([1, 2, 3]));
    const b = IOBuf.copyOf(new Uint8Array([4, 5]));
    a.appendChain(b);
    const c = new IOBufCursor(a);
    const inside = c.bytes(2);
    expect(inside.buffer).toBe(a.bytes.buffer);
    a.bytes[0] = 9;
    expect(inside[0]).toBe(9);
    const across = c.bytes(2);
    expect(Array.from(across)).toEqual([3, 4]);
    expect(across.buffer).not.toBe(a.bytes.buffer);
    expect(across.buffer).not.toBe(b.bytes.buffer);
  });

  it('skips empty elements and reports the error with position, size and chain length', () => {
    const head = IOBuf.allocate(4, { length: 0 });
    head.appendChain(IOBuf.copyOf(new Uint8Array([7]))).appendChain(IOBuf.allocate(2, { length: 0 }));
    const c = head.cursor();
    expect(c.chainLength).toBe(1);
    expect(() => c.u16be()).toThrow('IOBufCursor.u16be: 2 byte(s) at position 0 exceeds chain length 1');
    expect(c.u8()).toBe(7);
    expect(() => c.u8()).toThrow('IOBufCursor.u8: 1 byte(s) at position 1 exceeds chain length 1');
    expect(c.rewind().peekU8()).toBe(7);
    expect(c.position).toBe(0);
  });

  it('clone gives an independent look-ahead cursor', () => {
    const c = IOBuf.copyOf(new Uint8Array([1, 2, 3])).cursor();
    c.u8();
    const d = c.clone();
    expect(d.u16be()).toBe(0x0203);
    expect(c.position).toBe(1);
    expect(c.u8()).toBe(2);
  });

  it('throws instead of running off the ring when the chain shrinks under it (element released)', () => {
    const a = IOBuf.copyOf('ab');
    const b = IOBuf.copyOf('cd');
    a.appendChain(b);
    const c = a.cursor();
    c.skip(2);
    b.release();
    expect(() => c.u8()).toThrow(/modified/);
  });
});

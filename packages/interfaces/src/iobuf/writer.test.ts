import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOBuf, IOBufWriter } from './index.js';
import { buildChain, chainSpecArb, ringElements } from './chain-fixtures.test.js';

type Write =
  | { kind: 'setU8' | 'setU16be' | 'setU16le' | 'setU32be' | 'setU32le'; v: number }
  | { kind: 'setU64be' | 'setU64le'; v: bigint }
  | { kind: 'writeBytes'; v: Uint8Array }
  | { kind: 'skip'; n: number };

const writeArb: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ kind: fc.constant('setU8' as const), v: fc.nat({ max: 0xff }) }),
  fc.record({ kind: fc.constantFrom('setU16be' as const, 'setU16le' as const), v: fc.nat({ max: 0xffff }) }),
  fc.record({ kind: fc.constantFrom('setU32be' as const, 'setU32le' as const), v: fc.nat({ max: 0xffff_ffff }) }),
  fc.record({ kind: fc.constantFrom('setU64be' as const, 'setU64le' as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ kind: fc.constant('writeBytes' as const), v: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('skip' as const), n: fc.nat({ max: 10 }) }),
);

function size(w: Write): number {
  switch (w.kind) {
    case 'setU8':
      return 1;
    case 'setU16be':
    case 'setU16le':
      return 2;
    case 'setU32be':
    case 'setU32le':
      return 4;
    case 'setU64be':
    case 'setU64le':
      return 8;
    case 'writeBytes':
      return w.v.length;
    case 'skip':
      return w.n;
  }
}

/** Applies `w` to a flat reference buffer at `pos`. */
function applyReference(dv: DataView, flat: Uint8Array, pos: number, w: Write): void {
  switch (w.kind) {
    case 'setU8':
      return dv.setUint8(pos, w.v);
    case 'setU16be':
      return dv.setUint16(pos, w.v, false);
    case 'setU16le':
      return dv.setUint16(pos, w.v, true);
    case 'setU32be':
      return dv.setUint32(pos, w.v, false);
    case 'setU32le':
      return dv.setUint32(pos, w.v, true);
    case 'setU64be':
      return dv.setBigUint64(pos, w.v, false);
    case 'setU64le':
      return dv.setBigUint64(pos, w.v, true);
    case 'writeBytes':
      return flat.set(w.v, pos);
    case 'skip':
      return;
  }
}

function perform(wr: IOBufWriter, w: Write): void {
  switch (w.kind) {
    case 'setU64be':
    case 'setU64le':
      wr[w.kind](w.v);
      return;
    case 'writeBytes':
      wr.writeBytes(w.v);
      return;
    case 'skip':
      wr.skip(w.n);
      return;
    default:
      wr[w.kind](w.v);
  }
}

describe('IOBufWriter', () => {
  it('writes across element boundaries exactly as DataView writes a flat copy', () => {
    fc.assert(
      fc.property(chainSpecArb, fc.array(writeArb, { maxLength: 30 }), (specs, writes) => {
        const head = buildChain(specs);
        // Bytes outside the views must never be touched.
        const outside = ringElements(head).map((e) => [Uint8Array.from(e.bytes.subarray(0, e.offset)), Uint8Array.from(e.bytes.subarray(e.offset + e.length))]);
        const flat = head.toUint8Array();
        const dv = new DataView(flat.buffer);
        const wr = head.writer();
        let pos = 0;
        for (const w of writes) {
          const n = size(w);
          if (n > flat.length - pos) {
            expect(() => perform(wr, w)).toThrow(`${n} byte(s) at position ${pos} exceeds chain length ${flat.length}`);
            expect(wr.position).toBe(pos);
            continue;
          }
          perform(wr, w);
          applyReference(dv, flat, pos, w);
          pos += n;
          expect(wr.position).toBe(pos);
        }
        expect(head.toUint8Array()).toEqual(flat);
        ringElements(head).forEach((e, i) => {
          expect(e.bytes.subarray(0, e.offset)).toEqual(outside[i][0]);
          expect(e.bytes.subarray(e.offset + e.length)).toEqual(outside[i][1]);
        });
      }),
    );
  });

  it('written values read back equal through a cursor, across boundaries', () => {
    // Elements of 1, 3 and 16 bytes force every integer to straddle a boundary.
    const head = IOBuf.allocate(1);
    head.appendChain(IOBuf.allocate(3)).appendChain(IOBuf.allocate(16));
    head
      .writer()
      .setU16be(0xbeef)
      .setU32le(0xdeadbeef)
      .setU64be(0x0123_4567_89ab_cdefn)
      .setU8(0x42)
      .writeBytes(new Uint8Array([9, 8, 7]))
      .setU16le(0x1234);
    const c = head.cursor();
    expect(c.u16be()).toBe(0xbeef);
    expect(c.u32le()).toBe(0xdeadbeef);
    expect(c.u64be()).toBe(0x0123_4567_89ab_cdefn);
    expect(c.u8()).toBe(0x42);
    expect(Array.from(c.bytes(3))).toEqual([9, 8, 7]);
    expect(c.u16le()).toBe(0x1234);
    expect(c.remaining()).toBe(0);
  });

  it('builds a header in place in headroom, with a back-filled length via clone()', () => {
    const payload = IOBuf.copyOf('payload!');
    const hdr = IOBuf.allocate(64, { headroom: 64, length: 0 });
    hdr.retreat(6);
    hdr.appendChain(payload);
    const w = hdr.writer();
    w.setU16be(0x0800);
    const lenField = w.clone();
    w.skip(4);
    lenField.setU32be(hdr.computeChainDataLength());
    const c = hdr.cursor();
    expect(c.u16be()).toBe(0x0800);
    expect(c.u32be()).toBe(14);
    expect(new TextDecoder().decode(c.bytes(8))).toBe('payload!');
  });
});

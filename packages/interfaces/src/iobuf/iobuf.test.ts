import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { IOBuf, IOBufStorage } from './index.js';
import { buildChain, buildElement, chainSpecArb, concat, elementSpecArb, ringElements } from './chain-fixtures.test.js';

// Compare element lists by identity: deep equality on ring-linked IOBufs is
// both slow and meaningless.
function expectSame(actual: IOBuf[], expected: IOBuf[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((e, i) => expect(e === expected[i]).toBe(true));
}

type Op = { kind: 'advance' | 'retreat' | 'trimEnd' | 'append'; n: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('advance', 'retreat', 'trimEnd', 'append'),
  n: fc.nat({ max: 40 }),
});

describe('IOBuf view adjustment', () => {
  it('advance/retreat/trimEnd/append never escape the storage; out-of-bounds throws and changes nothing', () => {
    fc.assert(
      fc.property(elementSpecArb, fc.array(opArb, { maxLength: 30 }), (spec, ops) => {
        const buf = buildElement(spec);
        const cap = buf.capacity;
        // Model: the view is [start, end) of the storage.
        let start = spec.headroom;
        let end = spec.headroom + spec.data.length;
        for (const { kind, n } of ops) {
          const len = end - start;
          const room = { advance: len, trimEnd: len, retreat: start, append: cap - end }[kind];
          const roomName = { advance: 'length', trimEnd: 'length', retreat: 'headroom', append: 'tailroom' }[kind];
          if (n > room) {
            expect(() => buf[kind](n)).toThrow(RangeError);
            expect(() => buf[kind](n)).toThrow(`${kind}(${n}) exceeds ${roomName} ${room}`);
          } else {
            expect(buf[kind](n)).toBe(buf);
            if (kind === 'advance') start += n;
            else if (kind === 'retreat') start -= n;
            else if (kind === 'trimEnd') end -= n;
            else end += n;
          }
          expect(buf.offset).toBe(start);
          expect(buf.length).toBe(end - start);
          expect(buf.headroom()).toBe(start);
          expect(buf.tailroom()).toBe(cap - end);
          expect(buf.offset + buf.length + buf.tailroom()).toBe(cap);
          expect(buf.data()).toEqual(buf.bytes.subarray(start, end));
        }
      }),
    );
  });

  it('names the requested amount and the available size', () => {
    const buf = IOBuf.allocate(32, { headroom: 4, length: 12 });
    expect(() => buf.advance(20)).toThrow('advance(20) exceeds length 12');
    expect(() => buf.trimEnd(13)).toThrow('trimEnd(13) exceeds length 12');
    expect(() => buf.retreat(5)).toThrow('retreat(5) exceeds headroom 4');
    expect(() => buf.append(17)).toThrow('append(17) exceeds tailroom 16');
    expect(() => buf.advance(-1)).toThrow(RangeError);
    expect(() => buf.append(1.5)).toThrow(RangeError);
    expect([buf.offset, buf.length]).toEqual([4, 12]);
  });
});

describe('IOBuf constructors and accessors', () => {
  it('allocate defaults the view to capacity - headroom, honours length, validates', () => {
    const a = IOBuf.allocate(64, { headroom: 16 });
    expect([a.capacity, a.offset, a.length, a.tailroom()]).toEqual([64, 16, 48, 0]);
    expect(a.isUnique()).toBe(true);
    const b = IOBuf.allocate(64, { headroom: 16, length: 0 });
    expect([b.length, b.tailroom()]).toEqual([0, 48]);
    expect(() => IOBuf.allocate(8, { headroom: 9 })).toThrow(RangeError);
    expect(() => IOBuf.allocate(8, { headroom: 4, length: 5 })).toThrow(RangeError);
  });

  it('wrap views the array without copying', () => {
    const u8 = new Uint8Array([1, 2, 3]);
    const buf = IOBuf.wrap(u8);
    expect(buf.bytes).toBe(u8);
    u8[1] = 9;
    expect(buf.data()).toEqual(new Uint8Array([1, 9, 3]));
    expect(buf.physAddr()).toBe(-1);
  });

  it('wrap of a subarray respects its byteOffset in DataView reads', () => {
    const backing = new Uint8Array([0xaa, 0xbb, 0x12, 0x34]);
    const buf = IOBuf.wrap(backing.subarray(2));
    expect(buf.cursor().u16be()).toBe(0x1234);
  });

  it('fromStorage reports physAddr of the first data byte and validates the view', () => {
    const storage = new IOBufStorage(new Uint8Array(4096), { physAddr: 0x10_0000 });
    const buf = IOBuf.fromStorage(storage, 128, 64);
    expect(buf.physAddr()).toBe(0x10_0080);
    buf.advance(4);
    expect(buf.physAddr()).toBe(0x10_0084);
    expect(storage.refCount).toBe(1);
    expect(() => IOBuf.fromStorage(new IOBufStorage(new Uint8Array(8)), 4, 5)).toThrow(RangeError);
  });

  it('copyOf copies bytes and UTF-8 encodes strings', () => {
    const src = new Uint8Array([5, 6]);
    const buf = IOBuf.copyOf(src);
    src[0] = 0;
    expect(buf.data()).toEqual(new Uint8Array([5, 6]));
    expect(IOBuf.copyOf('hé').data()).toEqual(new Uint8Array([0x68, 0xc3, 0xa9]));
  });
});

describe('IOBuf chains', () => {
  it('computeChainDataLength = sum of element lengths = flattened length, after random trims', () => {
    fc.assert(
      fc.property(chainSpecArb, fc.array(fc.tuple(fc.nat(), opArb), { maxLength: 20 }), (specs, ops) => {
        const head = buildChain(specs);
        const elems = ringElements(head);
        for (const [i, { kind, n }] of ops) {
          try {
            elems[i % elems.length][kind](n);
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
          }
        }
        const sum = elems.reduce((s, e) => s + e.length, 0);
        expect(head.computeChainDataLength()).toBe(sum);
        expect(head.toUint8Array().length).toBe(sum);
        expect(head.toUint8Array()).toEqual(concat(elems.map((e) => e.data())));
        expect(head.countChainElements()).toBe(specs.length);
      }),
    );
  });

  it('appendChain: flatten(a ++ b) = flatten(a) ++ flatten(b), head stays a', () => {
    fc.assert(
      fc.property(chainSpecArb, chainSpecArb, (sa, sb) => {
        const a = buildChain(sa);
        const b = buildChain(sb);
        const fa = a.toUint8Array();
        const fb = b.toUint8Array();
        expect(a.appendChain(b)).toBe(a);
        expect(a.toUint8Array()).toEqual(concat([fa, fb]));
        expect(ringElements(a).length).toBe(sa.length + sb.length);
        expect(a.prev).toBe(ringElements(a)[sa.length + sb.length - 1]);
      }),
    );
  });

  it('prependChain: the returned head reads flatten(b) ++ flatten(a)', () => {
    fc.assert(
      fc.property(chainSpecArb, chainSpecArb, (sa, sb) => {
        const a = buildChain(sa);
        const b = buildChain(sb);
        const fa = a.toUint8Array();
        const fb = b.toUint8Array();
        const head = a.prependChain(b);
        expect(head).toBe(b);
        expect(head.toUint8Array()).toEqual(concat([fb, fa]));
        expect(ringElements(head).length).toBe(sa.length + sb.length);
      }),
    );
  });

  it('refuses to splice a chain into itself (it would tear the ring)', () => {
    const a = buildChain([{ data: new Uint8Array([1]), headroom: 0, tailroom: 0 }]);
    const b = IOBuf.copyOf('x');
    a.appendChain(b);
    expect(() => a.appendChain(b)).toThrow(/already part of this chain/);
    expect(() => b.appendChain(a)).toThrow(/already part of this chain/);
    expect(() => a.appendChain(a)).toThrow(/already part of this chain/);
    expect(ringElements(a).length).toBe(2);
  });

  it('unlink keeps both chains circular and consistent', () => {
    fc.assert(
      fc.property(chainSpecArb, fc.nat(), (specs, pick) => {
        const head = buildChain(specs);
        const elems = ringElements(head);
        const victim = elems[pick % elems.length];
        const expectedRest = elems.filter((e) => e !== victim);
        expect(victim.unlink()).toBe(victim);
        expect(victim.next).toBe(victim);
        expect(victim.prev).toBe(victim);
        expect(victim.isChained()).toBe(false);
        expectSame(ringElements(victim), [victim]);
        if (expectedRest.length > 0) {
          const rest = ringElements(expectedRest[0]);
          expectSame(rest, expectedRest);
          expect(rest[0].isChained()).toBe(rest.length > 1);
        }
      }),
    );
  });

  it('pop removes this element and returns what followed it (EbbRT Pop)', () => {
    const a = IOBuf.copyOf('a');
    const b = IOBuf.copyOf('b');
    const c = IOBuf.copyOf('c');
    a.appendChain(b).appendChain(c);
    const rest = a.pop();
    expect(rest).toBe(b);
    expect(a.isChained()).toBe(false);
    expectSame(ringElements(b), [b, c]);
    expect(new TextDecoder().decode(b.toUint8Array())).toBe('bc');
    expect(c.pop()).toBe(b);
    expect(b.pop()).toBeNull();
  });

  it('iterates elements in order via iterator, elements() and forEachElement', () => {
    const head = buildChain([1, 2, 3].map((v) => ({ data: new Uint8Array([v]), headroom: 0, tailroom: 0 })));
    expect([...head].map((e) => e.data()[0])).toEqual([1, 2, 3]);
    expect([...head.next.elements()].map((e) => e.data()[0])).toEqual([2, 3, 1]);
    const seen: number[] = [];
    head.forEachElement((e, i) => seen.push(e.data()[0] * 10 + i));
    expect(seen).toEqual([10, 21, 32]);
  });

  it('coalesce returns a lone, unique copy and leaves the chain intact', () => {
    const head = IOBuf.copyOf('ab').appendChain(IOBuf.copyOf('cd'));
    const flat = head.coalesce();
    expect(flat.isChained()).toBe(false);
    expect(flat.isUnique()).toBe(true);
    expect(new TextDecoder().decode(flat.data())).toBe('abcd');
    flat.bytes[0] = 0x7a;
    expect(head.data()[0]).toBe(0x61);
    expect(head.countChainElements()).toBe(2);
  });
});

describe('IOBuf ownership', () => {
  it('clone shares storage with an independent view', () => {
    const a = IOBuf.copyOf('hello world');
    const b = a.clone();
    expect(b.storage).toBe(a.storage);
    expect(a.isShared()).toBe(true);
    expect(b.isShared()).toBe(true);
    expect(a.isUnique()).toBe(false);
    b.advance(6);
    expect(a.offset).toBe(0);
    expect(a.length).toBe(11);
    expect(new TextDecoder().decode(b.data())).toBe('world');
    b.data()[0] = 0x57; // 'W'
    expect(new TextDecoder().decode(a.data())).toBe('hello World');
    b.release();
    expect(a.isUnique()).toBe(true);
  });

  it('cloneChain clones every element into a new chain sharing each storage', () => {
    fc.assert(
      fc.property(chainSpecArb, (specs) => {
        const head = buildChain(specs);
        const copy = head.cloneChain();
        const orig = ringElements(head);
        const cl = ringElements(copy);
        expect(cl.length).toBe(orig.length);
        cl.forEach((e, i) => {
          expect(e === orig[i]).toBe(false);
          expect(e.storage).toBe(orig[i].storage);
          expect(e.storage.refCount).toBe(2);
          expect([e.offset, e.length]).toEqual([orig[i].offset, orig[i].length]);
        });
        expect(copy.toUint8Array()).toEqual(head.toUint8Array());
        copy.releaseChain();
        orig.forEach((e) => expect(e.isUnique()).toBe(true));
      }),
    );
  });

  it('the release hook fires exactly once, only after the last reference is released', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6 }), fc.infiniteStream(fc.nat()), (clones, order) => {
        const hook = vi.fn();
        const storage = new IOBufStorage(new Uint8Array(16), { onRelease: hook });
        const first = IOBuf.fromStorage(storage, 0, 16);
        const all = [first];
        for (let i = 0; i < clones; i++) all.push(all[order.next().value % all.length].clone());
        expect(storage.refCount).toBe(clones + 1);
        // Release in a random order.
        const pending = [...all];
        while (pending.length > 0) {
          expect(hook).not.toHaveBeenCalled();
          const [victim] = pending.splice(order.next().value % pending.length, 1);
          victim.release();
        }
        expect(hook).toHaveBeenCalledTimes(1);
        expect(hook).toHaveBeenCalledWith(storage);
        expect(storage.isReleased).toBe(true);
        expect(storage.refCount).toBe(0);
      }),
    );
  });

  it('releaseChain releases every element and fires every hook once', () => {
    const hooks = [vi.fn(), vi.fn(), vi.fn()];
    const elems = hooks.map((h) => IOBuf.fromStorage(new IOBufStorage(new Uint8Array(4), { onRelease: h }), 0, 4));
    elems[0].appendChain(elems[1]).appendChain(elems[2]);
    elems[0].releaseChain();
    hooks.forEach((h) => expect(h).toHaveBeenCalledTimes(1));
    elems.forEach((e) => expect(e.isReleased).toBe(true));
  });

  it('releasing one element of a chain unlinks it and leaves the rest usable', () => {
    const a = IOBuf.copyOf('a');
    const b = IOBuf.copyOf('b');
    const c = IOBuf.copyOf('c');
    a.appendChain(b).appendChain(c);
    b.release();
    expectSame(ringElements(a), [a, c]);
    expect(new TextDecoder().decode(a.toUint8Array())).toBe('ac');
  });

  it('double release throws and never underflows', () => {
    const hook = vi.fn();
    const storage = new IOBufStorage(new Uint8Array(4), { onRelease: hook });
    const buf = IOBuf.fromStorage(storage, 0, 4);
    buf.release();
    expect(() => buf.release()).toThrow(/double release/);
    expect(() => buf.releaseChain()).toThrow(/double release/);
    expect(() => storage.release()).toThrow(/double release/);
    expect(storage.refCount).toBe(0);
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it('use after release throws', () => {
    const buf = IOBuf.copyOf('abc');
    const storage = buf.storage;
    buf.release();
    const uses: Array<() => unknown> = [
      () => buf.advance(1),
      () => buf.retreat(0),
      () => buf.trimEnd(1),
      () => buf.append(0),
      () => buf.data(),
      () => buf.bytes,
      () => buf.storage,
      () => buf.physAddr(),
      () => buf.clone(),
      () => buf.cursor(),
      () => buf.writer(),
      () => buf.toUint8Array(),
      () => buf.isShared(),
      () => buf.appendChain(IOBuf.copyOf('x')),
      () => IOBuf.copyOf('x').appendChain(buf),
      () => IOBuf.fromStorage(storage, 0, 1),
    ];
    for (const use of uses) expect(use).toThrow(/release/);
  });
});

/**
 * Test fixtures shared by the IOBuf test files. The file is named *.test.ts so
 * it is excluded from the published package (it imports fast-check, a dev
 * dependency); it therefore also tests the fixtures themselves, at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOBuf } from './iobuf.js';
import { IOBufStorage } from './storage.js';

/** Filler for bytes outside any view, so a read that escapes its view is visible. */
export const OUTSIDE = 0xee;

/** Description of one chain element: its data plus spare room around it. */
export interface ElementSpec {
  data: Uint8Array;
  headroom: number;
  tailroom: number;
}

export const elementSpecArb: fc.Arbitrary<ElementSpec> = fc.record({
  data: fc.uint8Array({ minLength: 0, maxLength: 24 }),
  headroom: fc.nat({ max: 8 }),
  tailroom: fc.nat({ max: 8 }),
});

/** Random chains: 1..8 elements, some empty, with headroom/tailroom. */
export const chainSpecArb: fc.Arbitrary<ElementSpec[]> = fc.array(elementSpecArb, { minLength: 1, maxLength: 8 });

/** An element whose storage is `headroom | data | tailroom`, the spare bytes set to OUTSIDE. */
export function buildElement(spec: ElementSpec): IOBuf {
  const bytes = new Uint8Array(spec.headroom + spec.data.length + spec.tailroom).fill(OUTSIDE);
  bytes.set(spec.data, spec.headroom);
  return IOBuf.fromStorage(new IOBufStorage(bytes), spec.headroom, spec.data.length);
}

/** Builds a chain in spec order and returns its head. */
export function buildChain(specs: ElementSpec[]): IOBuf {
  const head = buildElement(specs[0]);
  for (let i = 1; i < specs.length; i++) head.appendChain(buildElement(specs[i]));
  return head;
}

/** Concatenation of byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Walks the ring from `head` checking that every link is mutual
 * (`e.next.prev === e`, `e.prev.next === e`) and that the ring closes within
 * `limit` steps; returns the elements in order.
 */
export function ringElements(head: IOBuf, limit = 10_000): IOBuf[] {
  const out: IOBuf[] = [];
  let e = head;
  do {
    if (e.next.prev !== e) throw new Error(`ring broken: next.prev !== self at index ${out.length}`);
    if (e.prev.next !== e) throw new Error(`ring broken: prev.next !== self at index ${out.length}`);
    out.push(e);
    if (out.length > limit) throw new Error('ring does not close');
    e = e.next;
  } while (e !== head);
  return out;
}

// Other test files import this module; only run the fixtures' own tests when
// this file is the one under test, so they are not repeated per importer.
const isEntry = expect.getState().testPath?.endsWith('chain-fixtures.test.ts') ?? false;

if (isEntry) {
  describe('chain fixtures', () => {
    it('buildChain lays out the spec in order with OUTSIDE around each view', () => {
      fc.assert(
        fc.property(chainSpecArb, (specs) => {
          const head = buildChain(specs);
          const elems = ringElements(head);
          expect(elems.length).toBe(specs.length);
          elems.forEach((e, i) => {
            expect(e.data()).toEqual(specs[i].data);
            expect(e.headroom()).toBe(specs[i].headroom);
            expect(e.tailroom()).toBe(specs[i].tailroom);
            expect(e.bytes.subarray(0, e.offset).every((b) => b === OUTSIDE)).toBe(true);
          });
          expect(head.toUint8Array()).toEqual(concat(specs.map((s) => s.data)));
        }),
      );
    });
  });
}

import { EbbIdRanges, IdSpaceError } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { staticEbbId } from './static-id.js';
import { StaticSharedEbb } from './static-shared-ebb.js';
import { CountingRoot, makeNode } from '../test/fixtures.js';

/** Finds two distinct names with the same static id by brute force (birthday bound: ~sqrt(32768) tries). */
function collidingNames(): [string, string] {
  const byId = new Map<number, string>();
  for (let i = 0; ; i++) {
    const name = `user:ebb-${i}`;
    const id = staticEbbId(name);
    const other = byId.get(id);
    if (other !== undefined) return [other, name];
    byId.set(id, name);
  }
}

describe('staticEbbId', () => {
  it('is deterministic and in [0x8000, 0xFFFF]', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'binary' }), (name) => {
        const id = staticEbbId(name);
        expect(id).toBe(staticEbbId(name));
        expect(Number.isInteger(id)).toBe(true);
        expect(id).toBeGreaterThanOrEqual(EbbIdRanges.firstStaticUser);
        expect(id).toBeLessThanOrEqual(EbbIdRanges.lastStaticUser);
      }),
    );
    // Pinned value: every node (and every version) must compute the same id.
    // FNV-1a('a') = 0xe40c292c; 0x8000 + (0xe40c292c % 0x8000) = 0xa92c.
    expect(staticEbbId('a')).toBe(0xa92c);
    expect(staticEbbId('user:counter')).toBe(0x966c);
  });

  it('rejects the empty name', () => {
    expect(() => staticEbbId('')).toThrow(RangeError);
  });

  it('installStatic detects a collision between two different names', () => {
    const [first, second] = collidingNames();
    expect(first).not.toBe(second);
    const id = staticEbbId(first);
    expect(staticEbbId(second)).toBe(id);
    const node = makeNode();
    node.installStatic(first, id, new CountingRoot());
    expect(() => node.installStatic(second, id, new CountingRoot())).toThrow(IdSpaceError);
    expect(() => node.installStatic(second, id, new CountingRoot())).toThrow(
      new RegExp(`"${second}" collides with "${first}"`),
    );
    // Through the helper too, and nothing is cached for the loser.
    expect(() => StaticSharedEbb.install(node, id, { x: 1 }, second)).toThrow(/collides/);
    expect(node.core(0).translation.has(id)).toBe(false);
  });

  it('a failed static install does not poison the name table', () => {
    const [first, second] = collidingNames();
    const id = staticEbbId(first);
    const node = makeNode();
    // The id is taken by a non-static install, so installing `first` must fail...
    node.install(id, new CountingRoot());
    expect(() => node.installStatic(first, id, new CountingRoot())).toThrow(/already has a root/);
    // ...and must not make a later, equally failing install blame `first`.
    node.localIdMap.delete(id);
    node.installStatic(second, id, new CountingRoot());
    expect(node.localIdMap.has(id)).toBe(true);
  });
});

/**
 * `liveIOBufs(node)` reads the allocator root's declared `liveIOBufs()`: it lists an IOBuf until
 * its last release, and a root that does not track them is an error naming the node.
 */
import { NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type AllocatorStats, type EbbRoot, type MemoryAllocator, type MemoryAllocatorRoot } from '@ebbrt/interfaces';
import { manifest as slqbManifest } from '@ebbrt/memory-allocator-slqb';
import { describe, expect, it } from 'vitest';
import { bootAllocatorNode } from '../src/allocator-node.js';
import { liveIOBufs } from '../src/live-iobufs.js';

describe('liveIOBufs(node)', () => {
  it('lists an IOBuf from allocation to its last release', () => {
    const n = bootAllocatorNode<EbbRoot<unknown>>(slqbManifest, { cores: 2 });
    const buf = n.on(1, (a) => a.allocIOBuf(1000));
    const clone = n.on(1, () => buf.clone());
    expect(liveIOBufs(n.node)).toEqual([expect.objectContaining({ address: buf.physAddr(), size: 1000, core: 1 })]);
    n.on(1, () => buf.release());
    expect(liveIOBufs(n.node)).toHaveLength(1);
    n.on(1, () => clone.release());
    expect(liveIOBufs(n.node)).toEqual([]);
  });

  it('names the node whose allocator does not track them, or that has none', () => {
    const node = new NodeContext({ id: 7, numCores: 1, target: 'native' });
    expect(() => liveIOBufs(node)).toThrow(/node 7 has no MemoryAllocator root/);
    const untracked: MemoryAllocatorRoot = {
      handleFault: (): MemoryAllocator => {
        throw new Error('not used');
      },
      stats: (): AllocatorStats => ({ totalBytes: 0, freePageBytes: 0, caches: [] }),
    };
    node.install(SystemEbbIds.MemoryAllocator, untracked);
    expect(() => liveIOBufs(node)).toThrow(/node 7's MemoryAllocator does not track live IOBufs/);
  });
});

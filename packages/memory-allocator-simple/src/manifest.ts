import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type MemoryAllocator } from '@ebbrt/interfaces';
import { Machine } from '@ebbrt/hw-x86sim';
import { z } from 'zod';
import { SimpleRoot } from './root.js';

export const simpleOptionsSchema = z.strictObject({
  /** Bytes at the bottom of physical memory never handed out. */
  reserveBytes: z.number().int().min(0).default(1 << 20),
});
export type SimpleOptions = z.output<typeof simpleOptionsSchema>;

/** A first-fit allocator with one shared rep per node: the baseline MemoryAllocator. */
export const manifest = defineEbbManifest<SimpleOptions, MemoryAllocator>({
  name: '@ebbrt/memory-allocator-simple',
  implements: 'MemoryAllocator',
  targets: ['native'],
  description: 'First-fit free list over physical memory, one shared rep per node',
  options: simpleOptionsSchema,
  create(context, options) {
    if (!(context.machine instanceof Machine)) {
      throw new TypeError(`node ${context.node.id}: @ebbrt/memory-allocator-simple needs a hw-x86sim Machine (native target)`);
    }
    const { reserveBytes } = simpleOptionsSchema.parse(options ?? {});
    return new SimpleRoot(nodeContextOf(context.node), context.id, context.machine, reserveBytes);
  },
});

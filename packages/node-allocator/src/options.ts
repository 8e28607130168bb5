import { byteSizeSchema } from '@ebbrt/interfaces';
import { z } from 'zod';

export const nodeAllocatorOptionsSchema = z.strictObject({
  /** Dormant nodes kept booted and ready to hand out (0 = every allocation boots cold). */
  poolSize: z.number().int().min(0).max(1024).default(0),
  /** The machine of pooled nodes; a request for another shape boots cold. The runtime implies the config's back-end machine. */
  poolShape: z.strictObject({ cores: z.number().int().min(1).max(256), memoryBytes: byteSizeSchema }).optional(),
  /** Give up on a node that has not booted and reported back within this many milliseconds (wall clock). */
  bootTimeoutMs: z.number().positive().default(30_000),
});
export type NodeAllocatorOptions = z.output<typeof nodeAllocatorOptionsSchema>;

import { z } from 'zod';

export const slqbOptionsSchema = z.strictObject({
  /** Bytes at the bottom of physical memory never handed out (BIOS area, boot structures). */
  reserveBytes: z.number().int().min(0).default(1 << 20),
  /** Objects a core caches per class before flushing a batch back to its slabs. */
  highWaterMark: z.number().int().min(1).max(65536).default(128),
  /** Objects per refill, per flush and per remote-free batch. */
  batchSize: z.number().int().min(1).max(65536).default(32),
  /** Bytes a core may cache per class; scales the high-water mark down for big objects. */
  cacheBytesPerCore: z.number().int().min(4096).default(256 * 1024),
});

export type SlqbOptions = z.output<typeof slqbOptionsSchema>;
export type SlqbOptionsInput = z.input<typeof slqbOptionsSchema>;

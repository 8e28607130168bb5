import { offloadFaultSchema } from '@ebbrt/interfaces';
import { z } from 'zod';

export const globalIdMapOptionsSchema = z.strictObject({
  /** Network id of the node that keeps the table (the front-end by default). Every node of an app must agree. */
  home: z.number().int().min(0).max(0xffffffff).default(0),
  /** A request to the home that was handed to the transport but got no reply in this long rejects (Timer Ebb time: virtual on simulated nodes). */
  timeoutMs: z.number().positive().max(86_400_000).default(5000),
  /** Largest value `set` accepts, in UTF-8 bytes (the home enforces its own limit too). */
  maxDataBytes: z
    .number()
    .int()
    .positive()
    .max(15 * 1024 * 1024, 'must fit in one Messenger message (16 MiB by default)')
    .default(1024 * 1024),
  /** Injected faults of this node's requests to the home (the runtime implies `faults.offload.globalIdMap`). */
  faults: offloadFaultSchema.optional(),
});
export type GlobalIdMapOptions = z.output<typeof globalIdMapOptionsSchema>;
export type GlobalIdMapOptionsInput = z.input<typeof globalIdMapOptionsSchema>;

import { z } from 'zod';

const probability = z.number().min(0, 'must be in 0..1').max(1, 'must be in 0..1');

/**
 * Faults of one offloaded service, drawn per request on the asking node from its own seeded
 * stream. `fail`: with `probability` the request is refused before it is sent (the caller gets
 * an error naming the operation and its key or path; the home never sees it, so nothing is
 * applied). `delay`: with `probability` it is sent 1..maxUs µs late (the node's Timer), counting
 * against the request's timeout.
 */
export const offloadFaultSchema = z.strictObject({
  delay: z
    .strictObject({
      probability,
      maxUs: z.number().int('must be a whole number of µs').min(1, 'must be at least 1').max(60_000_000, 'must be at most 60 s'),
    })
    .optional(),
  fail: z.strictObject({ probability }).optional(),
});
export type OffloadFaultConfig = z.output<typeof offloadFaultSchema>;

/** `faults.offload`: the back-ends' requests to the front-end (FileSystem, GlobalIdMap). */
export const offloadFaultsSchema = z.strictObject({
  fileSystem: offloadFaultSchema.optional(),
  globalIdMap: offloadFaultSchema.optional(),
});
export type OffloadFaultsConfig = z.output<typeof offloadFaultsSchema>;

/** The config's top-level `faults` section: faults of the application's services, not of a machine or link. */
export const appFaultsSchema = z.strictObject({
  offload: offloadFaultsSchema.optional(),
});
export type AppFaultsConfig = z.output<typeof appFaultsSchema>;

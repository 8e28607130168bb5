import { z } from 'zod';

export const processPlatformOptionsSchema = z.strictObject({
  /** How long a node process may take to boot to dormant, or to start its image, in ms. */
  bootTimeoutMs: z.number().int('must be a whole number of ms').positive('must be positive').default(30_000),
});

export type ProcessPlatformOptions = z.output<typeof processPlatformOptionsSchema>;

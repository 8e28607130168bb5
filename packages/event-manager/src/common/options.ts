import { z } from 'zod';

export const eventManagerOptionsSchema = z.strictObject({
  /** Report (never kill) events that run longer than this many microseconds of wall time. */
  watchdogBudgetUs: z.number().positive().optional(),
  /** Loop iterations a core runs before letting other cores have a turn. */
  sliceBudget: z.number().int().min(1).max(1_000_000).default(256),
});

export type EventManagerOptions = z.output<typeof eventManagerOptionsSchema>;

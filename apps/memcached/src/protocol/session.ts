import type { InputQueue } from './input.js';
import type { ReplyBuilder } from './output.js';

/** What the connection does after a session consumed what it could. */
export const Action = {
  /** Wait for more bytes (the residue stays in the input queue). */
  More: 0,
  /** Send what was built, then close the connection (quit, or unrecoverable input). */
  Close: 1,
} as const;
export type Action = (typeof Action)[keyof typeof Action];

/** One protocol's parser + executor for one connection. */
export interface Session {
  /** Parses and executes every complete request in `input`, writing replies to `out`. */
  process(input: InputQueue, out: ReplyBuilder): Action;
}

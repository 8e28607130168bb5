/**
 * The body of a control request (`POST /control`): pause, step n slices, or resume the
 * simulation. Parsed strictly, since it arrives from a page: anything else is an error that says
 * what was wrong, and nothing reaches the simulation.
 */

export type ControlRequest = { action: 'pause' } | { action: 'resume' } | { action: 'step'; steps: number };

/** The largest step a page may ask for at once (a step parks the run after that many slices). */
export const MAX_STEPS = 1_000_000;

export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
}

export function parseControlRequest(body: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ControlRequestError(`control: the body must be JSON like {"action":"step","steps":5}, got ${JSON.stringify(body.slice(0, 60))}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ControlRequestError('control: the body must be a JSON object with an "action"');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'action' && k !== 'steps') throw new ControlRequestError(`control: unknown field "${k}" (fields: action, steps)`);
  const { action, steps } = o;
  if (action === 'pause' || action === 'resume') {
    if (steps !== undefined) throw new ControlRequestError(`control: "steps" goes only with "step", not "${action}"`);
    return { action };
  }
  if (action === 'step') {
    const n = steps ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_STEPS) {
      throw new ControlRequestError(`control: "steps" must be an integer in 1..${MAX_STEPS}, got ${JSON.stringify(n)}`);
    }
    return { action, steps: n };
  }
  throw new ControlRequestError(`control: "action" must be "pause", "step" or "resume", got ${JSON.stringify(action)}`);
}

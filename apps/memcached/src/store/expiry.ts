/**
 * memcached's expiration rule, as the protocol documents it:
 *
 * - `0` means never expire;
 * - a value above 30 days (2,592,000 s) is an absolute Unix time in seconds;
 * - anything else is a number of seconds relative to now;
 * - a negative value (or an absolute time already past) means "already expired".
 *
 * Deadlines are kept in milliseconds on the injected clock (Unix epoch ms), so
 * tests can drive time deterministically.
 */

/** Above this many seconds an exptime is an absolute Unix time (memcached's REALTIME_MAXDELTA). */
export const REALTIME_MAXDELTA_S = 60 * 60 * 24 * 30;

/** Deadline meaning "never expires". */
export const NEVER = 0;
/** Deadline meaning "already expired": the item must not be visible at all. */
export const EXPIRED = -1;

/**
 * The absolute deadline (ms on the injected clock) for a protocol exptime,
 * {@link NEVER} or {@link EXPIRED}.
 */
export function deadlineMs(exptimeS: number, nowMs: number): number {
  if (exptimeS === 0) return NEVER;
  if (exptimeS < 0) return EXPIRED;
  if (exptimeS > REALTIME_MAXDELTA_S) {
    const at = exptimeS * 1000;
    return at <= nowMs ? EXPIRED : at;
  }
  return nowMs + exptimeS * 1000;
}

/** True when an item with this deadline is dead at `nowMs`. */
export function isPast(deadline: number, nowMs: number): boolean {
  return deadline !== NEVER && nowMs >= deadline;
}

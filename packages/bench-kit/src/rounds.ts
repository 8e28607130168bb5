/** Wall and host CPU time (user + system) of one measured run, per operation, in ns. */
export interface TimedSample {
  wallNs: number;
  cpuNs: number;
}

/**
 * Runs every case once as a warm-up, then `reps` rounds of all of them, and returns each case's
 * samples by name. Rounds interleave the cases so drift (GC, the CPU clock, the other tenants of
 * a shared machine) hits them alike instead of landing on whichever case ran last.
 */
export async function sampleRounds<T>(cases: readonly (readonly [string, () => Promise<T>])[], reps: number): Promise<Map<string, T[]>> {
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`sampleRounds: reps must be a whole number >= 1, got ${String(reps)}`);
  const samples = new Map<string, T[]>();
  for (const [name] of cases) {
    if (samples.has(name)) throw new Error(`sampleRounds: two cases are named '${name}'`);
    samples.set(name, []);
  }
  for (const [, fn] of cases) await fn();
  for (let r = 0; r < reps; r++) for (const [name, fn] of cases) samples.get(name)!.push(await fn());
  return samples;
}

/**
 * `n` hops through `queue` (`queueMicrotask`, or `setImmediate` wrapped), each scheduling the
 * next: the host's own cost of one hop, the yardstick the event loop benches divide by.
 */
export function hopChain(queue: (fn: () => void) => void, n: number): Promise<TimedSample> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`hopChain: n must be a whole number >= 1, got ${String(n)}`);
  return new Promise((resolve) => {
    let i = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const next = (): void => {
      if (++i < n) return queue(next);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      resolve({ wallNs: (wall * 1e6) / n, cpuNs: ((c.user + c.system) * 1e3) / n });
    };
    queue(next);
  });
}

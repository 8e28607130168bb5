/**
 * Fault accounting end to end: a run of the counter over lossy, duplicating, reordering links
 * records every injected fault once in the simulation's fault log, as a `fault: <kind>` instant in
 * the Chrome trace and as a count in `--stats`; the log agrees with the links' own counters, and
 * the same seed gives the same counts.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatRunStats, runApp } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');

async function run(seed: number) {
  const r = await runApp(APP, { seed, trace: true, output: () => {} });
  return { r, trace: r.simulation.trace.toJSON(), counts: r.simulation.faults.counts() };
}

describe('fault accounting', () => {
  it('every link fault is one trace instant and one --stats count, equal to the links’ counters, by seed', async () => {
    const a = await run(7);
    const links = a.r.network!.simulated.fabric.links.map((l) => l.totals());
    const sum = (k: 'lost' | 'duplicated' | 'reordered') => links.reduce((n, t) => n + t[k], 0);
    expect(a.counts['link.loss']).toBeGreaterThan(0);
    expect(a.counts['link.loss'] ?? 0).toBe(sum('lost') - (a.counts['link.partitioned'] ?? 0));
    expect(a.counts['link.duplicate'] ?? 0).toBe(sum('duplicated'));
    expect(a.counts['link.reorder'] ?? 0).toBe(sum('reordered'));
    for (const [kind, n] of Object.entries(a.counts)) {
      expect(a.trace.split(`"name":"fault: ${kind}"`).length - 1, kind).toBe(n);
    }
    const stats = formatRunStats(a.r);
    expect(stats).toContain(`ebbrt: faults: `);
    for (const [kind, n] of Object.entries(a.counts)) expect(stats).toContain(`${kind} ${n}`);
    const b = await run(7);
    expect(b.counts).toEqual(a.counts);
    expect(b.trace).toBe(a.trace);
  }, 120_000);
});

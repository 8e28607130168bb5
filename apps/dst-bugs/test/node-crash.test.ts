/**
 * Node crash and restart (issue 18, node faults), end to end on the counter app: the server
 * (node 2) crashes at a seeded time and restarts with fresh memory under its old id, address and
 * MAC. The client (node 1) sees the crash as dead connections whose errors name node 2, hears the
 * restarted server's HELLO (incarnation 1) and replaces the stale connection, and the adds the
 * restarted server applied are exactly the adds it acked. Every crash and restart is a counted
 * fault and a trace instant, and the same seed replays the same trace byte for byte.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatRunStats, runApp } from '@ebbrt/runtime';
import { expectFaultReplaysAndMatters } from './fixtures/fault-digest.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CRASH = 'ebbrt.crash.config.ts';

async function run(seed: number, configFile = CRASH, untilNs?: number) {
  const lines: string[] = [];
  const r = await runApp(APP, { seed, configFile, trace: true, output: (l) => lines.push(l), ...(untilNs !== undefined ? { untilNs } : {}) });
  return { r, lines, trace: r.simulation.trace.toJSON(), counts: r.simulation.faults.counts() };
}

const boots = (lines: readonly string[]) => lines.map((l) => /server up boot (\d+)/.exec(l)?.[1]).filter((b) => b !== undefined);

describe('a node that crashes and restarts', () => {
  it('over 8 seeds: counted and traced, peers get errors naming node 2, the restarted server holds exactly what it acked', async () => {
    let peerErrors = 0;
    let restartedMidRun = 0;
    let replaced = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const { r, lines, trace, counts } = await run(seed);
      const ctx = `seed ${seed}`;
      expect(counts['node.crash'], ctx).toBe(1);
      expect(counts['node.restart'], ctx).toBe(1);
      expect(trace.split('"name":"fault: node.crash"').length - 1, ctx).toBe(1);
      expect(trace.split('"name":"fault: node.restart"').length - 1, ctx).toBe(1);
      expect(formatRunStats(r), ctx).toMatch(/node\.crash 1.*node\.restart 1|node\.restart 1.*node\.crash 1/);
      // Two lives of the server, each booted from nothing (its clock at boot names it).
      const [first, second] = boots(lines);
      expect(boots(lines), ctx).toHaveLength(2);
      expect(Number(second), ctx).toBeGreaterThan(Number(first));
      expect(lines.some((l) => l.includes('client done acked total 465')), ctx).toBe(true);
      // The client's view of the crash: its connection to node 2 died, and the error says so.
      const dead = lines.filter((l) => l.includes('node 1') && /connection to node 2 \(10\.0\.0\.3:7000\) (was lost|could not be opened)/.test(l));
      const heard = lines.some((l) => l.includes('server restarted: boot'));
      if (heard) {
        restartedMidRun++;
        peerErrors += dead.length > 0 ? 1 : 0;
        if (lines.some((l) => /messenger node 1: node 2 restarted \(incarnation 0 -> 1\)/.test(l))) replaced++;
        // Totals exact after the rejoin: what the restarted server holds is what it acked.
        const held = lines.map((l) => /server total (\d+) boot (\d+)/.exec(l)).findLast((m) => m !== null);
        expect(held?.[2], ctx).toBe(second);
        const acked = lines.map((l) => /client acked (\d+) to server boot (\d+)/.exec(l)).find((m) => m?.[2] === second);
        expect(acked?.[1], ctx).toBe(held?.[1]);
        // ... and the client's adds acked by both lives add up to all 30.
        const sums = lines.map((l) => /client acked (\d+) to server boot/.exec(l)?.[1]).filter((s) => s !== undefined);
        expect(sums.reduce((a, s) => a + Number(s), 0), ctx).toBe(465);
      }
      expect(r.failures, ctx).toEqual([]);
    }
    // The window is wide enough that most seeds crash the server while the client is using it.
    expect(restartedMidRun).toBeGreaterThanOrEqual(4);
    expect(peerErrors).toBe(restartedMidRun);
    expect(replaced).toBeGreaterThan(0);
  }, 300_000);

  it('the same seed replays the crash byte for byte; without the crash the trace differs', async () => {
    await expectFaultReplaysAndMatters(APP, CRASH, 2, ['link.loss'], 'node.crash');
  }, 300_000);

  it('a node that stays down: the peer’s pending sends reject with an error naming it', async () => {
    // Crash at 30 ms, no restart, 3 s of virtual time: the client's connection times out and every reconnect fails.
    const { lines, counts } = await run(2, 'ebbrt.crash-forever.config.ts', 3e9);
    expect(counts['node.crash']).toBe(1);
    expect(counts['node.restart']).toBeUndefined();
    const failed = lines.filter((l) => /send \d+ failed: node 2: /.test(l));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatch(/send \d+ failed: node 2: connection to node 2 \(10\.0\.0\.3:7000\) (could not be opened|was lost)/);
    expect(lines.some((l) => l.includes('client done'))).toBe(false);
  }, 300_000);
});

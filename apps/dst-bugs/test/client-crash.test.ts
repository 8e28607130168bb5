/**
 * A crash of the CLIENT node (issue 18, node faults): node 1 crashes at a seeded time and
 * restarts with fresh memory, so its `main` runs again as a new session, while the server
 * (node 2) keeps its state. What the peer sees: its connection from node 1 is reset (the new
 * life's stack answers the old connection's segments with a RST), the error names node 1, and
 * the restarted client's HELLO (incarnation 1) makes the server replace the stale connection.
 * The new session's 30 adds are all acked and applied once; the server holds the earlier
 * session's acked adds on top (and at most the one add that was in flight at the crash).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatRunStats, runApp, type InvariantContext } from '@ebbrt/runtime';
import { invariants } from '../ebbrt.invariants.js';
import { expectFaultReplaysAndMatters } from './fixtures/fault-digest.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_CRASH = 'ebbrt.client-crash.config.ts';

async function run(seed: number) {
  const lines: string[] = [];
  const r = await runApp(APP, { seed, configFile: CLIENT_CRASH, trace: true, output: (l) => lines.push(l) });
  return { r, lines, trace: r.simulation.trace.toJSON(), counts: r.simulation.faults.counts() };
}

const check = (lines: string[]) => {
  const ctx = { seed: 0, faults: [], lines, run: undefined as never } satisfies InvariantContext;
  return Object.entries(invariants).map(([name, inv]) => [name, inv(ctx)] as const).filter(([, v]) => v !== true && v !== undefined);
};

describe('a client node that crashes and restarts', () => {
  it('over 8 seeds: counted and traced, the server sees node 1 reset and restarted, the new session completes and nothing is applied twice', async () => {
    let serverSaw = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const { r, lines, trace, counts } = await run(seed);
      const ctx = `seed ${seed}`;
      expect(counts['node.crash'], ctx).toBe(1);
      expect(counts['node.restart'], ctx).toBe(1);
      expect(trace.split('"name":"fault: node.crash"').length - 1, ctx).toBe(1);
      expect(formatRunStats(r), ctx).toMatch(/node\.crash 1/);
      // Two sessions of the client, the second numbered by its clock at restart; one server boot.
      const sessions = lines.map((l) => /\[node 1 core 0\] client up session (\d+)/.exec(l)?.[1]).filter((s) => s !== undefined);
      expect(sessions, ctx).toHaveLength(2);
      expect(Number(sessions[1]), ctx).toBeGreaterThan(0);
      expect(lines.filter((l) => l.includes('server up boot')), ctx).toHaveLength(1);
      expect(lines.filter((l) => l.includes('client done acked total 465')), ctx).toHaveLength(1);
      // The peer's view, when the crashed life had a connection to it.
      const restarted = lines.some((l) => /\[node 2 core 0 Messenger\] messenger node 2: node 1 restarted \(incarnation 0 -> 1\)/.test(l));
      const reset = lines.some((l) => /messenger node 2: connection to node 1 \(10\.0\.0\.2:\d+\) was lost: connection reset by peer/.test(l));
      if (restarted) serverSaw++;
      expect(reset, ctx).toBe(restarted);
      // The server's total is the adds acked by both sessions, plus at most the add in flight.
      const held = Number(/server total (\d+)/.exec(lines.find((l) => l.includes('server total'))!)![1]);
      expect(held, ctx).toBeGreaterThanOrEqual(465);
      expect(check(lines), ctx).toEqual([]);
      expect(r.failures, ctx).toEqual([]);
    }
    expect(serverSaw).toBeGreaterThanOrEqual(4);
  }, 300_000);

  it('the same seed replays byte for byte; without the crash the digest differs', async () => {
    await expectFaultReplaysAndMatters(APP, CLIENT_CRASH, 2, ['link.loss'], 'node.crash');
  }, 300_000);

  it('the invariant allows only the in-flight add of a crashed session, and catches a doubled one', () => {
    const lines = (held: number) => [
      '[node 1 core 0] client up session 0',
      ...[1, 2, 3, 4].map((n) => `[node 1 core 0] acked add ${n} (acked total ${(n * (n + 1)) / 2})`),
      '[node 1 core 0] client up session 9000',
      `[node 2 core 0] server total ${held} boot 0`,
      '[node 1 core 0] client acked 465 to server boot 0',
      '[node 1 core 0] client done acked total 465',
    ];
    const exactlyOnce = invariants['every add is applied exactly once']!;
    const at = (held: number) => exactlyOnce({ seed: 0, faults: [], lines: lines(held), run: undefined as never });
    expect(at(475)).toBe(true); // 465 + 10 acked by the first session
    expect(at(480)).toBe(true); // ... and its add 5, applied but never acked
    expect(at(481)).toMatch(/over 2 client lives the adds acked sum to 475 \(5 more were in flight at a crash\), the server holds 481/);
    expect(at(474)).toMatch(/the server holds 474/);
  });
});

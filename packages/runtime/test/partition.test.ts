/**
 * A network partition that heals (issue 18, node faults), end to end: node 2 streams 128 KiB to
 * node 1 over our TCP, one 2 KiB chunk a millisecond, while the switch cuts node 1 off for
 * exactly 100 ms. Nothing crosses the cut (each dropped frame is a counted fault), the stream
 * stalls for the whole partition, and after the heal TCP's retransmissions deliver every byte in
 * order. The partition is an instant in the trace and a count in `--stats`, the same seed replays
 * the trace byte for byte, and the run without the partition gives another trace.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatRunStats, runApp } from '../src/index.js';
import { baseConfig, tempApp } from './temp-app.js';

const CHUNKS = 64;
const CHUNK = 2048;
const PARTITION_NS = 100_000_000;

// Node 1 receives and hashes (FNV-1a) what arrives, noting the longest silence between two
// arrivals; node 2 sends a seeded-free, position-dependent byte pattern, hashing what it sends.
const streamApp = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
const byte = (i) => (i * 7 + (i >> 10)) & 255;
export async function main(ctx) {
  const nm = new EbbRef(SystemEbbIds.NetworkManager).deref();
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  if (ctx.node.id === 1) {
    let hash = 0x811c9dc5, n = 0, bad = -1, last = -1, maxGapUs = 0;
    const listener = nm.tcpListen(9, () => ({
      receive(c, d) {
        const now = timer.now();
        if (last >= 0) maxGapUs = Math.max(maxGapUs, now - last);
        last = now;
        for (const b of d.toUint8Array()) {
          if (b !== byte(n) && bad < 0) bad = n;
          hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
          n++;
        }
        d.releaseChain();
      },
      closed(c) { c.close(); ctx.log('received ' + n + ' bytes hash ' + hash + ' first bad ' + bad + ' max gap us ' + Math.round(maxGapUs)); },
    }));
    await listener.listening;
    return;
  }
  await timer.sleep(5000);
  await new Promise((resolve, reject) => {
    nm.tcpConnect('10.0.0.2', 9, {
      async connected(c) {
        let hash = 0x811c9dc5;
        for (let k = 0; k < ${CHUNKS}; k++) {
          const chunk = new Uint8Array(${CHUNK});
          for (let j = 0; j < chunk.length; j++) {
            chunk[j] = byte(k * ${CHUNK} + j);
            hash = Math.imul(hash ^ chunk[j], 0x01000193) >>> 0;
          }
          c.sendQueued(IOBuf.copyOf(chunk));
          await timer.sleep(1000);
        }
        ctx.log('sent ' + ${CHUNKS * CHUNK} + ' bytes hash ' + hash);
        c.shutdown();
      },
      receive(c, d) { d.releaseChain(); },
      closed(c) { c.close(); resolve(); },
      aborted(c, e) { reject(e); },
    });
  });
}
`;

const network = (partition: boolean) => ({
  link: { latencyNs: 20_000 },
  ...(partition ? { partition: { nodes: [1], afterNs: { min: 15_000_000, max: 40_000_000 }, durationNs: { min: PARTITION_NS, max: PARTITION_NS } } } : {}),
});

const apps = new Map<boolean, string>();
const removers: (() => void)[] = [];
afterAll(() => removers.forEach((r) => r()));
function app(partition: boolean): string {
  let dir = apps.get(partition);
  if (dir === undefined) {
    const a = tempApp(baseConfig({ clock: 'virtual', backend: { nodes: 2, machine: { cores: 1, memory: '16MiB' } }, network: network(partition) }), { 'main.mjs': streamApp });
    removers.push(a.remove);
    apps.set(partition, (dir = a.dir));
  }
  return dir;
}

async function run(partition: boolean, seed: number) {
  const lines: string[] = [];
  const r = await runApp(app(partition), { seed, trace: true, output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
  const received = /received (\d+) bytes hash (\d+) first bad (-?\d+) max gap us (\d+)/.exec(lines.find((l) => l.includes('received')) ?? '');
  const sent = /sent (\d+) bytes hash (\d+)/.exec(lines.find((l) => l.includes('sent')) ?? '');
  return { r, lines, received, sent, trace: r.simulation.trace.toJSON(), counts: r.simulation.faults.counts() };
}

describe('a network partition that heals', () => {
  it('over 3 seeds: the stream stalls for the whole partition, then completes byte-exact; counted in faults, the trace and --stats', async () => {
    for (const seed of [1, 2, 3]) {
      const { r, lines, received, sent, trace, counts } = await run(true, seed);
      const ctx = `seed ${seed}: ${lines.join("\n")}`;
      expect(r.failures, ctx).toEqual([]);
      expect(received, ctx).not.toBeNull();
      expect(sent, ctx).not.toBeNull();
      expect(received![1]).toBe(String(CHUNKS * CHUNK));
      expect(received![2]).toBe(sent![2]);
      expect(received![3]).toBe('-1');
      // No byte arrived for at least the partition's length: the cut is complete.
      expect(Number(received![4]), ctx).toBeGreaterThanOrEqual(PARTITION_NS / 1000);
      expect(counts['network.partition'], ctx).toBe(1);
      expect(counts['network.heal'], ctx).toBe(1);
      expect(counts['network.partition-drop'], ctx).toBeGreaterThan(0);
      expect(trace.split('"name":"fault: network.partition"').length - 1).toBe(1);
      expect(trace.split('"name":"fault: network.heal"').length - 1).toBe(1);
      expect(trace).toContain('"name":"fault: network.partition-drop"');
      expect(formatRunStats(r)).toMatch(new RegExp(`network\\.partition-drop ${counts['network.partition-drop']}\\b`));
      expect(formatRunStats(r)).toMatch(/network\.heal 1\b/);
      expect(r.network!.simulated.fabric.switch.stats.partitioned).toBe(counts['network.partition-drop']);
    }
  }, 300_000);

  it('the same seed replays the partition byte for byte; without it the trace differs and nothing stalls', async () => {
    const a = await run(true, 4);
    const b = await run(true, 4);
    expect(b.trace).toBe(a.trace);
    expect(b.lines).toEqual(a.lines);
    const off = await run(false, 4);
    expect(off.trace).not.toBe(a.trace);
    expect(off.counts['network.partition']).toBeUndefined();
    expect(off.received![2]).toBe(a.received![2]);
    expect(Number(off.received![4])).toBeLessThan(PARTITION_NS / 1000 / 10);
  }, 300_000);
});

import { describe, expect, it } from 'vitest';
import { seeds } from '@ebbrt/testkit/seeds';
import type { SteppingMode } from '@ebbrt/hw-x86sim';
import { here, nativeNode } from './fixtures.js';

/** A workload with cross-core traffic, timers, awaits and an idle poller. */
async function workload(seed: number, stepping: SteppingMode = 'chained'): Promise<{ log: string; trace: string }> {
  const f = nativeNode({ seed, cores: 4, trace: true, stepping });
  if (f.sim.stepping !== stepping) throw new Error(`asked for ${stepping} stepping, got ${f.sim.stepping}`);
  const log: string[] = [];
  const rec = (tag: string) => log.push(`${tag} c${here()} e${f.em().currentEventId()} t${f.sim.now()}`);
  for (let k = 0; k < 4; k++) {
    f.post(k, async () => {
      rec('boot');
      const em = f.em();
      if (k === 3) {
        let n = 0;
        const h = em.setIdleCallback(() => {
          rec('idle');
          if (++n === 5) h.stop();
        });
      }
      for (let i = 0; i < 10; i++) {
        em.spawnRemote(function remote() {
          rec(`remote ${k}->${i}`);
        }, (k + i) % 4);
        em.spawn(async function worker() {
          rec(`worker ${i}`);
          await f.timer().sleep((i * 17 + k * 5) % 40);
          rec(`woke ${i}`);
          const p = f.em().promise<void>();
          f.em().spawnRemote(() => p.resolve(), (k + 1) % 4);
          await p.promise;
          rec(`joined ${i}`);
        }, { async: i % 2 === 0 });
      }
      const h = f.timer().start(() => {
        rec('tick');
      }, 7, true);
      await f.timer().sleep(50);
      h.stop();
      rec('done');
    });
  }
  const r = await f.sim.run();
  if (r.reason !== 'quiescent') throw new Error(`run ended ${r.reason}`);
  return { log: log.join('\n'), trace: f.sim.trace.toJSON() };
}

describe('native determinism', () => {
  it('same seed gives the same (core, event id, virtual time) log and a byte-identical trace', async () => {
    const logs = new Set<string>();
    for (const seed of seeds(20)) {
      const a = await workload(seed);
      const b = await workload(seed);
      const hint = `seed ${seed} diverged; replay with EBBRT_SEED=${seed} pnpm vitest run packages/event-manager/test/determinism.test.ts`;
      expect(a.log.length, hint).toBeGreaterThan(0);
      expect(b.log, hint).toBe(a.log);
      expect(b.trace, hint).toBe(a.trace);
      expect(JSON.parse(a.trace).traceEvents?.length ?? JSON.parse(a.trace).length, hint).toBeGreaterThan(0);
      logs.add(a.log);
    }
    // The seed really drives the interleaving.
    if (seeds(20).length > 1) expect(logs.size).toBeGreaterThan(1);
  });

  it('chained stepping (one macrotask, job queues drained between steps) gives the log and trace of a macrotask per step', async () => {
    // The job queues are drained between two steps either way, so the same JS runs in the same
    // order inside the simulation: the seed alone decides the interleaving, byte for byte.
    for (const seed of seeds(20)) {
      const chained = await workload(seed, 'chained');
      const macrotask = await workload(seed, 'macrotask');
      const hint = `seed ${seed}: stepping modes diverged; replay with EBBRT_SEED=${seed}`;
      expect(chained.log, hint).toBe(macrotask.log);
      expect(chained.trace, hint).toBe(macrotask.trace);
    }
  });
});

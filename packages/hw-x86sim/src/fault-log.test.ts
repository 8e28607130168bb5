import { describe, expect, it } from 'vitest';
import { NETWORK_TRACE_PID } from './fault-log.js';
import { Simulation } from './simulation.js';
import { buildEthernetFrame, type FramePort } from './net/frame.js';
import { NetworkFabric, type LinkProps } from './net/link.js';

class Sink implements FramePort {
  got = 0;
  tx: FramePort | null = null;
  attach(tx: FramePort): void {
    this.tx = tx;
  }
  receive(): void {
    this.got++;
  }
}

/** Two hosts on a fabric; host a sends `n` frames to b over a link with `props`. */
async function linkRun(seed: number, props: Partial<LinkProps>, n = 200): Promise<{ sim: Simulation; trace: string }> {
  const sim = new Simulation({ seed, trace: true });
  const fab = new NetworkFabric(sim);
  const a = new Sink();
  const b = new Sink();
  fab.connect(a, props);
  fab.connect(b);
  for (let i = 0; i < n; i++) a.tx!.receive(buildEthernetFrame('02:00:00:00:00:0b', '02:00:00:00:00:0a', 0x88b5, Uint8Array.of(i & 255, 1, 2, 3)));
  await sim.run();
  return { sim, trace: sim.trace.toJSON() };
}

describe('FaultLog', () => {
  it('counts per kind and per trace process, sorted, and tells listeners', () => {
    const sim = new Simulation({ trace: true });
    const seen: string[] = [];
    const off = sim.faults.onFault((f) => seen.push(`${f.kind}@${f.pid}/${f.tid}`));
    sim.faults.record('core.stall', { pid: 2, tid: 1 }, { durationNs: 5 });
    sim.faults.record('a.first', { pid: 3, tid: 0 });
    sim.faults.record('core.stall', { pid: 3, tid: 0 });
    off();
    sim.faults.record('core.stall', { pid: 2, tid: 0 });
    expect(sim.faults.counts()).toEqual({ 'a.first': 1, 'core.stall': 3 });
    expect(Object.keys(sim.faults.counts())).toEqual(['a.first', 'core.stall']);
    expect(sim.faults.counts(2)).toEqual({ 'core.stall': 2 });
    expect(sim.faults.counts(9)).toEqual({});
    expect(sim.faults.count('core.stall')).toBe(3);
    expect(sim.faults.total).toBe(4);
    expect(seen).toEqual(['core.stall@2/1', 'a.first@3/0', 'core.stall@3/0']);
    const trace = sim.trace.toJSON();
    expect(trace).toContain('"name":"fault: core.stall","ph":"i","pid":2,"tid":1');
    expect(trace).toContain('"durationNs":5');
  });

  it('two simulations keep separate logs', () => {
    const a = new Simulation();
    const b = new Simulation();
    a.faults.record('x', { pid: 1, tid: 0 });
    expect(b.faults.total).toBe(0);
  });

  for (const [kind, props] of [
    ['link.loss', { loss: 0.2 }],
    ['link.duplicate', { duplicate: 0.2 }],
    ['link.reorder', { reorder: 0.2 }],
    ['link.corrupt', { corrupt: 0.2 }],
    ['link.partitioned', { partitioned: true }],
  ] as const) {
    it(`link fault ${kind}: counted like the link's own counter, marked on the network process, replayable by seed`, async () => {
      const clean = await linkRun(3, {});
      expect(clean.sim.faults.total).toBe(0);
      const run = await linkRun(3, props);
      const lane = run.sim.faults.count(kind);
      expect(lane).toBeGreaterThan(0);
      expect(run.sim.faults.counts()).toEqual({ [kind]: lane });
      expect(run.trace).toContain(`"name":"fault: ${kind}","ph":"i","pid":${NETWORK_TRACE_PID}`);
      expect(run.trace).toContain('"name":"process_name","ph":"M","pid":0');
      expect(run.trace).not.toBe(clean.trace);
      expect((await linkRun(3, props)).trace).toBe(run.trace);
      if (kind !== 'link.partitioned') expect((await linkRun(4, props)).trace).not.toBe(run.trace);
    });
  }
});

/**
 * A node agent's trace for the dashboard: the node process's simulation is not the front-end's,
 * so the front-end's trace tap never sees this node's events. At the first introspect that asks
 * for them, a bounded ring goes on this simulation's tap (this node's machine only: the gateway
 * is plumbing), and each answer carries the events after the front-end's cursor. A node nobody
 * watches never loads this module and keeps no trace.
 */
import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import type { NodeTraceBatch, TraceEventInfo } from '@ebbrt/interfaces';
import { TraceRing } from '@ebbrt/live-view';

/** Events one answer carries at most (the newest; the rest count as skipped). */
export const NODE_TRACE_BATCH = 1000;

export class NodeTrace {
  private readonly ring: TraceRing;

  constructor(simulation: Simulation, machine: Machine, capacity = 4096) {
    const ring = new TraceRing(capacity);
    const pid = machine.tracePid;
    const push = ring.push;
    // A filter in front of the ring's push: no allocation per event either way.
    simulation.trace.tap = (ph, p, tid, name, tsNs, durNs) => {
      if (p === pid) push(ph, p, tid, name, tsNs, durNs);
    };
    this.ring = ring;
  }

  /** The events after `after` (a cursor from an earlier answer, or 0). */
  since(after: number, max = NODE_TRACE_BATCH): NodeTraceBatch {
    // A cursor from before this node's process (re)started is past its ring: start over.
    const from = after > this.ring.newest ? 0 : after;
    const b = this.ring.since(from, max);
    const events: TraceEventInfo[] = b.entries.map((e) => ({ core: e.core, ph: e.ph, name: e.name, tsNs: e.tsNs, durNs: e.durNs }));
    return { events, skipped: b.skipped, last: b.last };
  }
}

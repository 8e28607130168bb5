/**
 * The dashboard's cores panel data: a node's per-core totals (read straight from a machine in
 * this process, or from a node agent's introspection) turned into rates between two snapshots.
 * Rates are per host (wall) second, the time a viewer sees pass.
 */
import type { CoreSnapshot } from '@ebbrt/live-view';
import type { CoreIntrospection } from '@ebbrt/interfaces';

interface Sample {
  atMs: number;
  events: number;
  busyMs: number;
  eventsPerSec: number | undefined;
  idlePct: number | undefined;
}

/** Remembers each core's previous totals, keyed by node and core. */
export class CoreRates {
  private readonly last = new Map<string, Sample>();

  constructor(
    /** An unfinished event older than this (simulation ms) is shown as late (the watchdog's budget). */
    private readonly watchdogMs: number,
  ) {}

  /**
   * `atMs` is the host time the totals were read. Reading the same totals again (a remote node's
   * answer not yet refreshed) keeps the rates of the last window.
   */
  snapshot(node: number, c: CoreIntrospection, atMs: number): CoreSnapshot {
    const key = `${node}:${c.index}`;
    const events = c.eventsDispatched ?? 0;
    const prev = this.last.get(key);
    let eventsPerSec = prev?.eventsPerSec;
    let idlePct = prev?.idlePct;
    if (prev === undefined || atMs > prev.atMs) {
      if (prev !== undefined) {
        const dt = atMs - prev.atMs;
        eventsPerSec = ((events - prev.events) * 1000) / dt;
        idlePct = Math.min(100, Math.max(0, 100 * (1 - (c.busyHostMs - prev.busyMs) / dt)));
      }
      this.last.set(key, { atMs, events, busyMs: c.busyHostMs, eventsPerSec, idlePct });
    }
    const out: CoreSnapshot = { index: c.index, state: c.state, slices: c.slices };
    if (eventsPerSec !== undefined) out.eventsPerSec = eventsPerSec;
    if (idlePct !== undefined) out.idlePct = idlePct;
    if (c.eventsQueued !== undefined) out.queued = c.eventsQueued;
    if (c.oldestEvent !== undefined) {
      const ageMs = c.oldestEvent.ageNs / 1e6;
      out.oldest = { name: c.oldestEvent.name, ageMs, late: ageMs > this.watchdogMs };
    }
    return out;
  }

  /** Forgets a node's cores (it died: a new node may reuse nothing, but keep the map small). */
  forget(node: number): void {
    for (const k of this.last.keys()) if (k.startsWith(`${node}:`)) this.last.delete(k);
  }
}

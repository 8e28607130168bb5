import type { TraceArgs, TraceRecorder } from './trace.js';

/**
 * Trace process id of the network (links, the switch): faults that belong to no machine are
 * drawn there. Machines use pid = id + 1, so 0 is free.
 */
export const NETWORK_TRACE_PID = 0;

/** Where a fault happened: a trace process (a machine's `tracePid`, or the network) and thread (a core). */
export interface FaultSite {
  pid: number;
  tid: number;
}

/** One injected fault, as listeners see it. */
export interface FaultRecord {
  /** Dotted fault kind, e.g. `link.loss`, `virtio-net.interrupt-lost`, `core.stall`, `node.crash`. */
  kind: string;
  pid: number;
  tid: number;
  timeNs: number;
  args: TraceArgs | undefined;
}

/**
 * The simulation's account of every fault it injected (one per simulation, `sim.faults`): a count
 * per kind and per trace process, and an instant event `fault: <kind>` in the Chrome trace.
 * Components that inject faults (links, devices, cores, the runtime's node crashes) call `record`;
 * `--stats` and the seed runner read `counts()`.
 */
export class FaultLog {
  private readonly totals = new Map<string, number>();
  private readonly perPid = new Map<number, Map<string, number>>();
  private readonly listeners: Array<(f: FaultRecord) => void> = [];
  private networkNamed = false;

  /** @internal created by the simulation. */
  constructor(
    private readonly trace: TraceRecorder,
    private readonly now: () => number,
  ) {}

  /** Counts one fault of `kind` at `site` and marks it in the trace (args: what the fault was). */
  record(kind: string, site: FaultSite, args?: TraceArgs): void {
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    let mine = this.perPid.get(site.pid);
    if (mine === undefined) this.perPid.set(site.pid, (mine = new Map()));
    mine.set(kind, (mine.get(kind) ?? 0) + 1);
    const timeNs = this.now();
    if (this.trace.enabled) {
      if (site.pid === NETWORK_TRACE_PID && !this.networkNamed) {
        this.networkNamed = true;
        this.trace.processName(NETWORK_TRACE_PID, 'network');
      }
      this.trace.instant(site.pid, site.tid, `fault: ${kind}`, timeNs, args);
    }
    for (const l of this.listeners) l({ kind, pid: site.pid, tid: site.tid, timeNs, args });
  }

  /** Calls `listener` for every fault recorded from now on. Returns a function that removes it. */
  onFault(listener: (f: FaultRecord) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Faults of `kind` so far (everywhere). */
  count(kind: string): number {
    return this.totals.get(kind) ?? 0;
  }

  /** Every kind seen, with its count, sorted by kind; only those of trace process `pid` when given. */
  counts(pid?: number): Record<string, number> {
    const source = pid === undefined ? this.totals : (this.perPid.get(pid) ?? new Map<string, number>());
    const out: Record<string, number> = {};
    for (const k of [...source.keys()].sort()) out[k] = source.get(k)!;
    return out;
  }

  /** All faults so far. */
  get total(): number {
    let n = 0;
    for (const v of this.totals.values()) n += v;
    return n;
  }
}

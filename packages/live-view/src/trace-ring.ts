/**
 * A bounded ring of trace events for a live view: the server side of the trace panel. `push` has
 * the TraceRecorder tap's signature and writes into preallocated columns, so tapping a run
 * allocates nothing per event; the oldest events are overwritten. Readers page through it by
 * sequence number (`since`) and learn how many they missed when they fell behind.
 */

/** One trace event as the page gets it. */
export interface TraceEntry {
  /** Position in the whole stream (1, 2, ...): gaps mean events were overwritten before being read. */
  seq: number;
  /**
   * The node (network id) whose machine made it; a machine that is no node (the network's
   * gateway) by its name; undefined when unknown.
   */
  node: number | string | undefined;
  core: number;
  ph: 'X' | 'i';
  name: string;
  tsNs: number;
  /** Span length (0 for an instant). */
  durNs: number;
}

export interface TraceBatch {
  entries: TraceEntry[];
  /** Events between the asked seq and the first entry that are gone (overwritten, or beyond `max`). */
  skipped: number;
  /** Pass this as `after` next time. */
  last: number;
}

export class TraceRing {
  readonly capacity: number;
  private readonly ph: Uint8Array;
  private readonly pid: Int32Array;
  private readonly tid: Int32Array;
  private readonly ts: Float64Array;
  private readonly dur: Float64Array;
  private readonly names: string[];
  /** The node an event was pushed for (`pushFrom`), or -1: ask `nodeOf` with its pid. */
  private readonly node: Int32Array;
  /** Events pushed so far; the newest has seq = count. */
  private count = 0;

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`trace ring capacity must be an integer >= 1, got ${String(capacity)}`);
    this.capacity = capacity;
    this.ph = new Uint8Array(capacity);
    this.pid = new Int32Array(capacity);
    this.tid = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.dur = new Float64Array(capacity);
    this.names = new Array<string>(capacity).fill('');
    this.node = new Int32Array(capacity);
  }

  /** The newest event's seq (0: none yet). */
  get newest(): number {
    return this.count;
  }

  /** A TraceRecorder tap: `recorder.tap = ring.push`. Bound, so it can be passed as is. */
  readonly push = (ph: 'X' | 'i', pid: number, tid: number, name: string, tsNs: number, durNs: number): void => {
    const i = this.count % this.capacity;
    this.ph[i] = ph === 'X' ? 1 : 0;
    this.pid[i] = pid;
    this.tid[i] = tid;
    this.names[i] = name;
    this.ts[i] = tsNs;
    this.dur[i] = durNs;
    this.node[i] = -1;
    this.count++;
  };

  /**
   * An event of a node whose trace is not this process's (a node in its own process sends its
   * events over its control channel): kept with its node, so `nodeOf` is not asked.
   */
  pushFrom(node: number, ph: 'X' | 'i', core: number, name: string, tsNs: number, durNs: number): void {
    if (!Number.isInteger(node) || node < 0) throw new RangeError(`trace: node must be an integer >= 0, got ${String(node)}`);
    this.push(ph, -1, core, name, tsNs, durNs);
    this.node[(this.count - 1) % this.capacity] = node;
  }

  /**
   * Events with seq > `after`, oldest first, at most `max` (the newest ones when there are more).
   * `nodeOf` maps a trace pid to its node (a machine's tracePid to its network id, or a name).
   */
  since(after: number, max: number, nodeOf: (pid: number) => number | string | undefined = () => undefined): TraceBatch {
    if (!Number.isInteger(after) || after < 0) throw new RangeError(`trace: 'after' must be an integer >= 0, got ${String(after)}`);
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`trace: 'max' must be an integer >= 0, got ${String(max)}`);
    const last = this.count;
    const from = Math.max(after, last - this.capacity, last - max);
    const entries: TraceEntry[] = [];
    for (let seq = from + 1; seq <= last; seq++) {
      const i = (seq - 1) % this.capacity;
      const node = this.node[i]!;
      entries.push({ seq, node: node >= 0 ? node : nodeOf(this.pid[i]!), core: this.tid[i]!, ph: this.ph[i] === 1 ? 'X' : 'i', name: this.names[i]!, tsNs: this.ts[i]!, durNs: this.dur[i]! });
    }
    return { entries, skipped: Math.max(0, from - after), last };
  }
}

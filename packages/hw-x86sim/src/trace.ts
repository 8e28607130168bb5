/**
 * Chrome trace-event recorder (the JSON format Perfetto and chrome://tracing load).
 *
 * Conventions: a machine is a process (pid = machine id + 1; other components such as a front end
 * pick their own pid), a core is a thread (tid = core index). Times are taken in nanoseconds and
 * written in microseconds (fractional). Disabled recorders drop everything at the cost of one
 * boolean test. Under a virtual clock only virtual times go in, so the JSON is byte-identical for
 * the same seed and inputs.
 */

/** Extra key/values shown with an event. Keep values JSON-serialisable and deterministic. */
export type TraceArgs = Record<string, string | number | boolean | null>;

interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  args?: TraceArgs | { name: string };
}

export class TraceRecorder {
  /** Whether events are recorded. Check it before building costly args. */
  readonly enabled: boolean;
  private readonly events: TraceEvent[] = [];

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Name a process (pid) in the viewer. */
  processName(pid: number, name: string): void {
    if (!this.enabled) return;
    this.events.push({ name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name } });
  }

  /** Name a thread (pid, tid) in the viewer. */
  threadName(pid: number, tid: number, name: string): void {
    if (!this.enabled) return;
    this.events.push({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
  }

  /** A span of `durNs` starting at `tsNs`. */
  complete(pid: number, tid: number, name: string, tsNs: number, durNs: number, args?: TraceArgs): void {
    if (!this.enabled) return;
    const e: TraceEvent = { name, ph: 'X', pid, tid, ts: tsNs / 1000, dur: durNs / 1000 };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  /** A point event on a thread. */
  instant(pid: number, tid: number, name: string, tsNs: number, args?: TraceArgs): void {
    if (!this.enabled) return;
    const e: TraceEvent = { name, ph: 'i', pid, tid, ts: tsNs / 1000, s: 't' };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  /** A counter sample: each key of `values` is a series named under `name`. */
  counter(pid: number, name: string, tsNs: number, values: Record<string, number>): void {
    if (!this.enabled) return;
    this.events.push({ name, ph: 'C', pid, tid: 0, ts: tsNs / 1000, args: values });
  }

  /** Number of recorded events. */
  get length(): number {
    return this.events.length;
  }

  /** The trace as `{"traceEvents":[...],"displayTimeUnit":"ns"}`, one event per line. */
  toJSON(): string {
    const lines = this.events.map((e) => JSON.stringify(e));
    return `{"traceEvents":[\n${lines.join(',\n')}\n],"displayTimeUnit":"ns"}\n`;
  }
}

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

/**
 * Receives every span and instant as it is made (a live view's ring buffer). Called with the
 * recorder's own arguments; it must not keep `args` mutable or feed anything back into the
 * simulation, so a tapped run traces exactly like an untapped one.
 */
export type TraceTap = (ph: 'X' | 'i', pid: number, tid: number, name: string, tsNs: number, durNs: number, args: TraceArgs | undefined) => void;

export class TraceRecorder {
  /** Whether events are kept for `toJSON` (the `trace` option). */
  readonly recording: boolean;
  private readonly events: TraceEvent[] = [];
  private _tap: TraceTap | null = null;
  private _enabled: boolean;

  constructor(enabled: boolean) {
    this.recording = enabled;
    this._enabled = enabled;
  }

  /**
   * Whether anyone listens (recording, or a tap): check it before building costly args. Parts
   * that check it once at construction keep what they saw; a tap set later sees the rest.
   */
  get enabled(): boolean {
    return this._enabled;
  }

  /** The live tap (null: none). Setting it turns tracing on without recording more events. */
  get tap(): TraceTap | null {
    return this._tap;
  }

  set tap(tap: TraceTap | null) {
    this._tap = tap;
    this._enabled = this.recording || tap !== null;
  }

  /** Name a process (pid) in the viewer. */
  processName(pid: number, name: string): void {
    if (!this.recording) return;
    this.events.push({ name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name } });
  }

  /** Name a thread (pid, tid) in the viewer. */
  threadName(pid: number, tid: number, name: string): void {
    if (!this.recording) return;
    this.events.push({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
  }

  /** A span of `durNs` starting at `tsNs`. */
  complete(pid: number, tid: number, name: string, tsNs: number, durNs: number, args?: TraceArgs): void {
    if (!this._enabled) return;
    if (this._tap !== null) this._tap('X', pid, tid, name, tsNs, durNs, args);
    if (!this.recording) return;
    const e: TraceEvent = { name, ph: 'X', pid, tid, ts: tsNs / 1000, dur: durNs / 1000 };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  /** A point event on a thread. */
  instant(pid: number, tid: number, name: string, tsNs: number, args?: TraceArgs): void {
    if (!this._enabled) return;
    if (this._tap !== null) this._tap('i', pid, tid, name, tsNs, 0, args);
    if (!this.recording) return;
    const e: TraceEvent = { name, ph: 'i', pid, tid, ts: tsNs / 1000, s: 't' };
    if (args !== undefined) e.args = args;
    this.events.push(e);
  }

  /** A counter sample: each key of `values` is a series named under `name`. */
  counter(pid: number, name: string, tsNs: number, values: Record<string, number>): void {
    if (!this.recording) return;
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

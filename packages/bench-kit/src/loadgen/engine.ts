/**
 * The transport-independent core of the load generator: which request goes on which connection
 * when, and what each response's latency was. A transport (node:net in tcp-client.ts, a simulated
 * node's NetworkManager in the memcached bench) owns the connections and the clock, calls
 * `pump(now)` often, hands every received piece of bytes to `receive`, and sends what `pump`
 * asks it to through `LoadConnection.write` (which must copy the bytes: the buffer is reused).
 *
 * Open loop: intended send times come from an OpenLoopSchedule at the offered rate, requests go
 * round-robin over the connections (several may be outstanding on one: memcached pipelines), and
 * a latency is response time minus *intended* time. The generator's own lateness (actual send -
 * intended, the actual send read from `clock` at each connection's write) has its own histogram,
 * and so has the latency from the actual send (what a generator with coordinated omission would
 * report): a run whose lateness is of the SLA's size measured the generator, not the server.
 * Due requests also go out from `receive`, so one busy poll phase of many connections' replies
 * does not hold them back until the next `pump`. Closed loop (for finding a server's peak):
 * each connection keeps `depth` requests outstanding and sends the next on each response; its
 * latency is from the actual send.
 *
 * Phases: fill (one SET per key, so GETs hit), then warm-up (sent, not recorded), then the
 * measured window, then a drain for outstanding replies; requests of the window still unanswered
 * at the drain deadline are recorded at their age then (a lower bound) and counted.
 */
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { OP_GET, OP_SET, ResponseParser, STATUS_KEY_NOT_FOUND } from './memcache-binary.js';
import { OpenLoopSchedule, type Arrivals } from './pacing.js';
import { Workload, type WorkloadOptions } from './workload.js';

export interface LoadConnection {
  /** Sends `buf[0..length)`; must copy (the engine reuses `buf`). */
  write(buf: Uint8Array, length: number): void;
}

export type LoadMode = { kind: 'open'; rate: number; arrivals?: Arrivals } | { kind: 'closed'; depth?: number };

export interface EngineOptions {
  mode: LoadMode;
  connections: number;
  workload?: WorkloadOptions;
  /** Sent but not recorded, after the fill (default 0.2 s). */
  warmupNs?: number;
  /** The measured window (default 1 s). */
  durationNs?: number;
  /** How long to wait for outstanding replies after the window (default 0.5 s). */
  drainNs?: number;
  /** Outstanding requests the engine can track (power of two, default 2^20). Beyond: `saturated`. */
  maxOutstanding?: number;
  /**
   * The transport's clock (ns), read just before each connection's write: the actual send time.
   * Default: the `nowNs` of the pump or receive that sent the request.
   */
  clock?: () => number;
}

export interface LoadResult extends LatencySummary {
  mode: 'open' | 'closed';
  /** Offered requests per second (open loop); NaN for closed loop. */
  offeredOpsPerSec: number;
  /** Responses to requests of the window, per second of window. */
  achievedOpsPerSec: number;
  connections: number;
  windowSeconds: number;
  /** Requests whose intended time fell in the window. */
  requests: number;
  /** Requests sent from start to done (warm-up and window; the fill not counted). */
  sent: number;
  /** Of those, still unanswered at the drain deadline (recorded at their age then). */
  unanswered: number;
  getMisses: number;
  /** SETs that did not return status 0. */
  setErrors: number;
  /** The engine ran out of tracking slots (the server fell hopelessly behind): sending stopped. */
  saturated: boolean;
  /** Open loop: p99 of (actual send - intended send), the generator's own lateness. */
  sendLagP99Ns: number;
  /** Open loop: the whole lateness distribution (actual send - intended), requests of the window. */
  lateness: LatencySummary;
  /** Latency from the actual send instead of the intended one (coordinated omission, for comparison). */
  uncorrected: LatencySummary;
  errors: string[];
}

type Phase = 'idle' | 'filling' | 'running' | 'draining' | 'done';

export class LoadEngine {
  readonly workload: Workload;
  readonly latency = new LatencyHistogram();
  /** Actual send - intended send, open loop, requests of the window. */
  readonly lateness = new LatencyHistogram();
  /** Response - actual send, requests of the window. */
  readonly uncorrected = new LatencyHistogram();
  private readonly conns: (LoadConnection | undefined)[];
  private readonly parsers: ResponseParser[];
  private readonly out: Uint8Array[];
  private readonly outLen: Int32Array;
  /** Per connection: the tracking slots of the requests in `out`, not yet written. */
  private readonly outSlots: Int32Array[];
  private readonly outCount: Int32Array;
  private readonly clock: (() => number) | undefined;
  private readonly dirty: number[] = [];
  private readonly mask: number;
  /** Per tracking slot: intended time, the opaque that owns it, whether it is outstanding. */
  private readonly intended: Float64Array;
  private readonly sent: Float64Array;
  private readonly owner: Uint32Array;
  private readonly pending: Uint8Array;
  private readonly isGet: Uint8Array;
  private readonly warmupNs: number;
  private readonly durationNs: number;
  private readonly drainNs: number;
  private phase: Phase = 'idle';
  private schedule: OpenLoopSchedule | undefined;
  private seq = 0;
  private rr = 0;
  private outstanding = 0;
  private fillLeft = 0;
  private onFilled: (() => void) | undefined;
  private nowNs = 0;
  private windowStartNs = 0;
  private windowEndNs = 0;
  private requests = 0;
  private issued = 0;
  private completed = 0;
  private unanswered = 0;
  private getMisses = 0;
  private setErrors = 0;
  private saturated = false;
  private readonly errors: string[] = [];
  private connected = 0;

  constructor(readonly options: EngineOptions) {
    const { connections } = options;
    if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be a positive integer, got ${connections}`);
    if (options.mode.kind === 'closed') {
      const depth = options.mode.depth ?? 1;
      if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`closed-loop depth must be a positive integer, got ${depth}`);
    }
    const slots = options.maxOutstanding ?? 1 << 20;
    if (!Number.isInteger(Math.log2(slots)) || slots < 2) throw new RangeError(`maxOutstanding must be a power of two >= 2, got ${slots}`);
    this.warmupNs = options.warmupNs ?? 0.2e9;
    this.durationNs = options.durationNs ?? 1e9;
    this.drainNs = options.drainNs ?? 0.5e9;
    for (const [k, v] of [['warmupNs', this.warmupNs], ['durationNs', this.durationNs], ['drainNs', this.drainNs]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${k} must be a non-negative number, got ${v}`);
    }
    if (!(this.durationNs > 0)) throw new RangeError('durationNs must be positive');
    this.workload = new Workload(options.workload);
    this.conns = new Array<LoadConnection | undefined>(connections).fill(undefined);
    this.parsers = Array.from({ length: connections }, (_, i) => new ResponseParser((op, status, opaque) => this.response(i, op, status, opaque)));
    // Room for a burst of requests per connection between flushes; grown on demand.
    this.out = Array.from({ length: connections }, () => new Uint8Array(Math.max(4096, this.workload.maxRequestBytes * 8)));
    this.outLen = new Int32Array(connections);
    this.outSlots = Array.from({ length: connections }, () => new Int32Array(64));
    this.outCount = new Int32Array(connections);
    this.clock = options.clock;
    this.mask = slots - 1;
    this.intended = new Float64Array(slots);
    this.sent = new Float64Array(slots);
    this.owner = new Uint32Array(slots);
    this.pending = new Uint8Array(slots);
    this.isGet = new Uint8Array(slots);
  }

  /** Connection `i` is up. */
  attach(i: number, conn: LoadConnection): void {
    if (this.conns[i] === undefined) this.connected++;
    this.conns[i] = conn;
  }

  get allConnected(): boolean {
    return this.connected === this.conns.length;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Bytes from connection `i`, received at `nowNs`. */
  receive(i: number, bytes: Uint8Array, offset: number, length: number, nowNs: number): void {
    this.nowNs = nowNs;
    try {
      this.parsers[i]!.feed(bytes, offset, length);
    } catch (e) {
      this.fail(`connection ${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.phase === 'running') this.sendDue(nowNs);
    this.flush();
  }

  /** Connection `i` failed or closed early: the run ends with the reason in `errors`. */
  connectionLost(i: number, reason: string): void {
    if (this.phase === 'done') return;
    this.fail(`connection ${i}: ${reason}`);
  }

  /** SETs every key once, spread over the connections; `done` runs when all were answered. */
  fill(nowNs: number, done: () => void): void {
    if (!this.allConnected) throw new Error(`fill before all ${this.conns.length} connections attached (${this.connected} are)`);
    this.phase = 'filling';
    this.nowNs = nowNs;
    this.onFilled = done;
    const keys = this.workload.options.keys;
    this.fillLeft = keys;
    for (let k = 0; k < keys; k++) {
      const opaque = this.seq;
      const slot = this.track(nowNs, false);
      if (slot < 0) break;
      const i = k % this.conns.length;
      const at = this.room(i, slot);
      this.outLen[i] = at + this.workload.writeSet(this.out[i]!, at, k, opaque);
    }
    this.flush();
  }

  /** Starts the warm-up and then the window, at `nowNs`. */
  start(nowNs: number): void {
    if (!this.allConnected) throw new Error(`start before all ${this.conns.length} connections attached (${this.connected} are)`);
    this.nowNs = nowNs;
    this.windowStartNs = nowNs + this.warmupNs;
    this.windowEndNs = this.windowStartNs + this.durationNs;
    this.phase = 'running';
    const mode = this.options.mode;
    if (mode.kind === 'open') {
      this.schedule = new OpenLoopSchedule({ rate: mode.rate, startNs: nowNs, arrivals: mode.arrivals ?? 'poisson', seed: this.workload.options.seed });
    } else {
      const depth = mode.depth ?? 1;
      for (let d = 0; d < depth; d++) for (let i = 0; i < this.conns.length; i++) this.issue(i, nowNs);
    }
    this.pump(nowNs);
  }

  /** Sends every request due by `nowNs` and moves through the phases; false once done. */
  pump(nowNs: number): boolean {
    this.nowNs = nowNs;
    if (this.phase === 'running') {
      this.sendDue(nowNs);
      if (nowNs >= this.windowEndNs) this.phase = 'draining';
    }
    if (this.phase === 'draining' && (this.outstanding === 0 || nowNs >= this.windowEndNs + this.drainNs)) this.finish(nowNs);
    this.flush();
    return this.phase !== 'done';
  }

  /** The measured window [startNs, endNs) on the transport's clock; both 0 before `start`. */
  get windowNs(): { startNs: number; endNs: number } {
    return { startNs: this.windowStartNs, endNs: this.windowEndNs };
  }

  /**
   * When the next open-loop request is due (ns), so a transport can sleep instead of spinning
   * while nothing is due; NaN in closed loop or outside the window.
   */
  nextDueNs(): number {
    const sched = this.schedule;
    return this.phase === 'running' && sched !== undefined ? Math.min(sched.peek(), this.windowEndNs) : Number.NaN;
  }

  result(): LoadResult {
    const s = this.latency.summary();
    const window = this.durationNs / 1e9;
    const mode = this.options.mode;
    return {
      mode: mode.kind,
      offeredOpsPerSec: mode.kind === 'open' ? mode.rate : Number.NaN,
      achievedOpsPerSec: this.completed / window,
      connections: this.conns.length,
      windowSeconds: window,
      requests: this.requests,
      sent: this.issued,
      unanswered: this.unanswered,
      getMisses: this.getMisses,
      setErrors: this.setErrors,
      saturated: this.saturated,
      sendLagP99Ns: this.lateness.percentile(99),
      lateness: this.lateness.summary(),
      uncorrected: this.uncorrected.summary(),
      errors: [...this.errors],
      ...s,
    };
  }

  // ---------------------------------------------------------------- internals

  /** Takes a tracking slot for the next opaque; -1 (and `saturated`) when none is free. */
  private track(intendedNs: number, isGet: boolean): number {
    const slot = this.seq & this.mask;
    if (this.pending[slot] !== 0) {
      this.saturated = true;
      return -1;
    }
    this.pending[slot] = 1;
    this.intended[slot] = intendedNs;
    this.owner[slot] = this.seq >>> 0;
    this.isGet[slot] = isGet ? 1 : 0;
    this.seq = (this.seq + 1) >>> 0;
    this.outstanding++;
    return slot;
  }

  /** Open loop: issues every request intended by `nowNs` (and before the window's end). */
  private sendDue(nowNs: number): void {
    const sched = this.schedule;
    if (sched === undefined) return;
    const until = nowNs < this.windowEndNs ? nowNs : this.windowEndNs;
    let t: number;
    while (!this.saturated && !Number.isNaN((t = sched.take(until)))) {
      this.issue(this.rr, t);
      this.rr = this.rr + 1 === this.conns.length ? 0 : this.rr + 1;
    }
  }

  private issue(i: number, intendedNs: number): void {
    const opaque = this.seq;
    const slot = this.track(intendedNs, false);
    if (slot < 0) return;
    const at = this.room(i, slot);
    this.outLen[i] = at + this.workload.write(this.out[i]!, at, opaque);
    this.isGet[slot] = this.workload.lastOp === OP_GET ? 1 : 0;
    this.issued++;
    if (intendedNs >= this.windowStartNs && intendedNs < this.windowEndNs) this.requests++;
  }

  /** Makes room for one more request on connection `i` (tracked in `slot`); returns where it goes. */
  private room(i: number, slot: number): number {
    let buf = this.out[i]!;
    const at = this.outLen[i]!;
    if (at + this.workload.maxRequestBytes > buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf.subarray(0, at));
      this.out[i] = buf = bigger;
    }
    let slots = this.outSlots[i]!;
    const n = this.outCount[i]!;
    if (n === slots.length) {
      const more = new Int32Array(n * 2);
      more.set(slots);
      this.outSlots[i] = slots = more;
    }
    slots[n] = slot;
    this.outCount[i] = n + 1;
    if (at === 0) this.dirty.push(i);
    return at;
  }

  private flush(): void {
    const open = this.schedule !== undefined;
    for (let d = 0; d < this.dirty.length; d++) {
      const i = this.dirty[d]!;
      const conn = this.conns[i];
      // The actual send time: just before this connection's bytes go to the transport.
      const sentNs = this.clock !== undefined ? this.clock() : this.nowNs;
      const slots = this.outSlots[i]!;
      for (let k = 0, n = this.outCount[i]!; k < n; k++) {
        const slot = slots[k]!;
        this.sent[slot] = sentNs;
        const t = this.intended[slot]!;
        if (open && this.phase !== 'filling' && t >= this.windowStartNs && t < this.windowEndNs) this.lateness.record(sentNs - t);
      }
      if (conn !== undefined) conn.write(this.out[i]!, this.outLen[i]!);
      this.outLen[i] = 0;
      this.outCount[i] = 0;
    }
    this.dirty.length = 0;
  }

  private response(i: number, op: number, status: number, opaque: number): void {
    const slot = opaque & this.mask;
    if (this.pending[slot] === 0 || this.owner[slot] !== opaque) {
      this.fail(`connection ${i}: a response with opaque ${opaque} that no outstanding request has`);
      return;
    }
    const wasGet = this.isGet[slot] === 1;
    if ((op === OP_GET) !== wasGet || (op !== OP_GET && op !== OP_SET)) {
      this.fail(`connection ${i}: response opcode 0x${op.toString(16)} to a ${wasGet ? 'GET' : 'SET'}`);
      return;
    }
    this.pending[slot] = 0;
    this.outstanding--;
    const t = this.intended[slot]!;
    if (this.phase === 'filling') {
      if (status !== 0) this.setErrors++;
      if (--this.fillLeft === 0) {
        this.phase = 'idle';
        this.onFilled?.();
      }
      return;
    }
    const inWindow = t >= this.windowStartNs && t < this.windowEndNs;
    if (inWindow) {
      this.latency.record(this.nowNs - t);
      this.uncorrected.record(this.nowNs - this.sent[slot]!);
      this.completed++;
      if (wasGet && status === STATUS_KEY_NOT_FOUND) this.getMisses++;
      else if (status !== 0) this.setErrors++;
    }
    if (this.options.mode.kind === 'closed' && this.phase === 'running' && this.nowNs < this.windowEndNs) this.issue(i, this.nowNs);
  }

  private finish(nowNs: number): void {
    if (this.outstanding > 0) {
      for (let s = 0; s <= this.mask; s++) {
        if (this.pending[s] === 0) continue;
        const t = this.intended[s]!;
        if (t >= this.windowStartNs && t < this.windowEndNs) {
          this.latency.record(nowNs - t);
          this.uncorrected.record(nowNs - this.sent[s]!);
          this.unanswered++;
        }
      }
    }
    this.phase = 'done';
  }

  private fail(message: string): void {
    if (this.errors.length < 10) this.errors.push(message);
    if (this.phase === 'filling') this.onFilled?.();
    this.phase = 'done';
  }
}

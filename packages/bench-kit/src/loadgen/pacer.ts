/**
 * A precise wake-up for the load generator's event loop without spinning it. libuv's timers have
 * 1 ms granularity and the SLA is 500 µs, so the old generator spun on `setImmediate`, which keeps
 * a core busy: on a small machine that core is the server's, and the kernel treats a spinning task
 * as a CPU hog (it is preempted for whole time slices, ms late). Instead a worker thread sleeps in
 * `Atomics.wait` (sub-ms timeout) until the next request is due and wakes the main thread with a
 * message (an eventfd write: epoll returns at once). The main thread sleeps in epoll between
 * requests, and wakes early for replies as it always did.
 *
 * Optionally every thread of the process runs SCHED_FIFO (`chrt -a`, root only), so other
 * processes on a shared machine cannot delay a send by a time slice; the generator then sleeps
 * between sends, so it takes only the CPU it uses. Normal scheduling is restored by `stop()`.
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/** The worker: sleep until the deadline (or a re-arm), post a wake-up, wait for the next arm. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
const ctl = new Int32Array(workerData.ctl);
const deadline = new Float64Array(workerData.deadline);
const offsetMs = workerData.originMs - performance.timeOrigin;
let tid = -1;
try { tid = Number(readlinkSync('/proc/thread-self').split('/').pop()); } catch {}
parentPort.postMessage({ tid });
let seen = Atomics.load(ctl, 0);
while (Atomics.load(ctl, 1) === 0) {
  const d = deadline[0];
  if (Number.isNaN(d)) { Atomics.wait(ctl, 0, seen); seen = Atomics.load(ctl, 0); continue; }
  const waitMs = d + offsetMs - performance.now();
  if (waitMs > 0 && Atomics.wait(ctl, 0, seen, waitMs) !== 'timed-out') { seen = Atomics.load(ctl, 0); continue; }
  parentPort.postMessage(0);
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
}
`;

export interface PacerOptions {
  /** Called on the main thread when the armed deadline has come. */
  onWake: () => void;
  /** SCHED_FIFO priority (1-99) for the main thread and the pacer's; undefined = leave the policy. */
  realtime?: number;
}

export class Pacer {
  private readonly worker: Worker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(8));
  private readonly deadline = new Float64Array(new SharedArrayBuffer(8));
  private restore: (() => void) | undefined;
  /** Why `realtime` could not be applied, if it was asked for and failed. */
  realtimeError: string | undefined;
  readonly ready: Promise<void>;

  constructor(o: PacerOptions) {
    const prio = o.realtime;
    if (prio !== undefined && !(Number.isInteger(prio) && prio >= 1 && prio <= 99)) throw new RangeError(`realtime priority must be an integer in 1..99, got ${prio}`);
    this.deadline[0] = Number.NaN;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { ctl: this.ctl.buffer, deadline: this.deadline.buffer, originMs: performance.timeOrigin },
    });
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('message', (m: { tid: number }) => {
        if (o.realtime !== undefined) this.setRealtime(o.realtime, m.tid);
        this.worker.on('message', o.onWake);
        resolve();
      });
    });
  }

  /** Wake the main thread at `atMs` (this thread's performance.now()); NaN = not until re-armed. */
  arm(atMs: number): void {
    this.deadline[0] = atMs;
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }

  async stop(): Promise<void> {
    Atomics.store(this.ctl, 1, 1);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    this.restore?.();
    await this.worker.terminate();
  }

  /**
   * Every thread of the process, not only the two that pace and send: the main thread waits for
   * V8's GC helper threads in each scavenge, and at normal priority on a loaded machine those wait
   * for a CPU for tens of ms (seen with `perf sched timehist`: main and pacer both asleep 35 ms).
   */
  private setRealtime(priority: number, workerTid: number): void {
    const r = spawnSync('chrt', ['-a', '-f', '-p', String(priority), String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) this.realtimeError = `chrt -a -f -p ${priority} ${process.pid}: ${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}`;
    else if (workerTid <= 0) this.realtimeError = 'the pacer thread could not name its thread id (/proc/thread-self)';
    this.restore = () => void spawnSync('chrt', ['-a', '-o', '-p', '0', String(process.pid)]);
  }
}

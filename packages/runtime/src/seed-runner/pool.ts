/**
 * Worker processes for a seed search. Threads would share one event loop's worth of nothing, but
 * Node 20 cannot start a Worker on a .ts file; a child process with tsx's loader can, and a
 * simulation is CPU-bound, so processes are what spreads seeds over cores.
 *
 * Each worker holds up to `depth` jobs (default 2): it starts the next seed the moment it finishes
 * one, instead of idling for a round trip through the parent (which, on a busy machine, waits to
 * be scheduled). A worker runs its jobs one at a time, in the order sent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SeedJob, SeedResult } from './run-seed.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(FROM_SOURCE ? './worker.ts' : './seed-runner/worker.js', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

type Reply = { ok: true; result: SeedResult } | { ok: false; seed: number; error: string; crashed?: true };

export interface WorkerPoolOptions {
  /** Jobs a worker holds at once, the one it runs and those queued behind it (default 2). */
  depth?: number;
  /**
   * Start each worker in a session of its own (setsid). Linux's autogroup scheduler
   * (`/proc/sys/kernel/sched_autogroup_enabled`) shares the CPU fairly between sessions, not
   * processes: on a machine busy with other sessions, workers sharing the caller's session share
   * that one session's slice, so a second worker adds almost nothing. Default false (a search
   * takes no more of a shared machine than one process would).
   */
  ownSessions?: boolean;
  /** Extra Node flags for every worker, after the pool's own (`--cpu-prof`, say, to profile them). */
  execArgv?: readonly string[];
}

interface Pending {
  job: SeedJob;
  started: number;
  resolve(r: SeedResult): void;
  reject(e: Error): void;
}

interface Worker {
  child: ChildProcess;
  /** Jobs sent, in order: the head is running. */
  queue: Pending[];
}

/** A job whose worker died: the seed fails with the cause; its faults are the ones asked for, if exact. */
function crashed(job: SeedJob, cause: string, started: number): SeedResult {
  const faults = job.faults.kind === 'exact' ? [...job.faults.faults] : [];
  return { seed: job.seed, faults, digest: '', violation: `the worker crashed: ${cause}`, crashed: cause, ms: performance.now() - started };
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly waiting: Array<() => void> = [];
  readonly depth: number;
  private readonly ownSessions: boolean;
  private readonly execArgv: readonly string[];

  /** Workers respawned after a crash. */
  respawned = 0;
  private closed = false;

  constructor(readonly size: number, options: WorkerPoolOptions = {}) {
    this.depth = options.depth ?? 2;
    this.ownSessions = options.ownSessions ?? false;
    this.execArgv = options.execArgv ?? [];
    if (!Number.isInteger(this.depth) || this.depth < 1) throw new RangeError(`WorkerPool depth must be an integer >= 1, got ${this.depth}`);
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** Jobs the pool runs at once, counting the queued ones: how many a search keeps in flight. */
  get concurrency(): number {
    return this.size * this.depth;
  }

  private spawn(): Worker {
    // Apps' configs and entry points are TypeScript: every worker gets tsx's loader.
    // From source (the workspace), packages resolve to their .ts through the 'source' condition.
    const child = fork(WORKER, [], {
      // With a worker per core, V8's GC helper threads only fight the other workers for the
      // cores. Measured on 2 nearly idle cores (load ~3, 3 bench runs, both in each run): 2
      // workers 53.4, 49.7, 42.6 seeds/s with --single-threaded-gc (36.6-41.0 ms CPU a seed)
      // against 48.3, 39.2, 38.6 without (40.9-42.3 ms). A lone worker keeps its helpers (it
      // keeps ~1.27 cores busy).
      execArgv: [...(FROM_SOURCE ? ['--conditions=source'] : []), ...(this.size > 1 ? ['--single-threaded-gc'] : []), '--import', TSX, ...this.execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: this.ownSessions,
    });
    const worker: Worker = { child, queue: [] };
    child.on('message', (m: Reply) => this.onReply(worker, m));
    child.once('exit', (code, signal) => this.onDeath(worker, signal !== null ? `exited on signal ${signal}` : `exited with code ${code}`));
    return worker;
  }

  private onReply(worker: Worker, m: Reply): void {
    const head = worker.queue[0];
    if (head === undefined) return;
    if (!m.ok && m.crashed === true) {
      // The worker reported its own crash and is exiting: the exit handler settles the rest.
      worker.queue.shift();
      head.resolve(crashed(head.job, m.error, head.started));
      this.replace(worker);
      return;
    }
    worker.queue.shift();
    if (worker.queue[0] !== undefined) worker.queue[0].started = performance.now();
    if (m.ok) head.resolve(m.result);
    else head.reject(new Error(`seed ${m.seed}: ${m.error}`));
    this.wakeOne();
  }

  /** An exit (OOM, process.exit, a signal) before the reply is the running seed's crash. */
  private onDeath(worker: Worker, cause: string): void {
    if (!this.workers.includes(worker)) return; // already replaced after its crash report
    const head = worker.queue.shift();
    if (head !== undefined) head.resolve(crashed(head.job, cause, head.started));
    this.replace(worker);
  }

  /** A dead worker is replaced, and the jobs queued behind the crash go to the new one. */
  private replace(dead: Worker): void {
    const i = this.workers.indexOf(dead);
    if (i < 0) return;
    if (dead.child.exitCode === null && dead.child.signalCode === null) dead.child.kill('SIGKILL');
    const orphans = dead.queue.splice(0);
    if (this.closed) {
      this.workers.splice(i, 1);
      for (const p of orphans) p.reject(new Error(`seed ${p.job.seed}: the pool was closed`));
      return;
    }
    this.respawned++;
    const fresh = this.spawn();
    this.workers[i] = fresh;
    for (const p of orphans) this.send(fresh, p);
    this.wakeOne();
  }

  private send(worker: Worker, p: Pending): void {
    if (worker.queue.length === 0) p.started = performance.now();
    worker.queue.push(p);
    worker.child.send(p.job);
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }

  /** The worker with the fewest jobs, if it has room. */
  private freest(): Worker | undefined {
    let best: Worker | undefined;
    for (const w of this.workers) if (w.queue.length < this.depth && (best === undefined || w.queue.length < best.queue.length)) best = w;
    return best;
  }

  /** Runs a job on the least busy worker (waiting for room). */
  async run(job: SeedJob): Promise<SeedResult> {
    let worker = this.freest();
    while (worker === undefined) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      worker = this.freest();
    }
    return new Promise<SeedResult>((resolve, reject) => this.send(worker, { job, started: performance.now(), resolve, reject }));
  }

  /** The workers' process ids (a bench reads their CPU time from /proc). */
  get pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) if (w.child.connected) w.child.disconnect();
  }
}

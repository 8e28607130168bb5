/**
 * Worker processes for a seed search. Threads would share one event loop's worth of nothing, but
 * Node 20 cannot start a Worker on a .ts file; a child process with tsx's loader can, and a
 * simulation is CPU-bound, so processes are what spreads seeds over cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SeedJob, SeedResult } from './run-seed.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(FROM_SOURCE ? './worker.ts' : './seed-runner/worker.js', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

type Reply = { ok: true; result: SeedResult } | { ok: false; seed: number; error: string; crashed?: true };

/** A job whose worker died: the seed fails with the cause; its faults are the ones asked for, if exact. */
function crashed(job: SeedJob, cause: string, started: number): SeedResult {
  const faults = job.faults.kind === 'exact' ? [...job.faults.faults] : [];
  return { seed: job.seed, faults, digest: '', violation: `the worker crashed: ${cause}`, crashed: cause, ms: performance.now() - started };
}

export class WorkerPool {
  private readonly children: ChildProcess[] = [];
  private readonly idle: ChildProcess[] = [];
  private readonly waiting: Array<(child: ChildProcess) => void> = [];

  /** Workers respawned after a crash. */
  respawned = 0;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): ChildProcess {
    // Apps' configs and entry points are TypeScript: every worker gets tsx's loader.
    // From source (the workspace), packages resolve to their .ts through the 'source' condition.
    const child = fork(WORKER, [], { execArgv: [...(FROM_SOURCE ? ['--conditions=source'] : []), '--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.push(child);
    return child;
  }

  /** A dead worker is replaced, so the search goes on with as many workers as it started with. */
  private replace(child: ChildProcess): ChildProcess {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.respawned++;
    return this.spawn();
  }

  /** Runs a job on the next free worker. */
  async run(job: SeedJob): Promise<SeedResult> {
    let child = this.idle.pop() ?? (await new Promise<ChildProcess>((resolve) => this.waiting.push(resolve)));
    const started = performance.now();
    try {
      // An exit (OOM, process.exit, a signal) before the reply is the seed's crash, as is the
      // worker's own crash report (an unhandled rejection); either way a new worker takes its place.
      const reply = await new Promise<Reply | { exited: string }>((resolve) => {
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          child.off('message', onMessage);
          resolve({ exited: signal !== null ? `exited on signal ${signal}` : `exited with code ${code}` });
        };
        const onMessage = (m: Reply) => {
          child.off('exit', onExit);
          resolve(m);
        };
        child.once('exit', onExit);
        child.once('message', onMessage);
        child.send(job);
      });
      if ('exited' in reply) {
        if (!this.closed) child = this.replace(child);
        return crashed(job, reply.exited, started);
      }
      if (!reply.ok && reply.crashed === true) {
        if (!this.closed) child = this.replace(child);
        return crashed(job, reply.error, started);
      }
      if (!reply.ok) throw new Error(`seed ${reply.seed}: ${reply.error}`);
      return reply.result;
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(child);
      else this.idle.push(child);
    }
  }

  close(): void {
    this.closed = true;
    for (const child of this.children) if (child.connected) child.disconnect();
  }
}

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

type Reply = { ok: true; result: SeedResult } | { ok: false; seed: number; error: string };

export class WorkerPool {
  private readonly children: ChildProcess[] = [];
  private readonly idle: ChildProcess[] = [];
  private readonly waiting: Array<(child: ChildProcess) => void> = [];

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      // Apps' configs and entry points are TypeScript: every worker gets tsx's loader.
      // From source (the workspace), packages resolve to their .ts through the 'source' condition.
      const child = fork(WORKER, [], { execArgv: [...(FROM_SOURCE ? ['--conditions=source'] : []), '--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.children.push(child);
      this.idle.push(child);
    }
  }

  /** Runs a job on the next free worker. */
  async run(job: SeedJob): Promise<SeedResult> {
    const child = this.idle.pop() ?? (await new Promise<ChildProcess>((resolve) => this.waiting.push(resolve)));
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`seed ${job.seed}: worker exited (${code})`));
        child.once('exit', onExit);
        child.once('message', (m: Reply) => {
          child.off('exit', onExit);
          resolve(m);
        });
        child.send(job);
      });
      if (!reply.ok) throw new Error(`seed ${reply.seed}: ${reply.error}`);
      return reply.result;
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(child);
      else this.idle.push(child);
    }
  }

  close(): void {
    for (const child of this.children) if (child.connected) child.disconnect();
  }
}

/**
 * The bare two-process ceiling for `pnpm bench seeds`: the seed pool's harness (child processes
 * forked with the pool's flags and tsx's loader, each
 * holding 2 jobs at once) running a fixed CPU-bound loop instead of seeds. Its 2-worker / 1-worker
 * ratio is what the shared machine gives two processes at the moment of the run; the counter's
 * own ratio is read against it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const WORKER = fileURLToPath(new URL('./ceiling-worker.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Loop rounds a job: about 10 ms on an idle core, the order of a counter seed's tenth. */
const ROUNDS = 20_000_000;
const DEPTH = 2;

export class CeilingPool {
  private readonly children: ChildProcess[];

  constructor(readonly size: number, ownSessions = false) {
    this.children = Array.from({ length: size }, () =>
      fork(WORKER, [], { execArgv: ['--conditions=source', ...(size > 1 && ownSessions ? ['--single-threaded-gc'] : []), '--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: ownSessions }),
    );
  }

  /** Runs `jobs` loops over the workers (each kept `DEPTH` deep), and gives jobs per second. */
  async rate(jobs: number): Promise<number> {
    const started = performance.now();
    let sent = 0;
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            let inFlight = 0;
            const top = (): void => {
              while (inFlight < DEPTH && sent < jobs) {
                sent++;
                inFlight++;
                child.send({ n: ROUNDS });
              }
              if (inFlight === 0) {
                child.off('message', onReply);
                child.off('exit', onExit);
                resolve();
              }
            };
            const onReply = (): void => {
              inFlight--;
              top();
            };
            const onExit = (code: number | null): void => reject(new Error(`a ceiling worker exited with code ${code}`));
            child.on('message', onReply);
            child.once('exit', onExit);
            top();
          }),
      ),
    );
    return jobs / ((performance.now() - started) / 1000);
  }

  get pids(): number[] {
    return this.children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  close(): void {
    for (const c of this.children) if (c.connected) c.disconnect();
  }
}

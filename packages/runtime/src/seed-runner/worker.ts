/**
 * A seed-runner worker process: runs the SeedJobs its parent sends over IPC, one at a time in order, and
 * answers each with its SeedResult (or the error that stopped it). An app that crashes the
 * process (an unhandled rejection, an uncaught exception) is reported as that seed's crash, with
 * its cause, before the process exits; the parent records the seed as failing and respawns.
 */
import { SeedRunner, type SeedJob } from './run-seed.js';

const runner = new SeedRunner();
let current: SeedJob | undefined;
let dead = false;
const describe = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));
const die = (cause: string): void => {
  if (dead) return;
  dead = true;
  const exit = (): never => process.exit(70);
  if (process.connected) process.send!({ ok: false, crashed: true, seed: current?.seed ?? -1, error: cause }, exit);
  else exit();
};
process.on('uncaughtException', (e) => die(`uncaught exception: ${describe(e)}`));
process.on('unhandledRejection', (e) => die(`unhandled rejection: ${describe(e)}`));
/** Jobs run one at a time, in the order sent: the parent may queue the next before this one ends. */
let queue: Promise<void> = Promise.resolve();
process.on('message', (job: SeedJob) => {
  queue = queue.then(() => runOne(job));
});
function runOne(job: SeedJob): Promise<void> {
  return new Promise<void>((done) => {
    current = job;
    // The reply waits one macrotask turn, so a rejection the run left unhandled (reported after the
    // microtasks drain) is this seed's crash, not a stray report against the next one.
    const reply = (m: object): void => void setImmediate(() => {
      if (dead) return;
      current = undefined;
      process.send!(m);
      done();
    });
    runner.run(job).then(
      (result) => reply({ ok: true, result }),
      (error: unknown) => reply({ ok: false, seed: job.seed, error: describe(error) }),
    );
  });
}
process.on('disconnect', () => process.exit(0));

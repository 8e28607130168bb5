/**
 * A seed-runner worker process: runs the SeedJobs its parent sends over IPC, one at a time, and
 * answers each with its SeedResult (or the error that stopped it).
 */
import { SeedRunner, type SeedJob } from './run-seed.js';

const runner = new SeedRunner();
process.on('message', (job: SeedJob) => {
  runner.run(job).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, seed: job.seed, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));

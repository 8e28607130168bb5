import { TERMINAL, type JobState, type SlurmCommands } from './slurm.js';

/**
 * Watches the live jobs with one `squeue` call per round for all of them (cheap on a big
 * cluster's controller), never two rounds at once. A job squeue no longer lists, or lists in a
 * terminal state, is over: its final state comes from `scontrol show job -o`.
 */
export class JobWatch {
  private readonly jobs = new Map<string, (final: JobState | undefined) => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly slurm: SlurmCommands,
    private readonly pollMs: number,
  ) {}

  /** Calls `ended` once, when job `id` is over. */
  watch(id: string, ended: (final: JobState | undefined) => void): void {
    this.jobs.set(id, ended);
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
    }
  }

  unwatch(id: string): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Checks now (a control connection closed: the job is likely over). */
  async poll(): Promise<void> {
    if (this.polling || this.jobs.size === 0) return;
    this.polling = true;
    try {
      const ids = [...this.jobs.keys()];
      const queued = await this.slurm.queued(ids).catch(() => undefined);
      if (queued === undefined) return; // the controller is busy or down: try next round
      for (const id of ids) {
        const q = queued.get(id);
        if (q !== undefined && !TERMINAL.has(q.state)) continue;
        const ended = this.jobs.get(id);
        if (ended === undefined) continue;
        this.unwatch(id);
        ended((await this.settled(id)) ?? q);
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * The job's final state. A job that was cancelled or ended shows COMPLETING while Slurm cleans
   * up (its real outcome, CANCELLED or FAILED, comes a moment later): wait for it, bounded.
   */
  private async settled(id: string): Promise<JobState | undefined> {
    let state = await this.slurm.show(id);
    for (let i = 0; i < 20 && state?.state === 'COMPLETING'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      state = await this.slurm.show(id);
    }
    return state;
  }

  close(): void {
    this.jobs.clear();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

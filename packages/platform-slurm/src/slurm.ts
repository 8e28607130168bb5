import { execFile } from 'node:child_process';
import type { SlurmPlatformOptions } from './options.js';

/** A job's state as Slurm reports it. */
export interface JobState {
  readonly state: string;
  readonly reason: string;
  readonly exitCode: string;
}

/** States after which a job runs no more (squeue's and scontrol's long names); COMPLETING is its clean-up. */
export const TERMINAL = new Set(['COMPLETING', 'COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']);

/** The Slurm commands this platform runs: sbatch, scancel, squeue, scontrol (never a shell). */
export class SlurmCommands {
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: SlurmPlatformOptions) {
    this.env = options.slurmConf !== undefined ? { ...process.env, SLURM_CONF: options.slurmConf } : process.env;
  }

  private run(which: keyof SlurmPlatformOptions['commands'], args: readonly string[]): Promise<string> {
    const file = this.options.commands[which];
    return new Promise((resolve, reject) => {
      execFile(file, [...args], { env: this.env, timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const detail = (stderr || error.message).trim();
        reject(new Error(`${which} (${file}) failed: ${detail}`));
      });
    });
  }

  /** Submits `script` (a shell script) with the options' sbatch arguments; resolves with the job id. */
  async submit(name: string, cpus: number, script: string, chdir: string): Promise<string> {
    const o = this.options;
    const args = ['--parsable', `--job-name=${name}`, '--nodes=1', '--ntasks=1', `--cpus-per-task=${o.cpusPerNode ?? cpus}`, `--output=${o.jobOutput}`, `--chdir=${chdir}`];
    if (o.partition !== undefined) args.push(`--partition=${o.partition}`);
    if (o.account !== undefined) args.push(`--account=${o.account}`);
    if (o.timeLimit !== undefined) args.push(`--time=${o.timeLimit}`);
    if (o.memoryPerNode !== undefined) args.push(`--mem=${o.memoryPerNode}`);
    args.push(...o.sbatchArgs, `--wrap=${script}`);
    const out = (await this.run('sbatch', args)).trim();
    // --parsable prints "id" or "id;cluster".
    const id = out.split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id (${JSON.stringify(out)})`);
    return id;
  }

  cancel(id: string): Promise<void> {
    return this.run('scancel', [id]).then(() => undefined);
  }

  /** The state of each of `ids` that squeue still lists (one call for all). */
  async queued(ids: readonly string[]): Promise<Map<string, JobState>> {
    const states = new Map<string, JobState>();
    if (ids.length === 0) return states;
    const out = await this.run('squeue', ['-h', '-j', ids.join(','), '-o', '%i|%T|%r']);
    for (const line of out.split('\n')) {
      const [id, state, reason] = line.trim().split('|');
      if (id && state) states.set(id, { state, reason: reason ?? '', exitCode: '' });
    }
    return states;
  }

  /** What `scontrol show job -o` says (works without accounting, for MinJobAge after the end). */
  async show(id: string): Promise<JobState | undefined> {
    const out = await this.run('scontrol', ['show', 'job', '-o', id]).catch(() => '');
    const field = (name: string): string => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(out)?.[1] ?? '';
    const state = field('JobState');
    return state === '' ? undefined : { state, reason: field('Reason'), exitCode: field('ExitCode') };
  }
}

/** 'CANCELLED (Reason=None, ExitCode=0:15)' */
export function describeJob(state: JobState | undefined): string {
  if (state === undefined) return 'gone from squeue and scontrol';
  return `${state.state} (Reason=${state.reason || 'None'}${state.exitCode ? `, ExitCode=${state.exitCode}` : ''})`;
}

/** A word for sh: single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A real one-host Slurm cluster for a test (Debian's slurmctld, slurmd, slurm-client, munge;
 * Slurm 22.05): a temp dir holds slurm.conf, a munge key and every state, spool, pid and log
 * file; munged (as the munge user), slurmctld and slurmd start by hand (no systemd), on ports
 * picked free; ready once `sinfo` shows the node idle. `stop()` cancels every job, shuts the
 * daemons down, kills munged and removes the dir, and start-up failures do the same. Every wait
 * is bounded. Accounting is off, so job state comes from `squeue` and `scontrol show job -o`.
 */
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './etcd-server.js';

const TOOLS = ['munged', 'munge', 'slurmctld', 'slurmd', 'sbatch', 'scancel', 'scontrol', 'squeue', 'sinfo'] as const;

function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // next dir
    }
  }
  return undefined;
}

function mungeUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('munge:'));
    if (line === undefined) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

/** Why this host cannot run the cluster (a skip reason), or undefined if it can try. */
export function slurmPrerequisites(): string | undefined {
  const missing = TOOLS.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install slurmctld slurmd slurm-client munge)`;
  if (process.getuid?.() !== 0) return 'slurmd and munged need root here (run the tests as root)';
  if (mungeUser() === undefined) return 'no munge user in /etc/passwd (the munge package creates it)';
  return undefined;
}

export interface SlurmClusterOptions {
  /** CPUs of the one node (OverSubscribe lets more jobs than CPUs run at once). */
  cpus?: number;
  /** How long to wait for munged, the daemons and an idle node. */
  readyTimeoutMs?: number;
  partition?: string;
}

export interface JobInfo {
  readonly id: string;
  readonly state: string;
  readonly reason: string;
  readonly exitCode: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1;
      resolve({ code, stdout, stderr: stderr + (error !== null && code === 1 && stderr === '' ? error.message : '') });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Clusters still running in this process: killed on exit if a test forgot (or crashed before) `stop()`. */
const running = new Set<SlurmCluster>();
let exitHook = false;

export class SlurmCluster {
  readonly conf: string;
  readonly partition: string;
  /** The environment that points the Slurm commands at this cluster. */
  readonly env: NodeJS.ProcessEnv;
  /** Absolute paths of the commands, for a platform's `commands` option. */
  readonly commands: { sbatch: string; scancel: string; scontrol: string; squeue: string };
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly nodeName: string,
    readonly ports: { ctld: number; slurmd: number },
    partition: string,
  ) {
    this.conf = join(dir, 'slurm.conf');
    this.partition = partition;
    this.env = { ...process.env, SLURM_CONF: this.conf };
    const tool = (n: string): string => findTool(n)!;
    this.commands = { sbatch: tool('sbatch'), scancel: tool('scancel'), scontrol: tool('scontrol'), squeue: tool('squeue') };
  }

  /** Starts munged, slurmctld and slurmd in a fresh temp dir; waits until the node is idle. */
  static async start(options: SlurmClusterOptions = {}): Promise<SlurmCluster> {
    const reason = slurmPrerequisites();
    if (reason !== undefined) throw new Error(`cannot start a Slurm cluster: ${reason}`);
    const dir = mkdtempSync(join(tmpdir(), 'ebbrt-slurm-'));
    chmodSync(dir, 0o755);
    const cluster = new SlurmCluster(dir, hostname().split('.')[0]!, { ctld: await freePort(), slurmd: await freePort() }, options.partition ?? 'debug');
    running.add(cluster);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of running) c.killNow();
      });
    }
    try {
      await cluster.boot(options.cpus ?? 2, options.readyTimeoutMs ?? 30_000);
    } catch (e) {
      const logs = cluster.logs();
      await cluster.stop();
      throw new Error(`${(e as Error).message}\n${logs}`);
    }
    return cluster;
  }

  private get mungeSocket(): string {
    return join(this.dir, 'mrun', 'munge.sock');
  }

  private async boot(cpus: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const munge = mungeUser()!;
    const keyDir = join(this.dir, 'munge');
    const sockDir = join(this.dir, 'mrun');
    for (const sub of ['state', 'spool', 'log']) mkdirSync(join(this.dir, sub), { mode: 0o755 });
    mkdirSync(keyDir, { mode: 0o700 });
    // munged refuses a socket dir that is not searchable by all.
    mkdirSync(sockDir, { mode: 0o755 });
    chmodSync(sockDir, 0o755);
    writeFileSync(join(keyDir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
    for (const p of [keyDir, sockDir, join(keyDir, 'munge.key')]) chownSync(p, munge.uid, munge.gid);
    const munged = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        findTool('munged')!,
        [`--key-file=${join(keyDir, 'munge.key')}`, `--socket=${this.mungeSocket}`, `--pid-file=${join(sockDir, 'munged.pid')}`, `--log-file=${join(keyDir, 'munged.log')}`, `--seed-file=${join(keyDir, 'seed')}`],
        { uid: munge.uid, gid: munge.gid, timeout: 10_000, encoding: 'utf8' },
        (error, _out, stderr) => resolve({ code: error === null ? 0 : 1, stderr }),
      );
    });
    if (munged.code !== 0) throw new Error(`munged did not start: ${munged.stderr.trim()}`);
    writeFileSync(this.conf, this.slurmConf(cpus));
    for (const daemon of [['slurmctld', '-i'], ['slurmd']] as const) {
      const r = await run(findTool(daemon[0])!, daemon.slice(1), this.env);
      if (r.code !== 0) throw new Error(`${daemon[0]} did not start (exit ${r.code}): ${r.stderr.trim()}`);
    }
    let last = '';
    while (performance.now() < deadline) {
      const r = await run(findTool('sinfo')!, ['-h', '-N', '-o', '%T'], this.env, 5_000);
      last = (r.stdout + r.stderr).trim();
      if (r.code === 0 && last === 'idle') return;
      await sleep(200);
    }
    throw new Error(`the Slurm node did not become idle within ${timeoutMs} ms (sinfo: ${last || 'nothing'})`);
  }

  private slurmConf(cpus: number): string {
    const d = this.dir;
    return [
      `ClusterName=ebbrt${this.ports.ctld}`,
      `SlurmctldHost=${this.nodeName}(127.0.0.1)`,
      `SlurmctldPort=${this.ports.ctld}`,
      `SlurmdPort=${this.ports.slurmd}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${this.mungeSocket}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${d}/state`,
      `SlurmdSpoolDir=${d}/spool`,
      `SlurmctldPidFile=${d}/slurmctld.pid`,
      `SlurmdPidFile=${d}/slurmd.pid`,
      `SlurmctldLogFile=${d}/log/slurmctld.log`,
      `SlurmdLogFile=${d}/log/slurmd.log`,
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MinJobAge=300',
      'KillWait=2',
      'InactiveLimit=0',
      // Jobs' output files go to the dir, not the test's cwd.
      `NodeName=${this.nodeName} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=4000 State=UNKNOWN`,
      `PartitionName=${this.partition} Nodes=${this.nodeName} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:16`,
      '',
    ].join('\n');
  }

  /** Runs one of the Slurm commands against this cluster. */
  exec(command: 'sbatch' | 'scancel' | 'scontrol' | 'squeue' | 'sinfo', args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(findTool(command)!, args, this.env);
  }

  /** Ids of the jobs still queued or running (anything `squeue` lists). */
  async queuedJobs(): Promise<string[]> {
    const r = await this.exec('squeue', ['-h', '-o', '%i']);
    if (r.code !== 0) throw new Error(`squeue failed: ${r.stderr.trim()}`);
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }

  /** A job's state as `scontrol show job -o` has it (kept MinJobAge=300 s after it ends). */
  async job(id: string): Promise<JobInfo> {
    const r = await this.exec('scontrol', ['show', 'job', '-o', id]);
    if (r.code !== 0) throw new Error(`scontrol show job ${id} failed: ${r.stderr.trim()}`);
    const field = (name: string): string => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(r.stdout)?.[1] ?? '';
    return { id, state: field('JobState'), reason: field('Reason'), exitCode: field('ExitCode') };
  }

  /** Waits (bounded) until `squeue` lists none of `ids` (or no job at all). */
  async waitGone(ids?: readonly string[], timeoutMs = 15_000): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const queued = (await this.queuedJobs()).filter((j) => ids === undefined || ids.includes(j));
      if (queued.length === 0 || performance.now() >= deadline) return queued;
      await sleep(200);
    }
  }

  /** The tail of the daemons' logs, for failure messages. */
  logs(): string {
    const tail = (f: string): string => {
      try {
        return readFileSync(f, 'utf8').split('\n').slice(-15).join('\n');
      } catch {
        return '(none)';
      }
    };
    return ['slurmctld.log', 'slurmd.log'].map((f) => `--- ${f}\n${tail(join(this.dir, 'log', f))}`).join('\n');
  }

  /** Cancels every job, stops the daemons and munged, removes the dir. Idempotent; bounded. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (existsSync(this.conf)) {
        const jobs = await this.queuedJobs().catch(() => []);
        if (jobs.length > 0) {
          await this.exec('scancel', jobs);
          await this.waitGone(jobs, 10_000).catch(() => []);
        }
        await this.exec('scontrol', ['shutdown']);
      }
      const pids = ['slurmctld.pid', 'slurmd.pid'].map((f) => readPid(join(this.dir, f)));
      const deadline = performance.now() + 10_000;
      while (pids.some((p) => p !== undefined && alive(p)) && performance.now() < deadline) await sleep(100);
      // munged writes its seed file into munge/ on the way out after SIGTERM. Under load (CI at
      // load ~50) that outlasted rmSync's retries and failed stop() with ENOTEMPTY, so wait for it
      // to be gone before the dir is removed.
      const munged = readPid(join(this.dir, 'mrun', 'munged.pid'));
      if (munged !== undefined && alive(munged)) {
        try {
          process.kill(munged, 'SIGTERM');
        } catch {
          // already gone
        }
        const mungedDeadline = performance.now() + 10_000;
        while (alive(munged) && performance.now() < mungedDeadline) await sleep(50);
      }
    } finally {
      this.killNow();
      running.delete(this);
    }
  }

  /** Synchronous last resort (process exit): SIGKILL the daemons and munged, remove the dir. */
  private killNow(): void {
    for (const f of ['slurmctld.pid', 'slurmd.pid', join('mrun', 'munged.pid')]) {
      const pid = readPid(join(this.dir, f));
      if (pid !== undefined && alive(pid)) {
        try {
          process.kill(pid, f.startsWith('mrun') ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // munged, just sent SIGTERM, writes its seed file into munge/ on the way out: a plain rmSync
    // can meet a directory that refills under it (ENOTEMPTY), so let rmSync retry.
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
  }
}

/** The skip reason for a test file, or '' when Slurm should run; under CI=true a missing Slurm is a failure, not a skip. */
export function slurmSkipReason(): string {
  const reason = slurmPrerequisites();
  if (reason === undefined) return '';
  if (process.env['CI'] === 'true') throw new Error(`CI=true but Slurm cannot run here: ${reason}`);
  console.warn(`skipping Slurm tests: ${reason}`);
  return reason;
}

/**
 * For a test file's `beforeAll`: the cluster, or why there is none (printed). A host that lacks
 * Slurm, or where it will not start, skips; under CI=true both are failures.
 */
export async function startSlurmOrSkip(options: SlurmClusterOptions = {}): Promise<{ cluster: SlurmCluster | undefined; reason: string }> {
  const reason = slurmSkipReason();
  if (reason !== '') return { cluster: undefined, reason };
  try {
    return { cluster: await SlurmCluster.start(options), reason: '' };
  } catch (e) {
    if (process.env['CI'] === 'true') throw e;
    const why = `Slurm did not start here: ${(e as Error).message.split('\n')[0]}`;
    console.warn(`skipping Slurm tests: ${why}`);
    return { cluster: undefined, reason: why };
  }
}

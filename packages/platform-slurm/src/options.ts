import { z } from 'zod';

/** Slurm's --time forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED. */
const TIME = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/;
/** host:port, the port 0 (any) to 65535; a bracketed IPv6 host is allowed. */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

const command = (name: string) => z.string().min(1, `must be the path of ${name}`).default(name);

export const slurmPlatformOptionsSchema = z.strictObject({
  /** --partition (the cluster's default partition when unset). */
  partition: z.string().regex(/^[A-Za-z0-9_.,-]+$/, 'must be a Slurm partition name (letters, digits, _ . , -)').optional(),
  /** --account to charge. */
  account: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a Slurm account name').optional(),
  /** --time: the job's time limit; a node that reaches it dies with Reason=TimeLimit. */
  timeLimit: z.string().regex(TIME, "must be a Slurm time limit ('30', '1:00:00', '2-00:00:00', 'UNLIMITED')").optional(),
  /** --cpus-per-task; defaults to the node's core count. */
  cpusPerNode: z.number().int('must be a whole number').positive('must be positive').optional(),
  /** --mem: memory per node ('512M', '4G'); the simulated machine's size stays config.backend.machine. */
  memoryPerNode: z.string().regex(/^\d+[KMGT]?$/, "must be a Slurm size such as '512M' or '4G'").optional(),
  /** Extra sbatch arguments, passed as they are (before the job's command). */
  sbatchArgs: z.array(z.string().min(1, 'must not be empty')).default([]),
  /**
   * The node-process entry on the cluster's shared filesystem (the runtime's
   * `dist/platform/node-process-entry.js`); defaults to the one this front-end runs.
   */
  nodeEntry: z.string().startsWith('/', 'must be an absolute path on the shared filesystem').optional(),
  /** The Node.js binary on the compute nodes; defaults to this front-end's process.execPath. */
  nodeCommand: z.string().min(1, 'must be a path').optional(),
  /** The app directory as the compute nodes see it (the job's --chdir); defaults to the front-end's. */
  appDir: z.string().startsWith('/', 'must be an absolute path on the shared filesystem').optional(),
  /**
   * Where node jobs dial the front-end (its control port and Messenger): host:port with a host the
   * compute nodes reach. Port 0 takes any free port. Required: there is no guessing a cluster's network.
   */
  frontendAddress: z.string().regex(HOST_PORT, "must be host:port as the compute nodes reach the front-end, e.g. 'login1.cluster:7400'"),
  /** Where the front-end's control port listens (all interfaces by default). */
  frontendBind: z.string().min(1, 'must be an address').default('0.0.0.0'),
  /** Where each node's Messenger forward listens on its compute host (set to 0.0.0.0 for a cluster). */
  nodeBind: z.string().min(1, 'must be an address').default('127.0.0.1'),
  /** The job's stdout/stderr (sbatch --output); %j is the job id. */
  jobOutput: z.string().min(1, 'must be a path').default('/dev/null'),
  commands: z
    .strictObject({
      sbatch: command('sbatch'),
      scancel: command('scancel'),
      scontrol: command('scontrol'),
      squeue: command('squeue'),
    })
    .default({ sbatch: 'sbatch', scancel: 'scancel', scontrol: 'scontrol', squeue: 'squeue' }),
  /** SLURM_CONF for the commands (and so the cluster they talk to); the environment's when unset. */
  slurmConf: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** How long a job may take from submission to dormant (queue wait included), or to start its image. */
  bootTimeoutMs: z.number().int('must be a whole number of ms').positive('must be positive').default(60_000),
  /** How often the job states are polled (one squeue call for every live job). */
  pollMs: z.number().int('must be a whole number of ms').min(100, 'must be at least 100').max(60_000, 'must be at most 60000').default(1_000),
});

export type SlurmPlatformOptions = z.output<typeof slurmPlatformOptionsSchema>;

export function splitHostPort(address: string): { host: string; port: number } {
  const m = HOST_PORT.exec(address)!;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

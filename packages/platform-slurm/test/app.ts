import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { counterNodeMain } from '@ebbrt/testkit/counter-app';
import type { SlurmCluster } from '@ebbrt/testkit/slurm-cluster';

/** This package's directory: apps resolve `@ebbrt/platform-slurm` from here (a self-reference). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package, so app modules import the workspace's @ebbrt packages. The Slurm node
// runs on this host, so this directory is the "shared filesystem".
const TMP_ROOT = join(PACKAGE_DIR, 'test', '.tmp');

export function tempApp(config: unknown, files: Record<string, string> = {}): { dir: string; remove(): void } {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TMP_ROOT, 'app-'));
  writeFileSync(join(dir, 'ebbrt.config.json'), JSON.stringify(config, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The platform entry of a config whose nodes are jobs of `cluster`. */
export function slurmPlatform(cluster: SlurmCluster, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    package: '@ebbrt/platform-slurm',
    options: { frontendAddress: '127.0.0.1:0', slurmConf: cluster.conf, commands: cluster.commands, partition: cluster.partition, pollMs: 250, ...options },
  };
}

/** The distributed counter of the runtime's distributed test; each node's last boot line names its job. */
export const COUNTER_NODE = counterNodeMain("'job ' + process.env.SLURM_JOB_ID + ' pid ' + process.pid");

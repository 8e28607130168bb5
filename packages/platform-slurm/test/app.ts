import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The distributed counter (as in the runtime's distributed test): each node sums what it is sent. */
export const COUNTER_NODE = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, MulticoreRoot } from '@ebbrt/core-translation';
export const COUNTER = 0x434e5452;
export function main(ctx) {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const em = new EbbRef(SystemEbbIds.EventManager);
  messenger.registerType(COUNTER, (ebbId) => {
    const root = new MulticoreRoot(ctx.node, ebbId, undefined, () => ({ count: 0 }));
    ctx.node.install(ebbId, root);
    const counter = new EbbRef(ebbId);
    return (from, type, message) => {
      const text = new TextDecoder().decode(message.toUint8Array());
      message.releaseChain();
      const [op, arg] = text.split(' ');
      if (op === 'add') {
        const n = Number(arg);
        em.deref().spawnRemote(() => { counter.deref().count += n; }, Math.floor(n / 4) % ctx.node.numCores);
      } else if (op === 'total') {
        const markers = [];
        for (let c = 0; c < ctx.node.numCores; c++) {
          const done = em.deref().promise();
          em.deref().spawnRemote(() => done.resolve(), c);
          markers.push(done.promise);
        }
        Promise.all(markers).then(() => {
          let sum = 0;
          root.forEachRep((rep) => (sum += rep.count));
          return messenger.send(from, ebbId, COUNTER, IOBuf.copyOf('total ' + sum));
        });
      }
    };
  });
  ctx.log('job ' + process.env.SLURM_JOB_ID + ' pid ' + process.pid);
}
`;

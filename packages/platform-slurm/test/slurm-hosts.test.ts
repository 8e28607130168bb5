/**
 * Nodes "on other hosts": the front-end is advertised at 127.0.0.2 (another address of this host's
 * loopback, which the node agent treats as a foreign host: everything it sends the front-end goes
 * through its loopback relay), node Messenger forwards listen on 0.0.0.0 and are reached at the
 * address the control connection came from. From the job nodes: the front-end's FileSystem and
 * GlobalIdMap work, node ↔ node Messenger sends arrive, console lines come back.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runApp } from '@ebbrt/runtime';
import { startSlurmOrSkip, type SlurmCluster } from '@ebbrt/testkit/slurm-cluster';
import { PACKAGE_DIR, slurmPlatform, tempApp } from './app.js';

let cluster: SlurmCluster | undefined;
let reason = '';
beforeAll(async () => {
  ({ cluster, reason } = await startSlurmOrSkip({ cpus: 2 }));
}, 60_000);
afterAll(() => cluster?.stop(), 60_000);

const NODE = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const DRIVER = staticEbbId('test.hosts.driver');
export function main(ctx) {
  const me = ctx.node.id;
  const messenger = new EbbRef(SystemEbbIds.Messenger);
  const fs = new EbbRef(SystemEbbIds.FileSystem);
  const map = new EbbRef(SystemEbbIds.GlobalIdMap);
  let heard;
  const peerSaid = new Promise((r) => (heard = r));
  messenger.deref().register(DRIVER, (from, type, message) => {
    const text = new TextDecoder().decode(message.toUint8Array());
    message.releaseChain();
    if (type === 2) return heard(text);
    const peer = Number(text);
    (async () => {
      await fs.deref().writeFile('out/node-' + me + '.txt', 'written by node ' + me + ' (slurm job ' + process.env.SLURM_JOB_ID + ')');
      await map.deref().set(staticEbbId('test.hosts.' + me), 'value of node ' + me);
      await messenger.deref().send(peer, DRIVER, 2, IOBuf.copyOf('hello from node ' + me));
      const said = await peerSaid;
      const theirs = await map.deref().get(staticEbbId('test.hosts.' + peer));
      ctx.log('node ' + me + ' heard [' + said + '] map [' + theirs + ']');
      await messenger.deref().send(0, DRIVER, 1, IOBuf.copyOf('done ' + me));
    })().catch((e) => ctx.log('node ' + me + ' error ' + (e && e.stack || e)));
  });
}
`;
const FRONTEND = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const DRIVER = staticEbbId('test.hosts.driver');
export async function main(ctx) {
  const ids = await ctx.backends();
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  let n = 0, all;
  const done = new Promise((r) => (all = r));
  messenger.register(DRIVER, (from, type, message) => {
    message.releaseChain();
    if (++n === ids.length) all();
  });
  for (const id of ids) await messenger.send(id, DRIVER, 1, IOBuf.copyOf(String(ids.find((o) => o !== id))));
  await done;
  const map = new EbbRef(SystemEbbIds.GlobalIdMap).deref();
  ctx.log('front-end map [' + (await map.get(staticEbbId('test.hosts.' + ids[0]))) + ']');
}
`;

it('from job nodes behind relays: FileSystem, GlobalIdMap, node-to-node sends and console all work', async (ctx) => {
  if (cluster === undefined) return ctx.skip(reason);
  const app = tempApp({}, { 'frontend.mjs': FRONTEND, 'node.mjs': NODE });
  const root = join(app.dir, 'disk');
  mkdirSync(join(root, 'out'), { recursive: true });
  const config = {
    entry: { frontend: './frontend.mjs', backend: './node.mjs' },
    clock: 'realtime',
    frontend: {
      ebbs: {
        NetworkManager: { package: '@ebbrt/network-manager-hosted', options: { host: '0.0.0.0' } },
        FileSystem: { package: '@ebbrt/file-system', options: { root } },
      },
    },
    backend: {
      nodes: 2,
      machine: { cores: 2, memory: '32MiB' },
      ebbs: { FileSystem: '@ebbrt/file-system' },
      platform: slurmPlatform(cluster, { frontendAddress: '127.0.0.2:0', nodeBind: '0.0.0.0' }),
    },
    network: { link: { latencyNs: 20_000 } },
  };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(app.dir, 'ebbrt.config.json'), JSON.stringify(config));
  const lines: string[] = [];
  try {
    const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [PACKAGE_DIR], signal: AbortSignal.timeout(90_000) });
    const all = lines.join('\n');
    expect(run.failures, all).toEqual([]);
    // A message runs on the core its connection was steered to (RSS), so any core of the node.
    expect(all).toMatch(/\[node 1 core \d\] node 1 heard \[hello from node 2\] map \[value of node 2\]/);
    expect(all).toMatch(/\[node 2 core \d\] node 2 heard \[hello from node 1\] map \[value of node 1\]/);
    expect(all).toContain('front-end map [value of node 1]');
    for (const id of [1, 2]) expect(readFileSync(join(root, 'out', `node-${id}.txt`), 'utf8')).toMatch(new RegExp(`^written by node ${id} \\(slurm job \\d+\\)$`));
    expect(await cluster.waitGone()).toEqual([]);
  } finally {
    app.remove();
  }
}, 120_000);

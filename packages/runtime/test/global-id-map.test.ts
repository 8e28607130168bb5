/**
 * The GlobalIdMap end to end: a front-end (the home) and 4 back-ends booted by the runtime in
 * real time, over links that lose, duplicate and reorder frames. Back-ends set their own ids
 * and one shared id at once, then everybody reads everybody's; a back-end builds a rep of an Ebb
 * it never saw from data the front-end published.
 */
import { describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { seeds, tempApp } from './temp-app.js';
import { EtcdServer, etcdMissingReason } from '@ebbrt/testkit/etcd-server';
import type { GlobalIdMapRoot } from '@ebbrt/global-id-map';

const common = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, MulticoreRoot, staticEbbId } from '@ebbrt/core-translation';
export const DRIVER = staticEbbId('test.global-id-map.driver');
export const SHARED = 0x0000ff01;
export const GREETER = 0x00010042; // in the front-end's id space
export const PER_NODE = 20;
export const map = new EbbRef(SystemEbbIds.GlobalIdMap);
export const messenger = new EbbRef(SystemEbbIds.Messenger);
export const em = new EbbRef(SystemEbbIds.EventManager);
export const text = (m) => { const t = new TextDecoder().decode(m.toUint8Array()); m.releaseChain(); return t; };
export const send = (to, s) => messenger.deref().send(to, DRIVER, 1, IOBuf.copyOf(s));
export const idOf = (node, k) => ((node + 8) << 16) + k;
export const buildGreeter = (data, where) => {
  const { greeting } = JSON.parse(data);
  return new MulticoreRoot(where.node, where.id, undefined, (core) => ({ greet: () => greeting + ' (rep on node ' + core.node.id + ' core ' + core.index + ')' }));
};
`;

const nodeMain = `import { DRIVER, SHARED, GREETER, PER_NODE, map, messenger, em, text, send, idOf, buildGreeter } from './common.mjs';
import { fromGlobalIdMap } from '@ebbrt/global-id-map';
export function main(ctx) {
  const me = ctx.node.id;
  messenger.deref().register(DRIVER, (from, type, message) => {
    const [op, arg] = text(message).split(' ');
    const work = op === 'set' ? setAll() : check(JSON.parse(arg));
    work.then((reply) => send(0, reply)).catch((e) => send(0, 'error ' + me + ' ' + (e && e.stack || e)));
  });
  async function setAll() {
    // From both cores at once; each core's continuation must come back to it.
    const jobs = [];
    for (let core = 0; core < ctx.node.numCores; core++) {
      const done = em.deref().promise();
      em.deref().spawnRemote(async () => {
        try {
          const writes = [];
          for (let k = 1 + core; k <= PER_NODE; k += ctx.node.numCores) writes.push(map.deref().set(idOf(me, k), 'node ' + me + ' item ' + k));
          for (let r = 0; r < 3; r++) writes.push(map.deref().set(SHARED, 'shared from node ' + me + ' core ' + core + ' round ' + r));
          await Promise.all(writes);
          if (em.deref().core !== core) throw new Error('resumed on core ' + em.deref().core + ' not ' + core);
          done.resolve();
        } catch (e) { done.reject(e); }
      }, core);
      jobs.push(done.promise);
    }
    await Promise.all(jobs);
    return 'set-done ' + me;
  }
  async function check(nodes) {
    let ok = 0;
    const bad = [];
    const reads = [];
    for (const n of nodes) for (let k = 1; k <= PER_NODE; k++) reads.push(map.deref().get(idOf(n, k)).then((v) => (v === 'node ' + n + ' item ' + k ? ok++ : bad.push(idOf(n, k) + '=' + v))));
    await Promise.all(reads);
    const shared = await map.deref().get(SHARED);
    const greeter = await fromGlobalIdMap(GREETER, buildGreeter);
    return 'check ' + JSON.stringify({ node: me, ok, bad, shared, greet: greeter.deref().greet() });
  }
  ctx.log('driver registered');
}
`;

const frontendMain = `import { DRIVER, SHARED, GREETER, PER_NODE, map, messenger, text, send } from './common.mjs';
export async function main(ctx) {
  const ids = await ctx.backends();
  const inbox = [];
  let wake;
  messenger.deref().register(DRIVER, (from, type, message) => { inbox.push(text(message)); wake?.(); });
  const gather = async (n, prefix) => {
    while (inbox.filter((l) => l.startsWith(prefix) || l.startsWith('error')).length < n) await new Promise((r) => (wake = r));
    const got = inbox.splice(0);
    const err = got.find((l) => l.startsWith('error'));
    if (err) throw new Error(err);
    return got;
  };
  await map.deref().set(GREETER, JSON.stringify({ greeting: 'hello from the front-end' }));
  for (const id of ids) await send(id, 'set');
  await gather(ids.length, 'set-done');
  for (const id of ids) await send(id, 'check ' + JSON.stringify(ids));
  for (const line of await gather(ids.length, 'check')) ctx.log(line);
  ctx.log('frontend shared ' + JSON.stringify(await map.deref().get(SHARED)));
}
`;

async function runCluster(seed: number, frontendMap: unknown = '@ebbrt/global-id-map'): Promise<string[]> {
  const app = tempApp(
    {
      entry: { frontend: './frontend.mjs', backend: './node.mjs' },
      clock: 'realtime',
      seed,
      frontend: { ebbs: { GlobalIdMap: frontendMap } },
      backend: {
        nodes: 4,
        machine: { cores: 2, memory: '32MiB' },
        ebbs: {
          GlobalIdMap: '@ebbrt/global-id-map',
          NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
        },
      },
      network: { link: { latencyNs: 20_000, loss: 0.02, duplicate: 0.01, reorder: 0.02 } },
    },
    { 'common.mjs': common, 'frontend.mjs': frontendMain, 'node.mjs': nodeMain },
  );
  const lines: string[] = [];
  try {
    const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], signal: AbortSignal.timeout(60_000) });
    if (run.failures.length > 0) throw new Error(`seed ${seed}: failures:\n${lines.join('\n')}`);
    const lost = run.network!.simulated.fabric.links.reduce((n, l) => n + l.totals().lost, 0);
    // Stats are this implementation's, not the interface's: read them only when the front-end runs it.
    if (run.frontend.packageOf('GlobalIdMap') === '@ebbrt/global-id-map') {
      const root = run.frontend.root('GlobalIdMap') as GlobalIdMapRoot;
      lines.push(`home stats ${JSON.stringify(root.stats())}`);
    }
    lines.push(`frames lost ${lost}`);
    return lines;
  } finally {
    app.remove();
  }
}

describe('GlobalIdMap across a front-end (home) and 4 back-ends, lossy links', () => {
  it(
    'back-ends set distinct ids and race on one; everybody reads everybody; a back-end builds a rep from front-end data',
    async () => {
      const all = seeds(4);
      const results = await Promise.all(all.map((seed) => runCluster(seed).then((lines) => ({ seed, lines }))));
      for (const { seed, lines } of results) {
        checkMap(seed, lines);
        const stats = JSON.parse(lines.find((l) => l.startsWith('home stats '))!.slice(11)) as { entries: number; badRequests: number };
        expect(stats.entries).toBe(4 * 20 + 2);
        expect(stats.badRequests).toBe(0);
      }
    },
    180_000,
  );

  // The same application with the map in a real etcd: a config change on the front-end only (the
  // back-ends' default map asks the front-end, which answers from etcd).
  const etcd = etcdMissingReason === '' ? it : process.env.CI ? it : it.skip;
  etcd(
    `the same, with the front-end's map in etcd${etcdMissingReason === '' ? '' : ` (${etcdMissingReason})`}`,
    async () => {
      expect(etcdMissingReason, 'CI installs etcd-server').toBe('');
      const server = await EtcdServer.launch();
      try {
        const all = seeds(2).slice(0, 2);
        const results = await Promise.all(
          all.map((seed) =>
            runCluster(seed, { package: '@ebbrt/global-id-map-etcd', options: { endpoints: [server.url], namespace: `runtime-test-${seed}` } }).then((lines) => ({ seed, lines })),
          ),
        );
        for (const { seed, lines } of results) {
          checkMap(seed, lines);
          expect(lines.some((l) => l.includes('GlobalIdMap=@ebbrt/global-id-map-etcd'))).toBe(true);
        }
      } finally {
        await server.dispose();
      }
    },
    180_000,
  );
});

/** Everybody read everybody's values, one shared value everywhere, reps built from map data, loss was on. */
function checkMap(seed: number, lines: string[]): void {
  const why = `seed ${seed}:\n${lines.join('\n')}`;
  const checks = lines.filter((l) => l.includes('] check ')).map((l) => JSON.parse(l.slice(l.indexOf('check ') + 6)) as { node: number; ok: number; bad: string[]; shared: string; greet: string });
  expect(checks, why).toHaveLength(4);
  const shared = JSON.parse(lines.find((l) => l.includes('frontend shared '))!.split('frontend shared ')[1]!) as string;
  expect(shared, why).toMatch(/^shared from node [1-4] core [01] round [0-2]$/);
  for (const c of checks) {
    expect(c.bad, why).toEqual([]);
    expect(c.ok, why).toBe(4 * 20);
    expect(c.shared, why).toBe(shared); // one of the written values, the same everywhere
    expect(c.greet, why).toMatch(new RegExp(`^hello from the front-end \\(rep on node ${c.node} core [01]\\)$`));
  }
  expect(Number(/frames lost (\d+)/.exec(lines.at(-1)!)![1]), `seed ${seed}: loss was on`).toBeGreaterThan(0);
}

/**
 * The front-end under the virtual clock: node 0 of the application, reached through the gateway
 * bridge. Two back-ends on lossy links offload files (FileSystem) and a shared table
 * (GlobalIdMap) to it, find each other in the directories the runtime fills, and the whole run
 * replays by seed, byte for byte, although the front-end's answers take host time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { tempApp } from './temp-app.js';

const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const PING = staticEbbId('test.virtual-offload.ping');
const KEY = 0x7000_0001;
export async function main(ctx) {
  const me = ctx.node.id;
  const fs = new EbbRef(SystemEbbIds.FileSystem).deref();
  const map = new EbbRef(SystemEbbIds.GlobalIdMap).deref();
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  const got = new Promise((resolve) => messenger.register(PING, (from, type, m) => { resolve(from + ':' + new TextDecoder().decode(m.toUint8Array())); m.releaseChain(); }));
  ctx.log('peers ' + JSON.stringify(messenger.peers()));
  await fs.writeFile('out/node-' + me + '.txt', 'hello from node ' + me + '\\n');
  await fs.appendFile('out/node-' + me + '.txt', 'second line\\n');
  const back = new TextDecoder().decode((await fs.readFile('out/node-' + me + '.txt')).toUint8Array());
  const shared = new TextDecoder().decode((await fs.readFile('in/shared.txt')).toUint8Array());
  let missing;
  try { await fs.readFile('in/missing.txt'); missing = 'no error'; } catch (e) { missing = e.code + ' ' + e.op + ' ' + e.path; }
  if (me === 1) await map.set(KEY, 'set by node 1');
  let value;
  for (let i = 0; i < 200 && value === undefined; i++) {
    value = await map.get(KEY);
    if (value === undefined) await timer.sleep(1000);
  }
  await messenger.send(me === 1 ? 2 : 1, PING, 1, IOBuf.copyOf('ping from ' + me));
  const ping = await got;
  ctx.log('result ' + JSON.stringify({ me, back, shared, missing, value, ping }));
}
`;

async function run(seed: number): Promise<{ lines: string[]; digest: string; files: string[]; exitCode: number }> {
  const app = tempApp(
    {
      entry: { backend: './node.mjs' },
      clock: 'virtual',
      seed,
      backend: {
        nodes: 2,
        machine: { cores: 2, memory: '32MiB' },
        ebbs: { NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } } },
      },
      network: { link: { latencyNs: 20_000, loss: 0.03, duplicate: 0.02, reorder: 0.03 } },
    },
    { 'node.mjs': nodeMain },
  );
  mkdirSync(join(app.dir, 'in'));
  mkdirSync(join(app.dir, 'out'));
  writeFileSync(join(app.dir, 'in', 'shared.txt'), 'the front-end had this');
  const lines: string[] = [];
  try {
    const r = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], trace: true });
    const digest = createHash('sha256').update(r.simulation.trace.toJSON()).update(lines.join('\n')).digest('hex');
    const files = [1, 2].map((n) => readFileSync(join(app.dir, 'out', `node-${n}.txt`), 'utf8'));
    return { lines, digest, files, exitCode: r.exitCode };
  } finally {
    app.remove();
  }
}

describe('the front-end under the virtual clock (gateway bridge)', () => {
  it('back-ends offload files and the GlobalIdMap to node 0, reach each other, and the run replays byte for byte', async () => {
    const a = await run(3);
    const why = a.lines.join('\n');
    expect(a.exitCode, why).toBe(0);
    const results = a.lines.filter((l) => l.includes('] result ')).map((l) => JSON.parse(l.slice(l.indexOf('result ') + 7)) as Record<string, unknown>);
    expect(results, why).toHaveLength(2);
    for (const r of results) {
      const me = r.me as number;
      expect(r.back).toBe(`hello from node ${me}\nsecond line\n`);
      expect(r.shared).toBe('the front-end had this');
      expect(r.missing).toBe('ENOENT readFile in/missing.txt');
      expect(r.value).toBe('set by node 1');
      expect(r.ping).toBe(`${me === 1 ? 2 : 1}:ping from ${me === 1 ? 2 : 1}`);
    }
    // The runtime filled the directories: the front-end (0) and the other node.
    expect(a.lines.filter((l) => l.includes('] peers ')).map((l) => l.slice(l.indexOf('peers ') + 6)).sort()).toEqual(['[0,1]', '[0,2]']);
    expect(a.files).toEqual(['hello from node 1\nsecond line\n', 'hello from node 2\nsecond line\n']);
    const again = await run(3);
    expect(again.digest).toBe(a.digest);
    const other = await run(4);
    expect(other.exitCode, other.lines.join('\n')).toBe(0);
    expect(other.digest).not.toBe(a.digest);
  }, 120_000);
});

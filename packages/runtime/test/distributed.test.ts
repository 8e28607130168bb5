/**
 * The MultiLibOS end to end: a front-end and 4 back-end nodes booted through the NodeAllocator,
 * their Messengers joined by the runtime, a per-core counter Ebb whose reps are made when its
 * first message reaches a node, over links that lose, duplicate and reorder frames.
 */
import { describe, expect, it } from 'vitest';
import { get, type ClientRequest } from 'node:http';
import type { LiveViewServer } from '@ebbrt/live-view/node';
import { runApp, startRunUi, type StartedRun } from '../src/index.js';
import type { NodeIntrospection } from '@ebbrt/interfaces';
import { counterNodeMain, exactCounterFrontend, killMidRunFrontend } from '@ebbrt/testkit/counter-app';
import { seeds, tempApp } from './temp-app.js';

/** A trace panel row as the dashboard's SSE stream sends it: [seq, node, core, ph, name, tsNs, durNs]. */
type TraceRow = [number, number | string | null, number, string, string, number, number];

/** Reads the dashboard's SSE stream at `url`, appending every trace row to `rows`; `onRows` after each message. */
function readTraceRows(url: string, rows: TraceRow[], onRows: () => void): ClientRequest {
  return get(new URL('events', url), (res) => {
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (message.startsWith('data: ')) rows.push(...((JSON.parse(message.slice(6)) as { trace?: { entries: TraceRow[] } }).trace?.entries ?? []));
        onRows();
      }
    });
  }).on('error', () => undefined);
}

// Back-end: the counter's type is registered; its root and reps are made by the first message.
const nodeMain = counterNodeMain();

const getNumLine = `  const em = new EbbRef(SystemEbbIds.EventManager).deref();
  const whole = await em.getNum();
  ctx.log('getNum ' + whole + ' frontend ' + em.getNumNode());`;
const frontendMain = exactCounterFrontend({ after: getNumLine });
// The process-platform run is watched by a dashboard: before its adds, the front-end pings every
// node (\`add 0\`, which leaves the totals alone) until the test has seen trace rows from each
// node process (the front-end runs in this process: the test raises WATCHED on globalThis).
const WATCHED = '__ebbrtDistributedTestWatched';
const watchedFrontendMain = exactCounterFrontend({
  before: `  while (globalThis.${WATCHED} !== true && !ctx.signal.aborted) {
    for (const id of ids) await add(id, 0);
    await timer.sleep(20_000);
  }
`,
  after: getNumLine,
});

async function runCluster(seed: number, nodes = 4, platform: 'in-process' | 'process' = 'in-process', onStarted?: (run: StartedRun) => void, frontend = frontendMain): Promise<string[]> {
  const app = tempApp(
    {
      entry: { frontend: './frontend.mjs', backend: './node.mjs' },
      clock: 'realtime',
      seed,
      backend: {
        nodes,
        platform,
        machine: { cores: 2, memory: '32MiB' },
        ebbs: {
          NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
        },
      },
      network: { link: { latencyNs: 20_000, loss: 0.02, duplicate: 0.01, reorder: 0.02 } },
    },
    { 'frontend.mjs': frontend, 'node.mjs': nodeMain },
  );
  const lines: string[] = [];
  try {
    const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], signal: AbortSignal.timeout(60_000), ...(onStarted !== undefined ? { onStarted } : {}) });
    if (run.failures.length > 0) throw new Error(`seed ${seed}: failures:\n${lines.join('\n')}`);
    if (run.network !== undefined) {
      const lost = run.network.simulated.fabric.links.reduce((n, l) => n + l.totals().lost, 0);
      lines.push(`frames lost ${lost}`);
    }
    return lines;
  } finally {
    app.remove();
  }
}

describe('a per-core counter Ebb across a front-end and 4 back-ends', () => {
  it(
    'reps are made on message arrival; totals are exact under loss, duplication and reordering, for every seed',
    async () => {
      const all = seeds(20);
      // Seeds run 4 at a time: each is an independent realtime simulation.
      for (let i = 0; i < all.length; i += 4) {
        const batch = all.slice(i, i + 4);
        const results = await Promise.all(batch.map((seed) => runCluster(seed).then((lines) => ({ seed, lines }))));
        for (const { seed, lines } of results) {
          checkCluster(seed, lines, 4);
          expect(new Set(lines.filter((l) => / pid \d+$/.test(l)).map((l) => l.split(' pid ')[1]))).toEqual(new Set([String(process.pid)]));
          expect(Number(/frames lost (\d+)/.exec(lines.at(-1)!)![1]), `seed ${seed}: loss was on`).toBeGreaterThan(0);
        }
      }
    },
    300_000,
  );

  it('the same counter with one OS process per node (3 processes), over real loopback TCP', async () => {
    const before = await childCount();
    // The dashboard's seam: each node process answers introspect over its control channel.
    const seen: NodeIntrospection[] = [];
    let poll: ReturnType<typeof setInterval> | undefined;
    // And the dashboard's trace panel: each node process sends its own events with its answers.
    let ui: Promise<LiveViewServer> | undefined;
    const rows: TraceRow[] = [];
    let reader: ClientRequest | undefined;
    const lines = await runCluster(1, 3, 'process', (run) => {
      poll = setInterval(() => {
        for (const n of run.platform.liveNodes) n.introspect?.().then((d) => void seen.push(d), () => undefined);
      }, 20);
      ui = startRunUi(run, 0, 'realtime', 'process nodes');
      void ui.then((u) => (reader = readTraceRows(u.url, rows, () => {
        if ([1, 2, 3].every((id) => rows.some((r) => r[1] === id))) (globalThis as Record<string, unknown>)[WATCHED] = true;
      })));
    }, watchedFrontendMain).finally(() => delete (globalThis as Record<string, unknown>)[WATCHED]);
    clearInterval(poll);
    reader?.destroy();
    await (await ui!).close();
    // Rows from every node process, each event once, in stream order, on the node's 2 cores.
    for (const id of [1, 2, 3]) {
      const mine = rows.filter((r) => r[1] === id);
      expect(mine.length, `trace rows of node ${id}`).toBeGreaterThan(0);
      expect(mine.every((r) => r[2] === 0 || r[2] === 1)).toBe(true);
      expect(mine.some((r) => r[4] === 'slice')).toBe(true);
      const keys = mine.map((r) => `${r[2]}/${r[4]}/${r[5]}/${r[6]}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(rows.every((r, i) => i === 0 || r[0] > rows[i - 1]![0])).toBe(true);
    checkCluster(1, lines, 3);
    expect(new Set(seen.map((d) => d.networkId))).toEqual(new Set([1, 2, 3]));
    // Every answer carries the node's own clock reading: the dashboard maps its trace times with it.
    expect(seen.every((d) => typeof d.nowNs === 'number' && d.nowNs > 0)).toBe(true);
    const last = seen.at(-1)!;
    expect(last.ebbs.find((e) => e.kind === 'NetworkManager')?.packageName).toBe('@ebbrt/network-manager-lwip');
    expect(last.memory!.totalBytes).toBeGreaterThan(0);
    expect(seen.some((d) => (d.network?.connections.length ?? 0) > 0 && (d.messenger?.peers.some((p) => p.messagesReceived > 0) ?? false))).toBe(true);
    // The cores panel's data comes over the same channel: each node's 2 cores, their slices
    // rising between answers, events dispatched, and host time sampled once a tool asked.
    for (const id of [1, 2, 3]) {
      const series = seen.filter((d) => d.networkId === id);
      expect(series.every((d) => d.cores?.length === 2), `node ${id}`).toBe(true);
      const slices = (d: NodeIntrospection): number => d.cores!.reduce((a, c) => a + c.slices, 0);
      expect(slices(series.at(-1)!)).toBeGreaterThan(slices(series[0]!));
      expect(series.at(-1)!.cores!.reduce((a, c) => a + (c.eventsDispatched ?? 0), 0)).toBeGreaterThan(0);
      expect(series.at(-1)!.cores!.some((c) => c.busyHostMs > 0)).toBe(true);
    }
    const pids = new Set(lines.filter((l) => / pid \d+$/.test(l)).map((l) => Number(l.split(' pid ')[1])));
    expect(pids.size).toBe(3);
    expect(pids.has(process.pid)).toBe(false);
    // Every node process is gone with the application.
    expect(await childCount()).toBe(before);
  }, 120_000);
});

describe('a node killed mid-run', () => {
  // The front-end keeps a stream of sends going to every node; node 2 loses power mid-stream.
  const frontend = killMidRunFrontend({ killed: 2, pauseUs: 2000 });
  it('pending sends to it fail naming it, the others keep working, and its machine is freed', async () => {
    const app = tempApp(
      {
        entry: { frontend: './frontend.mjs', backend: './node.mjs' },
        clock: 'realtime',
        backend: { nodes: 3, machine: { cores: 2, memory: '32MiB' } },
        network: { link: { latencyNs: 20_000 } },
      },
      { 'frontend.mjs': frontend, 'node.mjs': nodeMain },
    );
    const lines: string[] = [];
    try {
      let kill: () => void = () => undefined;
      const run = await runApp(app.dir, {
        resolveFrom: [process.cwd()],
        signal: AbortSignal.timeout(60_000),
        onStarted: ({ platform }) => (kill = () => platform.node(2)!.kill('power lost')),
        output: (l) => {
          lines.push(l);
          if (l.endsWith('streaming')) setTimeout(() => kill(), 50);
        },
      });
      const errors = /errors (\d+) first (.*)$/.exec(lines.find((l) => l.includes('errors '))!)!;
      expect(Number(errors[1]), lines.join('\n')).toBeGreaterThan(0);
      expect(errors[2]).toMatch(/^2: node 2: /);
      expect(errors[2]).toMatch(/gone|closed|reset|refused|timed out/);
      for (const id of [1, 3]) {
        const m = new RegExp(`node ${id} total (\\d+) expected (\\d+)`).exec(lines.join('\n'))!;
        expect(Number(m[1])).toBe(Number(m[2]));
        expect(Number(m[1])).toBe((300 * 301) / 2);
      }
      expect(lines.some((l) => l.includes('node 2 died: power lost'))).toBe(true);
      expect(run.simulation.machines.map((m) => m.name).sort()).toEqual(['gateway', 'node1', 'node3']);
      expect(run.failures).toEqual([]);
    } finally {
      app.remove();
    }
  }, 90_000);
});

async function childCount(): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat.split(') ')[1]?.split(' ')[1] === String(process.pid)) n++;
  }
  return n;
}

/** The counter's totals are exact, reps were made by the first message, and getNum saw every node. */
function checkCluster(seed: number, lines: string[], nodes: number): void {
  const totals = lines.filter((l) => l.includes(' total '));
  expect(totals, `seed ${seed}:\n${lines.join('\n')}`).toHaveLength(nodes);
  for (const t of totals) {
    const m = /node (\d) total (\d+) expected (\d+)/.exec(t)!;
    expect(Number(m[2]), `seed ${seed}: ${t}`).toBe(Number(m[3]));
  }
  expect(totals.reduce((s, t) => s + Number(/total (\d+)/.exec(t)![1]), 0)).toBe((400 * 401) / 2);
  for (let node = 1; node <= nodes; node++) {
    // Made by the first message, exactly once per core, after the type was registered.
    const made = lines.filter((l) => l.startsWith(`[node ${node} core`) && l.includes('rep made on core'));
    expect(made.map((l) => l.split('rep made on core ')[1]).sort(), `seed ${seed} node ${node}`).toEqual(['0', '1']);
    expect(lines.indexOf(`[node ${node} core 0] counter type registered`)).toBeLessThan(lines.indexOf(made[0]!));
  }
  const num = /getNum (\d+) frontend (\d+)/.exec(lines.find((l) => l.includes('getNum'))!)!;
  // The whole application's events: far more than the front-end's own.
  expect(Number(num[1])).toBeGreaterThan(Number(num[2]) + 400);
}

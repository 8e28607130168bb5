/**
 * The dashboard's demo app (the `ebbrt run --ui` browser test, the screenshot): 4 back-ends on a
 * simulated network, each running the distributed counter (testkit counter-app) and sending a
 * ping to the next node in a ring every 10 ms, so there is node↔node Messenger traffic over lwIP
 * TCP. Every 40 rounds an event on core 1 blocks for 1 s (the cores panel's watchdog shows it).
 * Under the realtime clock the front-end also streams `add`s to every node (node 0's edges); a
 * virtual clock has no front-end Messenger, so there only the ring talks. Bounded: `rounds`
 * pings per node, then mains return.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { counterFrontendMain, counterNodeMain } from './counter-app.js';

export const DASHBOARD_NODES = 4;

const RING_NODE = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
import { main as counterMain } from './counter.mjs';
const RING = staticEbbId('dashboard.ring');
export async function main(ctx) {
  counterMain(ctx);
  const [nodes, rounds] = ctx.args.map(Number);
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  messenger.register(RING, (from, type, message) => message.releaseChain());
  const next = (ctx.node.id % nodes) + 1;
  await timer.sleep(20_000);
  const em = new EbbRef(SystemEbbIds.EventManager).deref();
  for (let i = 0; i < rounds && !ctx.signal.aborted; i++) {
    // Every 40 rounds (~0.4 s) an event on core 1 blocks for 1 s: the cores panel's watchdog shows it late.
    if (i % 40 === 0) em.spawnRemote(async function slowCheck() { await timer.sleep(1_000_000); }, 1);
    // A killed peer refuses: the ring goes on around it.
    await messenger.send(next, RING, 1, IOBuf.copyOf('ping ' + i)).catch(() => undefined);
    await timer.sleep(10_000);
  }
}
`;

// Bounded: rounds of an add to every node, 10 ms apart; every 50th round asks for totals instead.
const STREAMING_FRONTEND = counterFrontendMain(`  const rounds = Number(ctx.args[1]);
  for (let i = 1; i <= rounds && !ctx.signal.aborted; i++) {
    for (const id of ids) await (i % 50 === 0 ? askTotal(id) : add(id, i)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
  }`);

export interface DashboardApp {
  readonly dir: string;
  remove(): void;
}

/** Writes the app into a fresh directory under `parent`. `rounds` bounds its run (10 ms each). */
export function writeDashboardApp(parent: string, clock: 'virtual' | 'realtime', rounds = 3000): DashboardApp {
  const dir = mkdtempSync(join(parent, `dash-${clock}-`));
  const config = {
    // The dashboard's title (`ebbrt run dashboard-demo`), not the temp dir's path.
    name: 'dashboard-demo',
    entry: { ...(clock === 'realtime' ? { frontend: './frontend.mjs' } : {}), backend: './node.mjs' },
    clock,
    args: [String(DASHBOARD_NODES), String(rounds)],
    backend: {
      nodes: DASHBOARD_NODES,
      machine: { cores: 2, memory: '32MiB' },
      ebbs: {
        NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
        // Under realtime the runtime's link fills each Messenger's directory; a virtual run has
        // no link, so the ring's peers are listed (node n is 10.0.0.(n+1), Messenger port 7000).
        ...(clock === 'virtual' ? { Messenger: { package: '@ebbrt/messenger', options: { peers: Object.fromEntries(Array.from({ length: DASHBOARD_NODES }, (_, i) => [String(i + 1), `10.0.0.${i + 2}:7000`])) } } } : {}),
      },
    },
    network: { link: { latencyNs: 20_000 } },
  };
  writeFileSync(join(dir, 'ebbrt.config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'counter.mjs'), counterNodeMain());
  writeFileSync(join(dir, 'node.mjs'), RING_NODE);
  if (clock === 'realtime') writeFileSync(join(dir, 'frontend.mjs'), STREAMING_FRONTEND);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

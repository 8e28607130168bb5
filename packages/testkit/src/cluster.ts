/**
 * The same Messenger tests on two kinds of cluster:
 *
 * - native: simulated nodes (netFixture from @ebbrt/network-manager-lwip: EM, Timer, SLQB, the
 *   lwIP-style stack, node i at 10.0.0.<i+1>, network id i+1), Messenger on port 7000;
 * - hosted: nodes in this process over loopback (@ebbrt/event-manager hosted +
 *   @ebbrt/network-manager-hosted), network ids 10, 11, ..., Messenger on an ephemeral port.
 *
 * A test body gets `run(i, core, fn)` (an event on node i's core, awaited) and `until(cond)`
 * (advance the world until `cond()`: virtual time for native, wall time for hosted).
 */
import { EbbRef, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import type { LinkProps } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EventFailure, type EventManagerRoot, type NetworkManager } from '@ebbrt/interfaces';
import { MessengerRoot, manifest, type MessengerRep } from '@ebbrt/messenger';
import { HostedNetworkManager, manifest as hostedManifest } from '@ebbrt/network-manager-hosted';
import { installEbb, installEbbAsync, type FixtureContext } from './install-ebb.js';
import { netFixture, type NetFixture } from './net-fixture.js';

export const messengerRef = new EbbRef<MessengerRep>(SystemEbbIds.Messenger);
export const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);

/** @ebbrt/messenger's root (these tests read its own members), or an error saying what was installed instead. */
function messengerRoot(root: unknown): MessengerRoot {
  if (!(root instanceof MessengerRoot)) throw new TypeError(`the Messenger is not @ebbrt/messenger's root (got ${String((root as object | null)?.constructor?.name)})`);
  return root;
}

export interface Cluster {
  readonly kind: 'native' | 'hosted';
  readonly roots: MessengerRoot[];
  /** Network id of node i. */
  id(i: number): number;
  logs: string[][];
  failures: EventFailure[];
  /** Runs `fn` as an event on node i's `core` and waits for it (and what it awaits). */
  run<T>(i: number, core: number, fn: () => T | Promise<T>, limitNs?: number): Promise<T>;
  /** Starts `fn` as an event without waiting. */
  spawn(i: number, core: number, fn: () => unknown): void;
  /** Lets the world run until `cond()` (throws naming `what` past the limit). */
  until(cond: () => boolean, what: string, limitNs?: number, stepNs?: number): Promise<void>;
  /** Lets the world run a while (virtual ns for native; wall ms/1e6 for hosted). */
  idle(ns: number): Promise<void>;
  dispose(): Promise<void>;
  native?: NetFixture;
}

export interface NativeOptions {
  seed?: number;
  nodes?: number;
  cores?: number;
  link?: Partial<LinkProps>;
  netOptions?: Record<string, unknown>;
  messenger?: Record<string, unknown>;
}

export async function nativeCluster(opts: NativeOptions = {}): Promise<Cluster> {
  const n = opts.nodes ?? 2;
  const f = netFixture({
    seed: opts.seed ?? 1,
    nodes: n,
    cores: opts.cores ?? 2,
    memoryBytes: 64 * 1024 * 1024,
    link: opts.link,
    options: { tcpMslUs: 100_000, ...opts.netOptions },
  });
  const peers: Record<string, string> = {};
  for (let i = 0; i < n; i++) peers[String(i + 1)] = `10.0.0.${i + 1}:7000`;
  const roots: MessengerRoot[] = [];
  const failures: EventFailure[] = [];
  for (const node of f.nodes) {
    const root = messengerRoot(await installEbbAsync('Messenger', manifest, { node: node.node, target: 'native', log: (l) => node.logs.push(l) }, { peers, ...opts.messenger }));
    node.em.onEventFailure((e) => failures.push(e));
    roots.push(root);
  }
  const until = async (cond: () => boolean, what: string, limitNs = 60e9, stepNs = 1e6): Promise<void> => {
    const end = f.sim.now() + limitNs;
    while (!cond()) {
      if (f.sim.now() >= end) throw new Error(`native cluster: ${what} not reached within ${limitNs / 1e9} s of virtual time`);
      await f.sim.run({ untilNs: Math.min(end, f.sim.now() + stepNs) });
    }
  };
  const cluster: Cluster = {
    kind: 'native',
    roots,
    id: (i) => i + 1,
    logs: f.nodes.map((x) => x.logs),
    failures,
    native: f,
    async run(i, core, fn, limitNs) {
      const out = f.run(i, core, fn);
      await until(() => out.done, `event on node ${i} core ${core}`, limitNs);
      if (out.error !== undefined) throw out.error;
      return out.value as Awaited<ReturnType<typeof fn>>;
    },
    spawn(i, core, fn) {
      f.nodes[i]!.post(core, fn);
    },
    until,
    async idle(ns) {
      await f.sim.run({ untilNs: f.sim.now() + ns });
    },
    async dispose() {},
  };
  // Bring every NIC up and every listener before the tests send (lwIP-specific readiness).
  for (let i = 0; i < n; i++) await cluster.run(i, 0, () => f.nodes[i]!.rep().whenReady());
  await until(() => roots.every((r) => r.port === 7000), 'listeners');
  return cluster;
}

export interface HostedNode {
  node: NodeContext;
  em: EventManagerRoot;
  nm: HostedNetworkManager;
  root: MessengerRoot;
  logs: string[];
}

/**
 * One hosted node (its own NodeContext `id`, Event Manager, hosted stack and Messenger on an
 * ephemeral loopback port), e.g. a restarted node's new life beside a cluster (`messenger:
 * { networkId, incarnation }`). Failed events go to `failures`.
 */
export async function hostedNode(id: number, opts: { cores?: number; messenger?: Record<string, unknown>; failures?: EventFailure[] } = {}): Promise<HostedNode> {
  const node = new NodeContext({ id, numCores: opts.cores ?? 2, target: 'hosted' });
  const logs: string[] = [];
  const log = (l: string): void => void logs.push(l);
  const ctx: FixtureContext = { node, target: 'hosted', log };
  const em = installEbb('EventManager', eventManagerManifest, ctx);
  em.onEventFailure((e) => opts.failures?.push(e));
  const nm = installEbb('NetworkManager', hostedManifest, ctx);
  if (!(nm instanceof HostedNetworkManager)) throw new TypeError('the NetworkManager is not @ebbrt/network-manager-hosted\'s root');
  const root = messengerRoot(await installEbbAsync('Messenger', manifest, ctx, { port: 0, ...opts.messenger }));
  return { node, em, nm, root, logs };
}

export async function hostedCluster(opts: { nodes?: number; cores?: number; messenger?: Record<string, unknown> } = {}): Promise<Cluster> {
  const n = opts.nodes ?? 2;
  const nodes: HostedNode[] = [];
  const failures: EventFailure[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(await hostedNode(10 + i, { ...(opts.cores !== undefined ? { cores: opts.cores } : {}), ...(opts.messenger !== undefined ? { messenger: opts.messenger } : {}), failures }));
  }
  await Promise.all(nodes.map((x) => x.root.listening));
  // The runtime's job: tell every node where the others listen (ids are not addresses).
  for (const a of nodes) for (const b of nodes) if (a !== b) a.root.setPeer(b.node.id, '127.0.0.1', b.root.port);
  const until = async (cond: () => boolean, what: string, limitNs = 20e9): Promise<void> => {
    const t0 = performance.now();
    while (!cond()) {
      if ((performance.now() - t0) * 1e6 > limitNs) throw new Error(`hosted cluster: ${what} not reached within ${limitNs / 1e9} s`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const cluster: Cluster = {
    kind: 'hosted',
    roots: nodes.map((x) => x.root),
    id: (i) => 10 + i,
    logs: nodes.map((x) => x.logs),
    failures,
    run<T>(i: number, core: number, fn: () => T | Promise<T>) {
      return new Promise<T>((resolve, reject) =>
        nodes[i]!.em.post(core, async () => {
          try {
            resolve(await fn());
          } catch (e) {
            reject(e);
          }
        }),
      );
    },
    spawn(i, core, fn) {
      nodes[i]!.em.post(core, fn);
    },
    until,
    async idle(ns) {
      await new Promise((r) => setTimeout(r, ns / 1e6));
    },
    async dispose() {
      // Close every connection gracefully and let the closes settle before tearing the nodes
      // down: disposing a hosted node while a close is in flight has left Node spinning.
      await Promise.all(nodes.map((x, i) => cluster.run(i, 0, async () => {
        for (const other of nodes) if (other !== x) await x.root.close(other.node.id);
      })));
      await until(() => nodes.every((x) => x.root.connections().length === 0), 'connections closed', 5e9).catch(() => {});
      for (const x of nodes) await cluster.run(nodes.indexOf(x), 0, () => x.root.stop());
      await new Promise((r) => setTimeout(r, 20));
      for (const x of nodes) {
        x.nm.closeAll();
        x.em.shutdown();
      }
    },
  };
  return cluster;
}

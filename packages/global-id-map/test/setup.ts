/**
 * Clusters for the GlobalIdMap tests, built on the Messenger's own test clusters (native:
 * simulated nodes with the lwIP-style stack, network ids 1..n; hosted: nodes in this process
 * over loopback, network ids 10..). Each node gets a Timer (hosted ones lack it there) and,
 * unless told otherwise, this package's GlobalIdMap with `home` = the first node.
 */
import { cpu, EbbRef, type NodeContext } from '@ebbrt/core-translation';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { SystemEbbIds, type EbbRoot, type GlobalIdMap, type Timer } from '@ebbrt/interfaces';
import { hostedCluster, nativeCluster, type Cluster } from '@ebbrt/testkit/cluster';
import { manifest, type GlobalIdMapOptionsInput, type GlobalIdMapRoot } from '../src/index.js';

export const mapRef = new EbbRef<GlobalIdMap>(SystemEbbIds.GlobalIdMap);

export interface MapCluster extends Cluster {
  nodes: NodeContext[];
  maps: (GlobalIdMapRoot | undefined)[];
  /** Runs `fn` on node i's core and checks the continuation after it came back on that core. */
  onCore<T>(i: number, core: number, fn: () => Promise<T>): Promise<T>;
  /** Runs every job at once (each as onCore) and waits for all: the native cluster's run() is one at a time. */
  all<T>(jobs: [node: number, core: number, fn: () => Promise<T>][]): Promise<T[]>;
}

export async function mapCluster(
  kind: 'native' | 'hosted',
  opts: { nodes?: number; seed?: number; link?: Record<string, number>; options?: GlobalIdMapOptionsInput; skipMapOn?: number[] } = {},
): Promise<MapCluster> {
  const n = opts.nodes ?? 3;
  const c = kind === 'native' ? await nativeCluster({ nodes: n, seed: opts.seed, link: opts.link }) : await hostedCluster({ nodes: n });
  const nodes = c.roots.map((r) => r.node);
  const maps: (GlobalIdMapRoot | undefined)[] = [];
  for (const [i, node] of nodes.entries()) {
    if (node.ebbAllocator.idSpace === undefined) node.ebbAllocator.setIdSpace(i + 2);
    const log = (l: string): void => void c.logs[i]!.push(l);
    if (node.localIdMap.get(SystemEbbIds.Timer) === undefined) {
      node.install(SystemEbbIds.Timer, timerManifest.create({ id: SystemEbbIds.Timer, node, target: node.target, log }, {}) as EbbRoot<Timer>);
    }
    if (opts.skipMapOn?.includes(i)) {
      maps.push(undefined);
      continue;
    }
    const root = manifest.create(
      { id: SystemEbbIds.GlobalIdMap, node, target: node.target, log },
      manifest.options!.parse({ home: c.id(0), ...opts.options }),
    ) as GlobalIdMapRoot;
    node.install(SystemEbbIds.GlobalIdMap, root);
    maps.push(root);
  }
  const checked =
    <T>(i: number, core: number, fn: () => Promise<T>) =>
    async (): Promise<T> => {
      const value = await fn();
      const here = cpu.current;
      if (here?.node !== nodes[i] || here.index !== core) {
        throw new Error(`resumed on ${here === undefined ? 'no core' : `node ${here.node.id} core ${here.index}`}, not node ${nodes[i]!.id} core ${core}`);
      }
      return value;
    };
  return Object.assign(c, {
    nodes,
    maps,
    onCore<T>(i: number, core: number, fn: () => Promise<T>): Promise<T> {
      return c.run(i, core, checked(i, core, fn));
    },
    async all<T>(jobs: [number, number, () => Promise<T>][]): Promise<T[]> {
      if (c.native === undefined) return Promise.all(jobs.map(([i, core, fn]) => c.run(i, core, checked(i, core, fn))));
      const outs = jobs.map(([i, core, fn]) => c.native!.run(i, core, checked(i, core, fn)));
      await c.until(() => outs.every((o) => o.done), `${jobs.length} jobs`);
      const failed = outs.find((o) => o.error !== undefined);
      if (failed !== undefined) throw failed.error;
      return outs.map((o) => o.value as T);
    },
  });
}

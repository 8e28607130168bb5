/**
 * A hosted node (a front-end) with the hosted Event Manager and the etcd GlobalIdMap installed
 * under the well-known GlobalIdMap id, and helpers to run code on a core.
 */
import { EbbRef, NodeContext, cpu } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { SystemEbbIds, type EventFailure, type EventManagerRoot } from '@ebbrt/interfaces';
import { etcdGlobalIdMapOptionsSchema, manifest, type EtcdGlobalIdMap, type EtcdGlobalIdMapOptionsInput, type EtcdGlobalIdMapRoot } from '../src/index.js';

export interface HostedFixture {
  node: NodeContext;
  em: EventManagerRoot;
  root: EtcdGlobalIdMapRoot;
  failures: EventFailure[];
  /** The GlobalIdMap rep of the current core (inside events only). */
  map(): EtcdGlobalIdMap;
  /** Runs `fn` as an event on `core`; resolves with its awaited result (outside any core). */
  onCore<T>(core: number, fn: () => T | Promise<T>): Promise<T>;
  /** Index of the current core if it belongs to this node, else a description of what is current. */
  here(): number | string;
  dispose(): void;
}

const mapRef = new EbbRef<EtcdGlobalIdMap>(SystemEbbIds.GlobalIdMap);

export function hostedNode(options: EtcdGlobalIdMapOptionsInput | null, cores = 4, nodeId = 0): HostedFixture {
  const node = new NodeContext({ id: nodeId, numCores: cores, target: 'hosted' });
  const log = (): void => {};
  const em = eventManagerManifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'hosted', log },
    eventManagerManifest.options!.parse({}),
  ) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, em);
  // `null`: leave the GlobalIdMap id free for the caller to install something else.
  const root = (options === null ? undefined : manifest.create(
    { id: SystemEbbIds.GlobalIdMap, node, target: 'hosted', log },
    etcdGlobalIdMapOptionsSchema.parse(options),
  )) as EtcdGlobalIdMapRoot;
  if (options !== null) node.install(SystemEbbIds.GlobalIdMap, root);
  const failures: EventFailure[] = [];
  em.onEventFailure((f) => failures.push(f));
  return {
    node,
    em,
    root,
    failures,
    map: () => mapRef.deref(),
    onCore<T>(core: number, fn: () => T | Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        em.post(core, async () => {
          try {
            resolve(await fn());
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    here(): number | string {
      const c = cpu.current;
      if (c === undefined) return 'no core';
      return c.node === node ? c.index : `node ${c.node.id} core ${c.index}`;
    },
    dispose(): void {
      em.shutdown();
    },
  };
}

/** A namespace no other test uses, so tests sharing one etcd do not see each other's ids. */
let counter = 0;
export function freshNamespace(tag: string): string {
  counter++;
  return `t-${tag}-${process.pid}-${counter}`;
}

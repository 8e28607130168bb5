import { EbbRef, currentNode, type NodeContext } from '@ebbrt/core-translation';
import {
  SystemEbbIds,
  UsageError,
  isValidEbbId,
  type CoreInfo,
  type CorePromise,
  type EbbId,
  type EbbRoot,
  type EventManager,
  type GlobalIdMap,
} from '@ebbrt/interfaces';
import { GlobalIdMapError, hexId } from './errors.js';

const mapRef = new EbbRef<GlobalIdMap>(SystemEbbIds.GlobalIdMap);
const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);

/** Builds an Ebb's root on a node from the data published for it in the GlobalIdMap. */
export type GlobalEbbBuilder<Rep> = (data: string, where: { readonly node: NodeContext; readonly id: EbbId }) => EbbRoot<Rep>;

/**
 * Sits in the LocalIdMap while a node fetches an Ebb's data from the GlobalIdMap, so concurrent
 * `fromGlobalIdMap` calls on the node (from any core) share one fetch, and a premature
 * `deref()` fails with a clear error instead of a fault loop.
 */
class LoadingRoot implements EbbRoot<never> {
  readonly waiters: CorePromise<void>[] = [];
  constructor(readonly id: EbbId) {}
  handleFault(_core: CoreInfo): never {
    throw new UsageError(`Ebb ${hexId(this.id)} is still being built from the GlobalIdMap on this node: await fromGlobalIdMap(${hexId(this.id)}, ...) before deref()`);
  }
}

/**
 * The reference to a global Ebb, ready to `deref()` on this node: if the node has never seen the
 * Ebb, reads its data from the GlobalIdMap and installs the root `build` makes from it (EbbRT's
 * "rep built from GlobalIdMap data"). Call from an event; resumes on the calling core. Rejects
 * with `GlobalIdMapError` (`EBBRT_GLOBAL_ID_MAP_NO_ENTRY`) when nothing was published.
 */
export async function fromGlobalIdMap<Rep>(id: EbbId, build: GlobalEbbBuilder<Rep>): Promise<EbbRef<Rep>> {
  if (!isValidEbbId(id)) throw new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_BAD_ID', `fromGlobalIdMap: ${hexId(id)} is not a valid EbbId`);
  const node = currentNode();
  const existing = node.localIdMap.get(id);
  if (existing instanceof LoadingRoot) {
    const ready = emRef.deref().promise<void>();
    existing.waiters.push(ready);
    await ready.promise;
    return new EbbRef<Rep>(id);
  }
  if (existing !== undefined) return new EbbRef<Rep>(id);
  const loading = new LoadingRoot(id);
  node.localIdMap.set(id, loading);
  let root: EbbRoot<Rep>;
  try {
    const data = await mapRef.deref().get(id);
    if (data === undefined) {
      throw new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_NO_ENTRY', `fromGlobalIdMap: the GlobalIdMap has no entry for Ebb ${hexId(id)} (node ${node.id} cannot build it)`);
    }
    root = build(data, { node, id });
  } catch (e) {
    node.localIdMap.delete(id);
    for (const w of loading.waiters) w.reject(e);
    throw e;
  }
  node.localIdMap.delete(id);
  node.localIdMap.set(id, root);
  for (const w of loading.waiters) w.resolve();
  return new EbbRef<Rep>(id);
}

/**
 * Creates a global Ebb on this node: takes a global id from the node's id space (unless `id`
 * is given), publishes `data` under it in the GlobalIdMap, and installs the root `build` makes
 * from the same data here. Other nodes get it with {@link fromGlobalIdMap}.
 */
export async function createGlobalEbb<Rep>(data: string, build: GlobalEbbBuilder<Rep>, options: { id?: EbbId } = {}): Promise<EbbRef<Rep>> {
  const node = currentNode();
  const id = options.id ?? node.ebbAllocator.allocateGlobal();
  await mapRef.deref().set(id, data);
  node.install(id, build(data, { node, id }));
  return new EbbRef<Rep>(id);
}

/** The two together: `GlobalEbb.create(data, build)` here, `GlobalEbb.from(id, build)` anywhere. */
export const GlobalEbb = { create: createGlobalEbb, from: fromGlobalIdMap } as const;

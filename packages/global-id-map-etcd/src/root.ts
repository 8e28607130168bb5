import { cpu, type NodeContext } from '@ebbrt/core-translation';
import {
  SystemEbbIds,
  UsageError,
  type CoreInfo,
  type EbbId,
  type EbbRoot,
  type EventManagerRoot,
  type GlobalIdMap,
} from '@ebbrt/interfaces';
import { checkId, encodeData, keyFor } from './codec.js';
import { EtcdClient } from './etcd-client.js';
import type { EtcdGlobalIdMapOptions } from './options.js';

/** The GlobalIdMap interface plus what etcd makes cheap. */
export interface EtcdGlobalIdMap extends GlobalIdMap {
  /** Removes `id`'s entry; resolves true if there was one. Not part of the GlobalIdMap interface. */
  delete(id: EbbId): Promise<boolean>;
}

/**
 * Node-wide part of the etcd GlobalIdMap: the options, the HTTP client (its failover state is
 * shared by the node's cores) and the way back into a core. Each core gets its own small rep.
 *
 * fetch settles on Node's loop, outside every core, with the current-core register holding
 * whatever core ran last (possibly another node's). So nothing is resolved there: the outcome
 * is posted to the calling core through the EventManagerRoot (found in the node's LocalIdMap),
 * and the caller's `await` resumes inside that event, in the core's microtask drain, with the
 * register right.
 */
export class EtcdGlobalIdMapRoot implements EbbRoot<EtcdGlobalIdMap> {
  readonly client: EtcdClient;
  private events: EventManagerRoot | undefined;

  constructor(
    readonly node: NodeContext,
    readonly options: EtcdGlobalIdMapOptions,
  ) {
    this.client = new EtcdClient(options);
  }

  handleFault(core: CoreInfo): EtcdGlobalIdMap {
    return new EtcdGlobalIdMapRep(this, core.index);
  }

  keyFor(id: EbbId): string {
    return keyFor(this.options.prefix, this.options.namespace, id);
  }

  /** The node's EventManagerRoot, looked up on first use (it may be installed after us). */
  eventManagerRoot(): EventManagerRoot {
    if (this.events !== undefined) return this.events;
    const root = this.node.localIdMap.get(SystemEbbIds.EventManager) as Partial<EventManagerRoot> | undefined;
    if (root === undefined || typeof root.post !== 'function') {
      throw new UsageError(`@ebbrt/global-id-map-etcd needs an EventManager whose root has post() on node ${this.node.id}`);
    }
    this.events = root as EventManagerRoot;
    return this.events;
  }

  /** The calling core if it is one of this node's, else `fallback` (the rep's own core). */
  callerCore(fallback: number): number {
    const core = cpu.current;
    return core !== undefined && core.node === this.node ? core.index : fallback;
  }

  /**
   * Runs `work` (off-core I/O) and settles the returned promise from an event on `core`, so the
   * awaiting continuation runs on that core. Synchronous validation errors reject at once (we are
   * still on the core).
   */
  onCore<T>(core: number, work: () => Promise<T>): Promise<T> {
    let events: EventManagerRoot;
    let pending: Promise<T>;
    try {
      events = this.eventManagerRoot();
      pending = work();
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      pending.then(
        (value) => events.post(core, () => resolve(value)),
        (error: unknown) => events.post(core, () => reject(error)),
      );
    });
  }
}

/** A core's rep: validates on the core, does the I/O on Node's loop, resumes on the core. */
export class EtcdGlobalIdMapRep implements EtcdGlobalIdMap {
  constructor(
    private readonly root: EtcdGlobalIdMapRoot,
    readonly core: number,
  ) {}

  get(id: EbbId): Promise<string | undefined> {
    return this.root.onCore(this.root.callerCore(this.core), () => {
      checkId(id);
      return this.root.client.get(this.root.keyFor(id));
    });
  }

  set(id: EbbId, data: string): Promise<void> {
    return this.root.onCore(this.root.callerCore(this.core), () => {
      checkId(id);
      const bytes = encodeData(id, data, this.root.options.maxValueBytes);
      return this.root.client.put(this.root.keyFor(id), bytes);
    });
  }

  delete(id: EbbId): Promise<boolean> {
    return this.root.onCore(this.root.callerCore(this.core), () => {
      checkId(id);
      return this.root.client.delete(this.root.keyFor(id));
    });
  }
}

import { OffloadFaults, type NodeContext } from '@ebbrt/core-translation';
import type { CoreInfo, EbbId, EbbRoot, FaultSink } from '@ebbrt/interfaces';
import type { GlobalIdMapOptions } from './options.js';
import { GlobalIdMapRep } from './rep.js';
import { newServerStats, type ServerStats } from './server.js';

/** Counters of one node's GlobalIdMap (node-wide: a node's cores share one JS thread). */
export interface GlobalIdMapStats extends ServerStats {
  /** gets / sets served from the local table (home only). */
  localGets: number;
  localSets: number;
  /** Requests sent to the home. */
  remoteGets: number;
  remoteSets: number;
  /** Requests that rejected because the home was unreachable (the Messenger's send failed). */
  unreachable: number;
  /** Requests that rejected after `timeoutMs` without a reply. */
  timeouts: number;
  /** Replies that arrived on another core than the asker's and were forwarded there. */
  forwardedReplies: number;
  /** Replies for no pending request (late, after a timeout) or for a core that does not exist. */
  strayReplies: number;
  /** Requests refused by an injected fault (`faults.offload.globalIdMap.fail`), never sent. */
  injectedFailures: number;
  /** Entries in the table (home only). */
  entries: number;
}

/**
 * One per node. On the home node it holds the table (a Map: one JS thread per node, so an
 * event is atomic, where EbbRT would take a lock); elsewhere it holds only counters. Every core
 * gets its own rep with its own request counter and pending requests.
 */
export class GlobalIdMapRoot implements EbbRoot<GlobalIdMapRep> {
  readonly isHome: boolean;
  /** The table, on the home node only. */
  readonly table: Map<EbbId, string> | undefined;
  private readonly counters = { localGets: 0, localSets: 0, remoteGets: 0, remoteSets: 0, unreachable: 0, timeouts: 0, forwardedReplies: 0, strayReplies: 0, injectedFailures: 0 };
  readonly server: ServerStats = newServerStats();
  private readonly reps: (GlobalIdMapRep | undefined)[];
  /** The node's injected faults of requests to the home (one seeded stream for all its cores). */
  readonly faults: OffloadFaults;

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    readonly options: GlobalIdMapOptions,
    faultSink?: FaultSink,
  ) {
    this.faults = new OffloadFaults('globalIdMap', node.id === options.home ? undefined : options.faults, faultSink);
    this.isHome = node.id === options.home;
    this.table = this.isHome ? new Map() : undefined;
    this.reps = new Array<GlobalIdMapRep | undefined>(node.numCores).fill(undefined);
  }

  handleFault(core: CoreInfo): GlobalIdMapRep {
    const rep = new GlobalIdMapRep(this, this.node.core(core.index));
    this.reps[core.index] = rep;
    return rep;
  }

  /** The rep of core `index`, if that core has used the Ebb. */
  repOn(index: number): GlobalIdMapRep | undefined {
    return this.reps[index];
  }

  count(name: keyof GlobalIdMapRoot['counters']): void {
    this.counters[name]++;
  }

  stats(): GlobalIdMapStats {
    return { ...this.counters, ...this.server, entries: this.table?.size ?? 0 };
  }
}

import { OffloadFaults, type NodeContext } from '@ebbrt/core-translation';
import type { CoreInfo, EbbId, EbbRoot, FaultSink } from '@ebbrt/interfaces';
import { asyncIo, syncIo } from './file-io.js';
import { LocalFiles } from './local-files.js';
import { MemoryIo } from './memory-io.js';
import type { FileSystemOptions } from './options.js';
import { FileSystemRep } from './rep.js';

/** Counters of one node's FileSystem (node-wide: a node's cores share one JS thread). */
export interface FileSystemStats {
  /** Calls served from this node's own files (home only), by this node or for others. */
  localCalls: number;
  /** Calls sent to the home, and the bytes of file data they carried each way. */
  remoteCalls: number;
  bytesSent: number;
  bytesReceived: number;
  /** Requests from other nodes answered (home only). */
  served: number;
  /** Requests that could not be parsed (dropped when they have no header, else answered with an error). */
  badRequests: number;
  replyFailures: number;
  unreachable: number;
  timeouts: number;
  forwardedReplies: number;
  strayReplies: number;
  /** Requests refused by an injected fault (`faults.offload.fileSystem.fail`), never sent. */
  injectedFailures: number;
}

/**
 * One per node. On the home (a hosted node) it holds the confined view of the root directory;
 * elsewhere only counters. Each core gets its own rep with its own pending requests.
 */
export class FileSystemRoot implements EbbRoot<FileSystemRep> {
  readonly isHome: boolean;
  readonly files: LocalFiles | undefined;
  readonly counters: FileSystemStats = {
    localCalls: 0,
    remoteCalls: 0,
    bytesSent: 0,
    bytesReceived: 0,
    served: 0,
    badRequests: 0,
    replyFailures: 0,
    unreachable: 0,
    timeouts: 0,
    forwardedReplies: 0,
    strayReplies: 0,
    injectedFailures: 0,
  };
  /** The node's injected faults of requests to the home (one seeded stream for all its cores). */
  readonly faults: OffloadFaults;
  private readonly reps: (FileSystemRep | undefined)[];

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    readonly options: FileSystemOptions,
    faultSink?: FaultSink,
  ) {
    this.faults = new OffloadFaults('fileSystem', node.id === options.home ? undefined : options.faults, faultSink);
    this.isHome = node.id === options.home && node.target === 'hosted';
    const root = options.root ?? process.cwd();
    this.files = this.isHome ? new LocalFiles(root, options.maxFileBytes, options.io === 'sync' ? syncIo : options.io === 'memory' ? new MemoryIo(root) : asyncIo) : undefined;
    this.reps = new Array<FileSystemRep | undefined>(node.numCores).fill(undefined);
  }

  handleFault(core: CoreInfo): FileSystemRep {
    const rep = new FileSystemRep(this, this.node.core(core.index));
    this.reps[core.index] = rep;
    return rep;
  }

  repOn(index: number): FileSystemRep | undefined {
    return this.reps[index];
  }

  stats(): FileSystemStats {
    return { ...this.counters };
  }
}

/**
 * The node-wide root of the SLQB allocator Ebb: owns the shared NodeMemory and
 * makes one SlqbAllocator rep per core on first use (MulticoreRoot).
 */
import { cpu, MulticoreRoot, type NodeContext } from '@ebbrt/core-translation';
import type { CoreInfo, EbbId, MemoryAllocatorRoot } from '@ebbrt/interfaces';
import type { Machine } from '@ebbrt/hw-x86sim';
import { SlqbAllocator } from './allocator-rep.js';
import { IOBufTracker, type LeakReport } from './iobuf-backing.js';
import { NodeMemory } from './node-memory.js';
import type { SlqbOptions } from './options.js';
import type { BuddySnapshot } from './buddy.js';
import { collectCacheStats, type SlqbAllocatorStats } from './stats.js';
import { PageKind } from './page-map.js';
import { PAGE_SIZE } from './size-classes.js';

export interface SlqbRootOptions extends SlqbOptions {
  /** Called when the GC collects an IOBuf that was never released. */
  onLeak?: (leak: LeakReport) => void;
}

export class SlqbRoot extends MulticoreRoot<SlqbAllocator> implements MemoryAllocatorRoot {
  private _mem: NodeMemory | undefined;
  private _iobufs: IOBufTracker | undefined;
  private readonly options: SlqbRootOptions;

  constructor(
    node: NodeContext,
    id: EbbId,
    readonly machine: Machine,
    options: SlqbRootOptions,
  ) {
    super(node, id, undefined, (core: CoreInfo) => new SlqbAllocator(this, core.index, machine.nodeOfCore(core.index)));
    if (machine.cores.length < node.numCores) {
      throw new RangeError(`node ${node.id} has ${node.numCores} cores but its machine has ${machine.cores.length}`);
    }
    this.options = options;
  }

  /**
   * The node-wide tables (page allocator, page map, slab descriptors, live bitmap): made on the
   * first allocation, not at boot. An idle node never pays for them: for 16 MiB they are ~500 KiB
   * of typed arrays (~190 KiB of it written at once), which made them most of an idle node's
   * boot time and memory.
   */
  get mem(): NodeMemory {
    return (this._mem ??= new NodeMemory(this.machine.memory, this.node.numCores, this.options.reserveBytes, this.options));
  }

  /** Whether the node-wide tables exist yet (they are made on first use; for tests and stats). */
  get tablesMade(): boolean {
    return this._mem !== undefined;
  }

  /** IOBuf bookkeeping, made with the first IOBuf. */
  get iobufs(): IOBufTracker {
    return (this._iobufs ??= new IOBufTracker(this.machine.memory, (addr) => this.freeFromCurrentCore(addr), this.options.onLeak));
  }

  /** The rep of core `index`, made (and cached in that core's translation table) if needed. */
  repFor(index: number): SlqbAllocator {
    const rep = this.repOn(index);
    if (rep !== undefined) return rep;
    const core = this.node.core(index);
    const made = this.handleFault(core);
    core.translation.set(this.id, made);
    return made;
  }

  /**
   * Returns every cached object to its slab and every empty slab to the page
   * allocator: first each core sends its pending remote batches, then each
   * core trims its lists. It reaches into every core's rep, so call it only
   * when no other core is mid-event (tests, shutdown, memory pressure
   * handling from a quiesced node).
   */
  drain(): void {
    for (const reps of this.mem.cacheReps) if (reps) for (const c of reps) c.sendAllPending();
    for (const reps of this.mem.cacheReps) if (reps) for (const c of reps) c.trim();
  }

  /** Free lists of every NUMA region's buddy allocator. */
  pageSnapshot(): BuddySnapshot[] {
    return this.mem.pages.snapshot();
  }

  liveIOBufs(): LeakReport[] {
    return this.iobufs.liveBuffers();
  }

  stats(): SlqbAllocatorStats {
    const mem = this.mem;
    let pageAllocationBytes = 0;
    const kind = mem.pageMap.kind;
    for (let p = 0; p < kind.length; p++) {
      if ((kind[p] === PageKind.Large || kind[p] === PageKind.Pages) && mem.pageMap.head[p] === p) {
        pageAllocationBytes += 2 ** mem.pageMap.order[p] * PAGE_SIZE;
      }
    }
    return {
      totalBytes: mem.pages.totalBytes,
      freePageBytes: mem.pages.freeBytes,
      caches: collectCacheStats(mem),
      freeBytesByNumaNode: mem.pages.buddies.map((b) => b.freeBytes),
      liveIOBufs: this.iobufs.liveCount,
      pageAllocationBytes,
    };
  }

  /** IOBuf release: free on the core that dropped the last reference; outside any event, on the owner. */
  private freeFromCurrentCore(addr: number): void {
    const cur = cpu.current;
    if (cur !== undefined && cur.node === this.node) {
      this.repFor(cur.index).free(addr);
      return;
    }
    const page = Math.floor(addr / PAGE_SIZE);
    const owner = this.mem.pageMap.kind[page] === PageKind.Slab ? this.mem.slabs.owner[this.mem.pageMap.head[page]] : 0;
    this.repFor(owner).free(addr);
  }
}

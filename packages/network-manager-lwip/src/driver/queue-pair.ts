// One virtio-net queue pair (RX 2k, TX 2k+1) owned by one core. Everything here runs on that
// core: the rings and buffers come from that core's MemoryAllocator rep, and only that core's
// events touch them (EbbRT's per-core, lock-free driver state).
//
// Split-ring layout (virtio 1.x §2.7), all little-endian in guest physical memory:
//   desc  16 × size  { addr u64, len u32, flags u16, next u16 }
//   avail            { flags u16, idx u16, ring[size] u16, used_event u16 }
//   used             { flags u16, idx u16, ring[size] { id u32, len u32 }, avail_event u16 }

import type { IOBuf, MemoryAllocator } from '@ebbrt/interfaces';
import {
  VIRTIO_NET_HDR_BYTES,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F,
  VIRTQ_USED_F_NO_NOTIFY,
  virtqueueLayout,
  type PhysicalMemory,
  type VirtioNetDevice,
} from '@ebbrt/hw-x86sim';

/** Driver counters of one queue pair. */
export interface QueuePairStats {
  rxFrames: number;
  /** Used RX entries too short to hold a virtio header and an Ethernet header (device errors, len 0). */
  rxRunts: number;
  /** A fresh RX buffer could not be allocated: the old one was reposted and the frame dropped. */
  rxNoMemory: number;
  txFrames: number;
  /** Frames waiting in the software backlog because the TX ring was full. */
  txBacklogged: number;
  /** Frames dropped because the backlog was full. */
  txDroppedBacklogFull: number;
  /** JS-heap IOBuf elements copied into physical memory before transmit. */
  txCopiedElements: number;
  /** Doorbells rung / skipped because the device said NO_NOTIFY. */
  txNotifies: number;
  txNotifiesSkipped: number;
  /** RX doorbells rung after posting buffers while the device held frames for want of them. */
  rxNotifies: number;
  /** Interrupt-handler runs, idle-callback polls, and polls that found work. */
  interrupts: number;
  polls: number;
  pollsWithWork: number;
  /** Mode switches. */
  toPolling: number;
  toInterrupts: number;
  /** Re-enable → re-check found used entries, so polling went on (no interrupt lost). */
  recheckFoundWork: number;
  /** Watchdog ticks (`interruptWatchdogUs`) that found used entries no interrupt announced. */
  watchdogRecoveries: number;
  /** Times this pair's rings were set up again after a device reset (`restart`). */
  resets: number;
  /** TX chains in flight when the device was reset: released unsent or uncompleted (TCP retransmits). */
  txDroppedReset: number;
}

/** A ring region: one allocation holding desc, avail and used for one virtqueue. */
interface Ring {
  size: number;
  base: number;
  order: number;
  desc: number;
  avail: number;
  used: number;
  /** Driver's shadow of avail.idx. */
  availIdx: number;
  /** Next used index the driver has not consumed. */
  lastUsed: number;
}

function allocRing(mem: PhysicalMemory, alloc: MemoryAllocator, size: number, numaNode: number | undefined): Ring {
  const lay = virtqueueLayout(size);
  const availOff = lay.descBytes;
  const usedOff = (availOff + lay.availBytes + 3) & ~3;
  const total = usedOff + lay.usedBytes;
  let order = 0;
  while (4096 << order < total) order++;
  const base = alloc.allocPages(order, numaNode);
  mem.bytes.fill(0, base, base + (4096 << order)); // recycled pages may be dirty
  return { size, base, order, desc: base, avail: base + availOff, used: base + usedOff, availIdx: 0, lastUsed: 0 };
}

/** Frames the driver hands up: ownership of `frame` passes to the callee. */
export type FrameSink = (frame: IOBuf) => void;

interface TxPending {
  /** Chain head element (the virtio header buffer); released as a whole chain. */
  chain: IOBuf;
  /** Descriptor segments (physical address, length). */
  segs: number[];
}

export interface QueuePairConfig {
  rxRingSize: number;
  txRingSize: number;
  rxBufferSize: number;
  txBacklogLimit: number;
}

/**
 * The per-core half of the virtio-net driver: RX buffer posting, zero-copy receive, copy-free
 * transmit of IOBuf chains, TX reclaim, and the avail-ring interrupt-suppression flag used by
 * the interrupt/polling switch (see `CoreNetDriver`).
 */
export class QueuePair {
  readonly stats: QueuePairStats = {
    rxFrames: 0,
    rxRunts: 0,
    rxNoMemory: 0,
    txFrames: 0,
    txBacklogged: 0,
    txDroppedBacklogFull: 0,
    txCopiedElements: 0,
    txNotifies: 0,
    txNotifiesSkipped: 0,
    rxNotifies: 0,
    interrupts: 0,
    polls: 0,
    pollsWithWork: 0,
    toPolling: 0,
    toInterrupts: 0,
    recheckFoundWork: 0,
    watchdogRecoveries: 0,
    resets: 0,
    txDroppedReset: 0,
  };
  readonly rx: Ring;
  readonly tx: Ring;
  /** RX descriptor i always owns slot i: the buffer posted there. */
  private readonly rxBufs: (IOBuf | undefined)[];
  /** TX: head descriptor → pending chain; free descriptor stack. */
  private readonly txInFlight: (IOBuf | undefined)[];
  private readonly txChainLen: Int32Array;
  private readonly txFree: Int32Array;
  private txFreeCount: number;
  /** Posted slots hold undefined (let go at once) until the backlog empties and resets. */
  private readonly backlog: (TxPending | undefined)[] = [];
  private backlogHead = 0;
  /** For tests: the last RX descriptor consumed and its buffer's physical address. */
  lastRxDesc = -1;
  lastRxBufferAddr = -1;

  constructor(
    readonly index: number,
    private readonly device: VirtioNetDevice,
    private readonly mem: PhysicalMemory,
    private readonly alloc: MemoryAllocator,
    private readonly config: QueuePairConfig,
    private readonly vector: number,
    private readonly core: number,
    numaNode: number | undefined,
  ) {
    this.rx = allocRing(mem, alloc, config.rxRingSize, numaNode);
    this.tx = allocRing(mem, alloc, config.txRingSize, numaNode);
    this.setupQueues();
    this.rxBufs = new Array<IOBuf | undefined>(this.rx.size).fill(undefined);
    for (let i = 0; i < this.rx.size; i++) this.postRx(i, alloc.allocIOBuf(config.rxBufferSize));
    this.txInFlight = new Array<IOBuf | undefined>(this.tx.size).fill(undefined);
    this.txChainLen = new Int32Array(this.tx.size);
    this.txFree = new Int32Array(this.tx.size);
    this.txFreeCount = 0;
    this.resetTxFree();
  }

  private setupQueues(): void {
    const { rx, tx, vector, core } = this;
    this.device.setupQueue(2 * this.index, { size: rx.size, descAddr: rx.desc, availAddr: rx.avail, usedAddr: rx.used, msixVector: vector, core });
    this.device.setupQueue(2 * this.index + 1, { size: tx.size, descAddr: tx.desc, availAddr: tx.avail, usedAddr: tx.used, msixVector: vector, core });
  }

  private resetTxFree(): void {
    for (let i = 0; i < this.tx.size; i++) this.txFree[i] = this.tx.size - 1 - i;
    this.txFreeCount = this.tx.size;
  }

  // ------------------------------------------------------------------ device reset

  /**
   * Sets the pair up again after the driver reset the device (recovery from DEVICE_NEEDS_RESET,
   * virtio 1.x §2.1.2 and §3.1.1); runs on this pair's core, between FEATURES_OK and DRIVER_OK.
   * A device that needs a reset has stopped using its queues, so the rings are the driver's again:
   * - what the device finished before it failed is still taken: received frames are handed to
   *   `sink` (after the rings are up again, so an answer they provoke goes to the new ring) and
   *   completed TX chains are freed;
   * - TX chains still in flight were never sent or never completed: they are released and counted
   *   (`txDroppedReset`; TCP retransmits what they carried);
   * - both rings are zeroed in place and given to the device again, and every RX slot's buffer is
   *   posted again; interrupt suppression is restored for the core's mode.
   * The backlog is kept: `resume` (after DRIVER_OK) posts it and rings the doorbell.
   */
  restart(sink: FrameSink, interruptsEnabled: boolean): void {
    const received: IOBuf[] = [];
    this.receive(Number.POSITIVE_INFINITY, (frame) => received.push(frame));
    this.reclaimUsedTx();
    for (let head = 0; head < this.tx.size; head++) {
      const chain = this.txInFlight[head];
      if (chain === undefined) continue;
      this.txInFlight[head] = undefined;
      this.stats.txDroppedReset++;
      chain.releaseChain();
    }
    this.resetTxFree();
    for (const ring of [this.rx, this.tx]) {
      this.mem.bytes.fill(0, ring.base, ring.base + (4096 << ring.order));
      ring.availIdx = 0;
      ring.lastUsed = 0;
    }
    this.setupQueues();
    for (let i = 0; i < this.rx.size; i++) this.postRx(i, this.rxBufs[i] ?? this.alloc.allocIOBuf(this.config.rxBufferSize));
    this.setInterruptsEnabled(interruptsEnabled);
    this.stats.resets++;
    for (const frame of received) sink(frame);
  }

  /** After a restart, once the device is DRIVER_OK again: posts the backlog and rings the doorbell for what waits. */
  resume(): void {
    this.flushBacklog();
    if (this.tx.availIdx !== 0) this.kick();
  }

  // ------------------------------------------------------------------ descriptors

  private writeDesc(ring: Ring, i: number, addr: number, len: number, flags: number, next: number): void {
    const dv = this.mem.dataView;
    const d = ring.desc + 16 * i;
    // The u64 address as two u32 halves: no BigInt allocated per descriptor on the frame path.
    dv.setUint32(d, addr % 4294967296, true);
    dv.setUint32(d + 4, Math.floor(addr / 4294967296), true);
    dv.setUint32(d + 8, len, true);
    dv.setUint16(d + 12, flags, true);
    dv.setUint16(d + 14, next, true);
  }

  private publish(ring: Ring, head: number): void {
    const dv = this.mem.dataView;
    dv.setUint16(ring.avail + 4 + 2 * (ring.availIdx % ring.size), head, true);
    ring.availIdx = (ring.availIdx + 1) & 0xffff;
    dv.setUint16(ring.avail + 2, ring.availIdx, true); // entry before idx
  }

  private postRx(slot: number, buf: IOBuf): void {
    this.rxBufs[slot] = buf;
    this.writeDesc(this.rx, slot, buf.physAddr(), buf.length, VIRTQ_DESC_F.WRITE, 0);
    this.publish(this.rx, slot);
  }

  // ------------------------------------------------------------------ interrupt suppression

  /** Sets or clears avail.flags NO_INTERRUPT on both rings of the pair. */
  setInterruptsEnabled(on: boolean): void {
    const f = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    this.mem.dataView.setUint16(this.rx.avail, f, true);
    this.mem.dataView.setUint16(this.tx.avail, f, true);
  }

  /** True when the device returned used entries the driver has not consumed (RX or TX). */
  hasUsed(): boolean {
    const dv = this.mem.dataView;
    return dv.getUint16(this.rx.used + 2, true) !== this.rx.lastUsed || dv.getUint16(this.tx.used + 2, true) !== this.tx.lastUsed;
  }

  // ------------------------------------------------------------------ receive

  /**
   * Takes up to `budget` received frames off the used ring. Each goes to `sink` as a view of the
   * driver's buffer (header skipped, trimmed to the used length; zero copy) and a fresh buffer is
   * posted in its slot. Returns the number of used entries consumed.
   */
  receive(budget: number, sink: FrameSink): number {
    const dv = this.mem.dataView;
    const ring = this.rx;
    let n = 0;
    while (n < budget) {
      const usedIdx = dv.getUint16(ring.used + 2, true);
      if (usedIdx === ring.lastUsed) break;
      const e = ring.used + 4 + 8 * (ring.lastUsed % ring.size);
      const id = dv.getUint32(e, true);
      const len = dv.getUint32(e + 4, true);
      ring.lastUsed = (ring.lastUsed + 1) & 0xffff;
      n++;
      const buf = id < ring.size ? this.rxBufs[id] : undefined;
      if (buf === undefined) {
        this.stats.rxRunts++; // a device bug; nothing to repost
        continue;
      }
      if (len < VIRTIO_NET_HDR_BYTES + 14 || len > buf.length) {
        this.stats.rxRunts++;
        this.publishAgain(id, buf);
        continue;
      }
      let fresh: IOBuf;
      try {
        fresh = this.alloc.allocIOBuf(this.config.rxBufferSize);
      } catch {
        this.stats.rxNoMemory++;
        this.publishAgain(id, buf);
        continue;
      }
      this.lastRxDesc = id;
      this.lastRxBufferAddr = buf.physAddr();
      this.postRx(id, fresh);
      buf.trimEnd(buf.length - len).advance(VIRTIO_NET_HDR_BYTES);
      this.stats.rxFrames++;
      sink(buf);
    }
    // The device holds frames for want of buffers (it cleared NO_NOTIFY): tell it some are posted.
    if (n > 0 && (dv.getUint16(ring.used, true) & VIRTQ_USED_F_NO_NOTIFY) === 0) {
      this.stats.rxNotifies++;
      this.device.notify(2 * this.index);
    }
    return n;
  }

  private publishAgain(slot: number, buf: IOBuf): void {
    this.writeDesc(this.rx, slot, buf.physAddr(), buf.length, VIRTQ_DESC_F.WRITE, 0);
    this.publish(this.rx, slot);
  }

  // ------------------------------------------------------------------ transmit

  /**
   * Sends an IOBuf chain whose head element starts with 12 bytes reserved for the virtio-net
   * header (zeroed here). Ownership passes to the driver; the chain is released once the device
   * returns it. JS-heap elements (physAddr -1) are copied into physical memory; the rest go out
   * as descriptors pointing at the buffers themselves. Never throws for a full ring: the frame
   * waits in a bounded backlog, or is dropped and counted.
   */
  transmit(chain: IOBuf): void {
    chain.bytes.fill(0, chain.offset, chain.offset + VIRTIO_NET_HDR_BYTES);
    // Pass 1: copy JS-heap elements into physical memory, count descriptors.
    let nDesc = 0;
    let e: IOBuf = chain;
    do {
      const next = e.next;
      if (e.length > 0) {
        if (e.physAddr() < 0) {
          const copy = this.alloc.allocIOBuf(e.length);
          copy.bytes.set(e.bytes.subarray(e.offset, e.offset + e.length), copy.offset);
          this.stats.txCopiedElements++;
          // Replace e by its copy in the chain (e is not the head: the head is always physical).
          // appendChain on e splices `copy` in just before e, i.e. at e's place.
          e.appendChain(copy);
          e.release();
        }
        nDesc++;
      }
      e = next;
    } while (e !== chain);
    this.reclaimTx();
    // Fast path (ring has room, nothing waiting): descriptors straight from the chain, without
    // the segment array and pending record the backlog needs (this runs once per frame).
    if (this.backlog.length === this.backlogHead && nDesc <= this.txFreeCount) {
      this.postChain(chain, nDesc);
      this.kick();
      return;
    }
    const segs: number[] = [];
    e = chain;
    do {
      if (e.length > 0) segs.push(e.physAddr(), e.length);
      e = e.next;
    } while (e !== chain);
    const item: TxPending = { chain, segs };
    if (this.backlog.length - this.backlogHead > 0 || !this.tryPost(item)) {
      if (this.backlog.length - this.backlogHead >= this.config.txBacklogLimit) {
        this.stats.txDroppedBacklogFull++;
        chain.releaseChain();
        return;
      }
      this.stats.txBacklogged++;
      this.backlog.push(item);
      return;
    }
    this.kick();
  }

  /**
   * Posts `chain` (nDesc non-empty elements, all physical, nDesc <= txFreeCount) with the same
   * descriptor assignment as `tryPost`: segment k takes txFree[base + k].
   */
  private postChain(chain: IOBuf, nDesc: number): void {
    const base = this.txFreeCount - nDesc;
    const free = this.txFree;
    let k = 0;
    let e: IOBuf = chain;
    do {
      if (e.length > 0) {
        const last = k === nDesc - 1;
        this.writeDesc(this.tx, free[base + k]!, e.physAddr(), e.length, last ? 0 : VIRTQ_DESC_F.NEXT, last ? 0 : free[base + k + 1]!);
        k++;
      }
      e = e.next;
    } while (e !== chain);
    const head = free[base]!;
    this.txFreeCount = base;
    this.txInFlight[head] = chain;
    this.txChainLen[head] = nDesc;
    this.publish(this.tx, head);
    this.stats.txFrames++;
  }

  private tryPost(item: TxPending): boolean {
    const nDesc = item.segs.length / 2;
    if (nDesc > this.txFreeCount) return false;
    let next = 0;
    let head = 0;
    for (let k = nDesc - 1; k >= 0; k--) {
      const d = this.txFree[--this.txFreeCount];
      this.writeDesc(this.tx, d, item.segs[2 * k], item.segs[2 * k + 1], k === nDesc - 1 ? 0 : VIRTQ_DESC_F.NEXT, next);
      next = d;
      head = d;
    }
    this.txInFlight[head] = item.chain;
    this.txChainLen[head] = nDesc;
    this.publish(this.tx, head);
    this.stats.txFrames++;
    return true;
  }

  private kick(): void {
    if ((this.mem.dataView.getUint16(this.tx.used, true) & VIRTQ_USED_F_NO_NOTIFY) !== 0) {
      this.stats.txNotifiesSkipped++;
      return;
    }
    this.stats.txNotifies++;
    this.device.notify(2 * this.index + 1);
  }

  /** Frees descriptors the device is done with, releases their chains, and flushes the backlog. */
  reclaimTx(): number {
    const n = this.reclaimUsedTx();
    this.flushBacklog();
    return n;
  }

  /** Frees the descriptors of the TX chains the device returned, and releases the chains. */
  private reclaimUsedTx(): number {
    const dv = this.mem.dataView;
    const ring = this.tx;
    let n = 0;
    for (;;) {
      const usedIdx = dv.getUint16(ring.used + 2, true);
      if (usedIdx === ring.lastUsed) break;
      const e = ring.used + 4 + 8 * (ring.lastUsed % ring.size);
      const head = dv.getUint32(e, true);
      ring.lastUsed = (ring.lastUsed + 1) & 0xffff;
      n++;
      const chain = head < ring.size ? this.txInFlight[head] : undefined;
      if (chain === undefined) continue;
      this.txInFlight[head] = undefined;
      let d = head;
      for (let k = this.txChainLen[head]; k > 0; k--) {
        this.txFree[this.txFreeCount++] = d;
        d = dv.getUint16(ring.desc + 16 * d + 14, true);
      }
      chain.releaseChain();
    }
    return n;
  }

  /** Posts what waits in the backlog while descriptors are free, and rings the doorbell if it posted. */
  private flushBacklog(): void {
    if (this.backlog.length > this.backlogHead) {
      let posted = false;
      while (this.backlogHead < this.backlog.length && this.tryPost(this.backlog[this.backlogHead]!)) {
        this.backlog[this.backlogHead++] = undefined;
        posted = true;
      }
      if (this.backlogHead === this.backlog.length) {
        this.backlog.length = 0;
        this.backlogHead = 0;
      }
      if (posted) this.kick();
    }
  }

  /** Frames waiting for TX descriptors. */
  get backlogLength(): number {
    return this.backlog.length - this.backlogHead;
  }
}

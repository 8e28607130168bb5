/**
 * The virtio-net 1.x device: feature negotiation, the status register, and the data path between
 * the wire and the guest's queues (RX DMA into posted buffers, TX drains out of guest memory). The
 * rings themselves are in virtqueue.ts, the copies into and out of their chains in
 * virtio-net-dma.ts, the RX queue choice in rss.ts, the spec's constants in virtio-net-spec.ts,
 * the faults in virtio-faults.ts.
 */
import type { Machine, MachineDevice } from '../machine.js';
import type { Prng } from '../prng.js';
import type { Simulation } from '../simulation.js';
import { ETH_HEADER_BYTES, formatMac, nicMac, type FramePort, type NetworkEndpoint } from './frame.js';
import { FrameSlab } from './frame-slab.js';
import { rssHash } from './rss.js';
import { FaultDraws, validateVirtioNetFaults, type VirtioNetFaults } from './virtio-faults.js';
import { VIRTIO_NET_F, VIRTIO_NET_HDR_BYTES, VIRTIO_NET_MAX_FRAME, VIRTIO_NET_S_LINK_UP, VIRTIO_STATUS, featureBit, newVirtioNetStats, type VirtioNetStats } from './virtio-net-spec.js';
import { readTxFrame, writeRxFrame } from './virtio-net-dma.js';
import { Chain, VIRTQ_USED_F_NO_NOTIFY, Virtqueue, checkVirtqueueConfig, type VirtqueueConfig, type VirtqueueState } from './virtqueue.js';

/** Largest chain the device walks (header + largest frame + slack). */
const MAX_CHAIN_BYTES = VIRTIO_NET_HDR_BYTES + VIRTIO_NET_MAX_FRAME + 65536;

export interface VirtioNetOptions {
  /** 'aa:bb:cc:dd:ee:ff'. Default 52:54:00:xx:yy:zz from the machine id (give one for a second NIC on a machine). */
  mac?: string;
  /** Queue pairs (RX 2k, TX 2k+1). Default machine.cores.length. */
  queuePairs?: number;
  /** Hardware faults drawn from the seeded PRNG (see virtio-faults.ts); none by default. */
  faults?: VirtioNetFaults;
  /**
   * Frames each RX queue holds while the driver has no buffer posted: the host side's queue (a
   * real backend stops reading its tap device when the ring is empty, and the kernel queues up to
   * txqueuelen frames meanwhile). They are delivered, in order, once the driver posts buffers and
   * rings the RX doorbell (which the device asks for through used.flags while it holds frames).
   * Beyond this bound frames are dropped (`rxDroppedNoBuffer`). Default 500, Linux's tap queue
   * (TUN_READQ_SIZE); 0 drops at once, as a NIC without a host queue would.
   */
  rxBacklogFrames?: number;
}

/** The host's queue in front of an empty RX ring: Linux's tun/tap TUN_READQ_SIZE. */
const DEFAULT_RX_BACKLOG_FRAMES = 500;

/** Size of the slabs transmitted frames are carved from; larger frames get their own array. */
const TX_SLAB_BYTES = 256 * 1024;
const TX_SLAB_MAX_FRAME = 16 * 1024;

/**
 * A virtio-net 1.x device with split virtqueues living in the machine's guest physical memory.
 *
 * Hardware behaviour only: it reads and writes guest memory, raises APIC vectors and hands frames
 * to whatever it is attached to. A bad ring from a buggy driver is counted, never thrown out of the
 * simulation. See the package README ("Networking") for the driver's side of the contract.
 */
export class VirtioNetDevice implements NetworkEndpoint, MachineDevice {
  static readonly KIND = 'virtio-net';
  readonly kind = VirtioNetDevice.KIND;
  readonly machine: Machine;
  readonly mac: Uint8Array;
  readonly queuePairs: number;
  /** Features the device offers. */
  readonly offeredFeatures: bigint;
  readonly stats: VirtioNetStats = newVirtioNetStats();
  private readonly sim: Simulation;
  private _status = 0;
  private _driverFeatures = 0n;
  private _linkUp = true;
  private tx: FramePort | null = null;
  private queues: Array<Virtqueue | undefined> = [];
  /** MQ negotiated with more than one pair (checked per frame: no BigInt test there). */
  private rss = false;
  private readonly chain = new Chain();
  /** Transmitted frames: 8-byte aligned views (cheap, and friendlier to anyone making a wider view). */
  private readonly txSlab = new FrameSlab(TX_SLAB_BYTES, TX_SLAB_MAX_FRAME, 8);
  /** Fault draws; null (no PRNG stream, no draws) while no fault is configured. */
  private faultDraws: FaultDraws | null = null;
  private faultPrng: Prng | undefined;
  /** Frames an RX queue may hold while its ring is empty (VirtioNetOptions.rxBacklogFrames). */
  readonly rxBacklogFrames: number;
  /** The configuration-change interrupt (virtio's config_msix_vector): vector and core, once the driver set it. */
  private configVector: { vector: number; core: number } | undefined;

  constructor(sim: Simulation, machine: Machine, options: VirtioNetOptions = {}) {
    if (!sim.machines.includes(machine)) throw new Error(`machine '${machine.name}' does not belong to this simulation`);
    this.sim = sim;
    this.machine = machine;
    const pairs = options.queuePairs ?? machine.cores.length;
    if (!Number.isInteger(pairs) || pairs < 1 || pairs > 0x8000) {
      throw new RangeError(`virtio-net queuePairs must be an integer in 1..32768, got ${String(pairs)}`);
    }
    this.queuePairs = pairs;
    const backlog = options.rxBacklogFrames ?? DEFAULT_RX_BACKLOG_FRAMES;
    if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`virtio-net rxBacklogFrames must be an integer >= 0, got ${String(backlog)}`);
    this.rxBacklogFrames = backlog;
    this.mac = nicMac('virtio-net', machine.id, options.mac);
    let f = featureBit(VIRTIO_NET_F.CSUM) | featureBit(VIRTIO_NET_F.MAC) | featureBit(VIRTIO_NET_F.STATUS);
    f |= featureBit(VIRTIO_NET_F.VERSION_1);
    if (pairs > 1) f |= featureBit(VIRTIO_NET_F.MQ);
    this.offeredFeatures = f;
    if (options.faults !== undefined) this.setFaults(options.faults);
  }

  /**
   * Replaces the device's faults (any time, e.g. once the driver is up). Throws a RangeError naming
   * the bad field. `{}` turns them off. The PRNG stream (`virtio-net:<mac>`) is forked once, on the
   * first call, so changing faults later continues the same stream.
   */
  setFaults(faults: VirtioNetFaults): void {
    const valid = validateVirtioNetFaults(faults);
    const prng = this.faultPrng ?? this.sim.prng.fork(`virtio-net:${formatMac(this.mac)}`);
    this.faultPrng = prng;
    this.faultDraws = Object.keys(valid).length === 0 ? null : new FaultDraws(prng, valid);
  }

  /** The faults in force. */
  get faults(): VirtioNetFaults {
    return this.faultDraws === null ? {} : structuredClone(this.faultDraws.faults);
  }

  /** The MAC as 'aa:bb:cc:dd:ee:ff'. */
  get macString(): string {
    return formatMac(this.mac);
  }

  // ---------------------------------------------------------------- link side

  /** Connect the transmit side (a link end, a switch port). */
  attach(tx: FramePort | null): void {
    this.tx = tx;
  }

  /** Carrier state reported in `config.status`. */
  setLinkUp(up: boolean): void {
    this._linkUp = up;
  }

  /**
   * A frame arriving from the wire (a hardware event: called from a link delivery or a posted
   * callback). Picks the RX queue (`rssQueueFor`), DMA-writes header + frame into the next posted
   * buffer chain, returns it on the used ring and interrupts unless suppressed.
   */
  receive(frame: Uint8Array): void {
    if (!this.driverOk || !this._linkUp || frame.length < ETH_HEADER_BYTES || frame.length > VIRTIO_NET_MAX_FRAME) {
      this.stats.rxDroppedNotReady++;
      return;
    }
    const q = this.queues[2 * this.rssQueueFor(frame)];
    if (q === undefined || q.broken) {
      this.stats.rxDroppedNotReady++;
      return;
    }
    // Frames already waiting go first (in order); an empty ring makes this one wait too.
    if (q.rxBacklog.length > 0) {
      this.holdRx(q, frame);
      return;
    }
    const pending = this.pendingAvail(q);
    if (pending < 0) return;
    if (pending === 0) {
      this.holdRx(q, frame);
      return;
    }
    this.deliverRx(q, frame);
  }

  /** The RX ring is empty: keep the frame in the queue's backlog if there is room, else drop it. */
  private holdRx(q: Virtqueue, frame: Uint8Array): void {
    if (q.rxBacklog.length >= this.rxBacklogFrames) {
      this.stats.rxDroppedNoBuffer++;
      return;
    }
    // Ask for the RX doorbell: the driver rings it after posting buffers while flags are clear.
    if (q.rxQuiet) {
      q.rxQuiet = false;
      q.writeUsedFlags(0);
    }
    q.rxBacklog.push(frame);
    this.stats.rxBacklogged++;
  }

  /** The driver posted RX buffers (its doorbell, posted as a hardware event): deliver what waits. */
  private drainRx(q: Virtqueue): void {
    q.drainPending = false;
    if (this.queues[q.index] !== q || !this.driverOk) return;
    const b = q.rxBacklog;
    let i = 0;
    while (i < b.length) {
      const pending = this.pendingAvail(q);
      if (pending <= 0) break;
      this.deliverRx(q, b[i++]!);
      if (this.queues[q.index] !== q) return; // a device-reset fault dropped the queue (and its backlog)
    }
    if (i > 0) b.splice(0, i);
  }

  /** DMA-writes one frame into the next posted buffer chain of RX queue `q` (there is one). */
  private deliverRx(q: Virtqueue, frame: Uint8Array): void {
    const mem = this.machine.memory;
    if (!q.rxQuiet && q.rxBacklog.length === 0) {
      // Nothing waits: no RX doorbells wanted (VIRTQ_USED_F_NO_NOTIFY on the RX used ring).
      q.rxQuiet = true;
      q.writeUsedFlags(VIRTQ_USED_F_NO_NOTIFY);
    }
    if (this.faultDraws !== null && this.faultDraws.deviceReset()) {
      this.needsReset(q, 'rx');
      this.stats.rxDroppedNotReady++;
      return;
    }
    if (this.faultDraws !== null && this.faultDraws.rxNoBuffer()) {
      this.stats.rxDroppedNoBuffer++;
      this.stats.faultRxNoBuffer++;
      this.traceFault(q, 'virtio-net.rx-no-buffer');
      return;
    }
    const head = q.nextAvail();
    const chain = q.walk(head, true, this.chain, MAX_CHAIN_BYTES);
    const need = VIRTIO_NET_HDR_BYTES + frame.length;
    if (chain === null || chain.total < need) {
      this.stats.rxErrors++;
      q.pushUsed(head, 0);
      this.interrupt(q);
      return;
    }
    writeRxFrame(mem.bytes, chain, frame);
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    q.pushUsed(head, need);
    this.interrupt(q);
  }

  /**
   * Queue-pair index an incoming frame goes to: with MQ negotiated and several pairs, a
   * deterministic hash (FNV-1a) of IPv4 src, dst, protocol and ports for unfragmented TCP/UDP;
   * otherwise 0. RX virtqueue = 2 * result.
   */
  rssQueueFor(frame: Uint8Array): number {
    if (!this.rss) return 0;
    return rssHash(frame) % this.queuePairs;
  }

  // ---------------------------------------------------------------- driver side

  get status(): number {
    return this._status;
  }

  /**
   * Write the status register. 0 resets the device (features, queues forgotten). Setting
   * FEATURES_OK is refused (the bit does not stick) unless VERSION_1 was negotiated; re-read it.
   */
  setStatus(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`virtio status must be a byte, got ${value}`);
    if (value === 0) {
      this.reset();
      return;
    }
    let v = value;
    if ((v & VIRTIO_STATUS.FEATURES_OK) !== 0 && (this._status & VIRTIO_STATUS.FEATURES_OK) === 0) {
      if ((this._driverFeatures & featureBit(VIRTIO_NET_F.VERSION_1)) === 0n) v &= ~VIRTIO_STATUS.FEATURES_OK;
    }
    this._status = v | (this._status & VIRTIO_STATUS.DEVICE_NEEDS_RESET);
  }

  /**
   * Write the driver's features (after ACKNOWLEDGE|DRIVER, before FEATURES_OK). Returns the
   * accepted set = offered & driver. Throws if called in the wrong state (a driver bug).
   */
  negotiate(driverFeatures: bigint): bigint {
    const s = this._status;
    if ((s & VIRTIO_STATUS.DRIVER) === 0 || (s & VIRTIO_STATUS.FEATURES_OK) !== 0) {
      throw new Error('virtio-net: negotiate() must follow ACKNOWLEDGE|DRIVER and precede FEATURES_OK');
    }
    this._driverFeatures = this.offeredFeatures & driverFeatures;
    this.rss = this.queuePairs > 1 && (this._driverFeatures & featureBit(VIRTIO_NET_F.MQ)) !== 0n;
    return this._driverFeatures;
  }

  /** Accepted features (offered & driver). */
  get negotiatedFeatures(): bigint {
    return this._driverFeatures;
  }

  hasFeature(bit: number): boolean {
    return (this._driverFeatures & featureBit(bit)) !== 0n;
  }

  /** Device config space: mac, status (LINK_UP), max_virtqueue_pairs. */
  get config(): { mac: Uint8Array; status: number; maxVirtqueuePairs: number } {
    return { mac: this.mac.slice(), status: this._linkUp ? VIRTIO_NET_S_LINK_UP : 0, maxVirtqueuePairs: this.queuePairs };
  }

  /** Number of virtqueues (2 * queuePairs; no control queue is modelled). */
  get queueCount(): number {
    return 2 * this.queuePairs;
  }

  /**
   * Configure virtqueue `index` (RX of pair k = 2k, TX = 2k+1). Allowed after FEATURES_OK and
   * before DRIVER_OK. Validates size, alignment and that the rings lie inside guest memory.
   */
  setupQueue(index: number, cfg: VirtqueueConfig): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.queueCount) {
      throw new RangeError(`virtio-net queue index must be in 0..${this.queueCount - 1}, got ${index}`);
    }
    if ((this._status & VIRTIO_STATUS.FEATURES_OK) === 0 || this.driverOk) {
      throw new Error('virtio-net: setupQueue() must come after FEATURES_OK and before DRIVER_OK');
    }
    checkVirtqueueConfig(cfg, this.machine.memory.size);
    const pair = index >> 1;
    const core = cfg.core ?? pair % this.machine.cores.length;
    if (!Number.isInteger(core) || core < 0 || core >= this.machine.cores.length) {
      throw new RangeError(`queue ${index}: core ${core} does not exist on machine '${this.machine.name}'`);
    }
    const q = new Virtqueue(this.machine.memory, index, cfg.size, cfg.descAddr, cfg.availAddr, cfg.usedAddr, cfg.msixVector, core);
    q.drain = (index & 1) === 0 ? () => this.drainRx(q) : () => this.drainTx(q);
    this.queues[index] = q;
  }

  /** State of a configured queue, or undefined. */
  queue(index: number): VirtqueueState | undefined {
    return this.queues[index];
  }

  /**
   * The driver's doorbell for queue `index`. A TX queue is drained as a hardware event (posted:
   * it runs before the next core slice), and used.flags NO_NOTIFY is set until then, so the
   * driver may skip further doorbells for buffers it adds meanwhile. RX doorbells only count
   * (the device looks at the RX ring whenever a frame arrives).
   */
  notify(index: number): void {
    this.stats.notifications++;
    const q = this.queues[index];
    if (q === undefined || !this.driverOk || q.drainPending || q.broken) return;
    if ((index & 1) === 0) {
      // RX: only frames held for want of buffers make a doorbell matter.
      if (q.rxBacklog.length === 0) return;
      q.drainPending = true;
      this.sim.post(q.drain);
      return;
    }
    q.drainPending = true;
    q.writeUsedFlags(VIRTQ_USED_F_NO_NOTIFY);
    this.sim.post(q.drain);
  }

  // ---------------------------------------------------------------- internals

  private get driverOk(): boolean {
    return (this._status & VIRTIO_STATUS.DRIVER_OK) !== 0 && (this._status & VIRTIO_STATUS.FAILED) === 0;
  }

  /**
   * Where the device raises its configuration-change interrupt (virtio's config_msix_vector), the
   * notification that DEVICE_NEEDS_RESET is set (virtio 1.x §2.1.2). Like the queues, it is
   * forgotten on a reset: a driver sets it during each initialisation. `undefined` turns it off.
   */
  setConfigInterrupt(target: { vector: number; core: number } | undefined): void {
    if (target !== undefined) {
      if (!Number.isInteger(target.vector) || target.vector < 0 || target.vector > 255) throw new RangeError(`config vector must be an integer in 0..255, got ${target.vector}`);
      if (!Number.isInteger(target.core) || target.core < 0 || target.core >= this.machine.cores.length) {
        throw new RangeError(`config interrupt core ${target.core} does not exist on machine '${this.machine.name}'`);
      }
    }
    this.configVector = target;
  }

  /** The configuration interrupt the driver set, if any. */
  get configInterrupt(): { vector: number; core: number } | undefined {
    return this.configVector === undefined ? undefined : { ...this.configVector };
  }

  /**
   * The device failed (the deviceReset fault, only while DRIVER_OK): DEVICE_NEEDS_RESET is set,
   * its queues are dropped (nothing more is used, sent or interrupted until the driver resets it
   * and sets them up again; what is still posted in the rings stays the driver's), and the
   * configuration-change interrupt follows.
   */
  private needsReset(q: Virtqueue, where: 'rx' | 'tx'): void {
    this.stats.faultDeviceResets++;
    this.sim.faults.record('virtio-net.device-reset', { pid: this.machine.tracePid, tid: q.core }, { queue: q.index, where });
    this._status |= VIRTIO_STATUS.DEVICE_NEEDS_RESET;
    this.queues = [];
    this.configChanged(q);
  }

  /**
   * The configuration-change notification, after DEVICE_NEEDS_RESET was set while DRIVER_OK
   * (virtio 1.x §2.1.2: "If DRIVER_OK is set, after it sets DEVICE_NEEDS_RESET, the device MUST
   * send a device configuration change notification to the driver"). Raised on the vector the
   * driver set, unless the configInterruptLoss fault swallows it.
   */
  private configChanged(q: Virtqueue): void {
    const cfg = this.configVector;
    if (cfg === undefined) return;
    if (this.faultDraws !== null && this.faultDraws.configInterruptLost()) {
      this.stats.faultConfigInterruptsLost++;
      this.traceFault(q, 'virtio-net.config-interrupt-lost');
      return;
    }
    this.stats.configInterrupts++;
    this.machine.cores[cfg.core]!.apic.raise(cfg.vector);
  }

  private reset(): void {
    this._status = 0;
    this._driverFeatures = 0n;
    this.rss = false;
    this.queues = [];
    this.configVector = undefined;
  }

  private drainTx(q: Virtqueue): void {
    q.drainPending = false;
    if (this.queues[q.index] !== q || !this.driverOk) return;
    if (this.faultDraws !== null && this.faultDraws.faults.deviceReset !== undefined && q.pending() > 0 && this.faultDraws.deviceReset()) {
      this.needsReset(q, 'tx');
      return;
    }
    const mem = this.machine.memory;
    let used = 0;
    // A late completion (fault) holds this drain's used entries back, and so do completions still
    // held from an earlier drain: used entries are returned in order.
    const late = this.faultDraws === null ? 0 : this.faultDraws.txCompletion();
    const hold = late > 0 || q.heldUsed.length > 0;
    for (;;) {
      const pending = this.pendingAvail(q);
      if (pending <= 0) break;
      const head = q.nextAvail();
      const chain = q.walk(head, false, this.chain, MAX_CHAIN_BYTES);
      const frameLen = chain === null ? -1 : chain.total - VIRTIO_NET_HDR_BYTES;
      if (chain === null || frameLen < ETH_HEADER_BYTES || frameLen > VIRTIO_NET_MAX_FRAME) {
        this.stats.txErrors++;
      } else {
        // One copy out of guest memory, skipping the virtio_net_hdr (the frame is a fresh array:
        // the fabric and the receiver may hold it after the descriptors are returned).
        const frame = this.txSlab.frame(frameLen);
        readTxFrame(mem.bytes, chain, frame);
        this.stats.txFrames++;
        this.stats.txBytes += frameLen;
        if (this.tx === null) this.stats.txDroppedNoLink++;
        else this.tx.receive(frame);
      }
      if (hold) q.heldUsed.push(head);
      else q.pushUsed(head, 0);
      used++;
    }
    q.writeUsedFlags(0);
    if (hold) {
      if (late > 0 && used > 0) {
        this.stats.faultTxCompletionsDelayed++;
        this.traceFault(q, 'virtio-net.tx-completion-late', late);
      }
      if (!q.releaseScheduled && q.heldUsed.length > 0) {
        q.releaseScheduled = true;
        this.sim.scheduleAfter(late, () => this.releaseHeldUsed(q));
      }
      return;
    }
    if (used > 0) this.interrupt(q);
  }

  /** Returns the TX used entries a late-completion fault held back, in order, and interrupts once. */
  private releaseHeldUsed(q: Virtqueue): void {
    q.releaseScheduled = false;
    if (this.queues[q.index] !== q) return; // reset meanwhile
    const held = q.heldUsed;
    if (held.length === 0) return;
    for (let i = 0; i < held.length; i++) q.pushUsed(held[i]!, 0);
    held.length = 0;
    this.interrupt(q);
  }

  /** Entries the driver made available and the device has not consumed; -1 (queue broken) on a bogus index. */
  private pendingAvail(q: Virtqueue): number {
    const pending = q.pending();
    if (pending < 0) {
      this.stats.ringErrors++;
      // Only the first error announces itself: the status bit is the state, the interrupt its edge.
      if ((this._status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) === 0) {
        this._status |= VIRTIO_STATUS.DEVICE_NEEDS_RESET;
        this.configChanged(q);
      }
    }
    return pending;
  }

  private interrupt(q: Virtqueue): void {
    if (q.interruptSuppressed()) {
      this.stats.interruptsSuppressed++;
      return;
    }
    if (this.faultDraws !== null) {
      const fate = this.faultDraws.interrupt();
      if (fate < 0) {
        this.stats.faultInterruptsLost++;
        this.traceFault(q, 'virtio-net.interrupt-lost');
        return;
      }
      if (fate > 0) {
        this.stats.faultInterruptsDelayed++;
        this.traceFault(q, 'virtio-net.interrupt-late', fate);
        this.sim.scheduleAfter(fate, () => {
          if (this.queues[q.index] !== q) return; // reset meanwhile
          this.stats.interrupts++;
          this.machine.cores[q.core].apic.raise(q.msixVector);
        });
        return;
      }
    }
    this.stats.interrupts++;
    this.machine.cores[q.core].apic.raise(q.msixVector);
  }

  /** Counts the fault in the simulation's fault log (an instant on the queue's core in the trace). */
  private traceFault(q: Virtqueue, kind: string, delayNs?: number): void {
    this.sim.faults.record(kind, { pid: this.machine.tracePid, tid: q.core }, delayNs === undefined ? { queue: q.index } : { queue: q.index, delayNs });
  }
}

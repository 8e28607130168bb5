import type { Machine, MachineDevice } from '../machine.js';
import type { Simulation } from '../simulation.js';
import { ETH_HEADER_BYTES, formatMac, nicMac, type FramePort, type NetworkEndpoint } from './frame.js';
import { FrameSlab } from './frame-slab.js';
import { VIRTIO_NET_MAX_FRAME } from './virtio-net-spec.js';

/** Counters of a `DirectNetPort`. */
export type DirectNetPortStats = {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames that arrived before the driver started the port, or after the machine powered off, or runts. */
  rxDroppedNotReady: number;
  /** Frames that arrived while `rxQueueLimit` frames were already waiting for the driver. */
  rxDroppedQueueFull: number;
  /** Frames sent while no link was attached. */
  txDroppedNoLink: number;
  /** Interrupts raised (one per empty → non-empty transition of the receive queue). */
  interrupts: number;
};

export interface DirectNetPortOptions {
  mac?: string;
  /** Received frames that may wait for the driver; more are dropped (counted). Default 4096. */
  rxQueueLimit?: number;
}

const TX_SLAB_BYTES = 256 * 1024;

/**
 * A paravirtual NIC with no descriptor rings: what a gateway machine needs to sit on the switch
 * without paying for virtio-net. The link hands it frames as byte arrays; it queues them and raises
 * the driver's vector once when the queue goes from empty to non-empty (the driver drains all of
 * it per interrupt, so no wake-up is lost and a burst costs one slice). The driver sends a frame
 * by filling a `txBuffer` view and calling `send`; nothing comes back, so there is no TX
 * completion interrupt either. One queue, one core.
 *
 * The receive queue holds the link's arrays themselves (frames are immutable to every receiver,
 * see frame.ts); the driver copies each into its own buffer, as virtio's DMA into guest memory does.
 */
export class DirectNetPort implements NetworkEndpoint, MachineDevice {
  static readonly KIND = 'direct-net-port';
  readonly kind = DirectNetPort.KIND;
  readonly machine: Machine;
  readonly mac: Uint8Array;
  /** One receive queue (what an RSS hash would pick among). */
  readonly queuePairs = 1;
  readonly stats: DirectNetPortStats = {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    rxDroppedNotReady: 0,
    rxDroppedQueueFull: 0,
    txDroppedNoLink: 0,
    interrupts: 0,
  };
  private readonly rxQueueLimit: number;
  private tx: FramePort | null = null;
  private vector = -1;
  private core = 0;
  /** Taken slots hold undefined (the frame is let go at once) until the queue empties and resets. */
  private readonly rxQueue: (Uint8Array | undefined)[] = [];
  private rxHead = 0;
  private readonly txSlab = new FrameSlab(TX_SLAB_BYTES, TX_SLAB_BYTES / 4);

  constructor(sim: Simulation, machine: Machine, options: DirectNetPortOptions = {}) {
    if (!sim.machines.includes(machine)) throw new Error(`machine '${machine.name}' does not belong to this simulation`);
    this.machine = machine;
    const limit = options.rxQueueLimit ?? 4096;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`direct port rxQueueLimit must be a positive integer, got ${String(limit)}`);
    this.rxQueueLimit = limit;
    this.mac = nicMac('direct port', machine.id, options.mac);
  }

  get macString(): string {
    return formatMac(this.mac);
  }

  // ---------------------------------------------------------------- link side

  attach(tx: FramePort | null): void {
    this.tx = tx;
  }

  receive(frame: Uint8Array): void {
    if (this.vector < 0 || !this.machine.poweredOn || frame.length < ETH_HEADER_BYTES || frame.length > VIRTIO_NET_MAX_FRAME) {
      this.stats.rxDroppedNotReady++;
      return;
    }
    const waiting = this.rxQueue.length - this.rxHead;
    if (waiting >= this.rxQueueLimit) {
      this.stats.rxDroppedQueueFull++;
      return;
    }
    this.rxQueue.push(frame);
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    if (waiting === 0) {
      this.stats.interrupts++;
      this.machine.cores[this.core]!.apic.raise(this.vector);
    }
  }

  // ---------------------------------------------------------------- driver side

  /** The driver is ready: frames from now on are queued and announced on `vector` of `core`. */
  start(vector: number, core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.machine.cores.length) {
      throw new RangeError(`direct port: machine '${this.machine.name}' has no core ${String(core)}`);
    }
    this.vector = vector;
    this.core = core;
  }

  get started(): boolean {
    return this.vector >= 0;
  }

  /** The oldest received frame (the link's array: read it, do not keep or change it), or undefined. */
  take(): Uint8Array | undefined {
    if (this.rxHead === this.rxQueue.length) return undefined;
    const f = this.rxQueue[this.rxHead]!;
    this.rxQueue[this.rxHead++] = undefined;
    if (this.rxHead === this.rxQueue.length) {
      this.rxQueue.length = 0;
      this.rxHead = 0;
    }
    return f;
  }

  /** Frames waiting for the driver. */
  get rxPending(): number {
    return this.rxQueue.length - this.rxHead;
  }

  /**
   * A fresh `length`-byte array for one outgoing frame, cut from a slab (one allocation per
   * 256 KiB, not per frame). Once sent it belongs to the fabric, so a slab is never reused.
   */
  txBuffer(length: number): Uint8Array {
    return this.txSlab.frame(length);
  }

  /** Sends one frame into the link (synchronously: the link schedules its arrival). */
  send(frame: Uint8Array): void {
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
    if (this.tx === null) this.stats.txDroppedNoLink++;
    else this.tx.receive(frame);
  }
}

// The driver of a DirectNetPort (@ebbrt/hw-x86sim): a NIC with no rings, for a machine that only
// relays (the runtime's gateway on the switch). Receive: the port raises our vector when its queue
// goes from empty to non-empty; the handler drains the whole queue, copying each frame into a
// buffer of this core's MemoryAllocator (the copy virtio's DMA makes into guest memory) and handing
// it up. Transmit: the chain is gathered into one of the port's frame arrays and sent at once; there
// is no completion to reclaim. Against virtio-net this saves, per frame: descriptor writes and
// reads, the device's ring walk, a fresh 9 KiB receive buffer per frame, and the TX-completion
// interrupt (one core slice per sent frame in interrupt mode).

import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type EventManager, type IOBuf, type MemoryAllocator } from '@ebbrt/interfaces';
import type { DirectNetPort } from '@ebbrt/hw-x86sim';
import type { PhaseTrace } from '../phase-trace.js';
import type { FrameSink } from './queue-pair.js';
import type { NicDriver, NicTransmitter } from './nic-driver.js';

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);

/** Driver counters (the device's are `device.stats`). */
export type DirectPortDriverStats = {
  /** Interrupt-handler runs. */
  interrupts: number;
  rxFrames: number;
  /** No buffer could be allocated for a received frame: it was dropped. */
  rxNoMemory: number;
  txFrames: number;
};

/** The port's device counters that count a lost frame. */
const DROPS: readonly string[] = ['rxDroppedNotReady', 'rxDroppedQueueFull', 'txDroppedNoLink'];

class DirectPortCore implements NicTransmitter {
  constructor(
    private readonly core: number,
    private readonly port: DirectNetPort,
    private readonly sink: FrameSink,
    private readonly stats: DirectPortDriverStats,
    private readonly phases: PhaseTrace | undefined,
  ) {}

  onInterrupt = (): void => {
    const phases = this.phases;
    if (phases === undefined) return this.drain();
    const t0 = phases.now();
    this.drain();
    phases.end('driver', this.core, t0);
  };

  private drain(): void {
    this.stats.interrupts++;
    const mem = memRef.deref();
    let frame: Uint8Array | undefined;
    while ((frame = this.port.take()) !== undefined) {
      let buf: IOBuf;
      try {
        buf = mem.allocIOBuf(frame.length);
      } catch {
        this.stats.rxNoMemory++;
        continue;
      }
      buf.bytes.set(frame, buf.offset);
      this.stats.rxFrames++;
      this.sink(buf);
    }
  }

  transmit(chain: IOBuf): void {
    const phases = this.phases;
    if (phases === undefined) return this.send(chain);
    const t0 = phases.now();
    this.send(chain);
    phases.end('driver', this.core, t0);
  }

  private send(chain: IOBuf): void {
    let length = 0;
    let e: IOBuf = chain;
    do {
      length += e.length;
      e = e.next;
    } while (e !== chain);
    const frame = this.port.txBuffer(length);
    let o = 0;
    e = chain;
    do {
      if (e.length > 0) {
        frame.set(e.bytes.subarray(e.offset, e.offset + e.length), o);
        o += e.length;
      }
      e = e.next;
    } while (e !== chain);
    chain.releaseChain();
    this.stats.txFrames++;
    this.port.send(frame);
  }
}

export class DirectPortDriver implements NicDriver {
  /** Frames start with the Ethernet header: there is no device header to reserve. */
  readonly headroom = 0;
  readonly dropCounters = DROPS;
  readonly driverDropCounters: readonly string[] = ['rxNoMemory'];
  readonly stats: DirectPortDriverStats = { interrupts: 0, rxFrames: 0, rxNoMemory: 0, txFrames: 0 };
  readonly cores: (DirectPortCore | undefined)[];
  phases: PhaseTrace | undefined = undefined;
  private readyWaiters: (() => void)[] = [];

  constructor(
    readonly device: DirectNetPort,
    numCores: number,
  ) {
    // The port has one queue and announces it on one core: a multi-core node wants virtio-net (RSS).
    if (numCores !== 1) throw new Error(`direct port: machine '${device.machine.name}' runs ${numCores} cores; a direct port serves exactly 1 (use virtio-net)`);
    this.cores = [undefined];
  }

  get ready(): boolean {
    return this.device.started;
  }

  whenReady(fn: () => void): void {
    if (this.ready) fn();
    else this.readyWaiters.push(fn);
  }

  setupCore(core: number, sink: FrameSink): void {
    if (this.cores[core] !== undefined) return;
    const c = new DirectPortCore(core, this.device, sink, this.stats, this.phases);
    const vector = emRef.deref().allocateVector(c.onInterrupt);
    this.cores[core] = c;
    this.device.start(vector, core);
    for (const w of this.readyWaiters.splice(0)) w();
  }
}

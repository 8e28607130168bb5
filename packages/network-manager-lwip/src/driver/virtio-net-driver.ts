// The virtio-net driver: device bring-up (node-wide, at install) and one queue pair per core,
// set up on its own core by an event the Event Manager's root posts at boot (the rings and RX
// buffers must come from that core's MemoryAllocator rep). The device only accepts setupQueue
// before DRIVER_OK, so DRIVER_OK is written when the last core has finished.
//
// Interrupts vs polling (after Linux NAPI / EbbRT's VirtioNet driver): at low load every used
// buffer raises the queue's vector and the handler drains the rings. Under load (many frames in
// one handler run, or a high frame rate over a short window) the core suppresses interrupts
// (avail.flags NO_INTERRUPT) and drains the rings from the Event Manager's idle callback instead;
// a periodic timer leaves polling after a whole period without traffic. Leaving re-enables
// interrupts and then RE-CHECKS the used rings: anything that arrived while interrupts were
// suppressed is found there, so no wake-up is lost.
//
// A device may still lose an interrupt (a fault the simulated NIC can inject): in interrupt mode
// nothing would look at the rings again until the next interrupt of that queue pair, and a node
// whose first interrupt is lost never hears anything. With `interruptWatchdogUs` set, a periodic
// timer per core services rings that hold used entries no interrupt announced.
//
// A device may also fail and need a reset (virtio 1.x §2.1.2; a fault the simulated NIC can
// inject): it sets DEVICE_NEEDS_RESET, stops using its queues and raises its configuration-change
// interrupt. The driver then does what the spec's recovery asks (§2.1.2, §2.4, §3.1.1): on core 0
// it resets the device (status 0, re-read until 0), negotiates the same features again and sets
// FEATURES_OK; each core then sets its queue pair up again on its own core (`QueuePair.restart`:
// rings zeroed in place and given back, RX buffers re-posted, TX in flight released); DRIVER_OK is
// written after the last core, and each core then sends what waited. TCP above retransmits what
// the reset lost.
//
// The configuration interrupt is an edge, the status bit the state: an interrupt that never
// comes (a fault the simulated NIC can inject) would leave the device dead. So core 0 also reads
// the status from the timers it already runs (the lost-interrupt watchdog, and the polling-mode
// tick), and starts the same recovery when it finds DEVICE_NEEDS_RESET with none under way
// (`deviceStatusPolling`, on by default; it adds no timer and no event of its own). Under the
// virtual clock a periodic watchdog would keep a run from ever ending; as a background timer
// (`interruptWatchdogBackground`) it ticks only while something else is pending, which is all a
// device that failed mid-run needs: the peers' retransmissions and the app's retries are pending.

import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type EventManager, type IdleHandle, type IOBuf, type MemoryAllocator, type Timer, type TimerHandle } from '@ebbrt/interfaces';
import {
  VIRTIO_NET_F,
  VIRTIO_NET_HDR_BYTES,
  VIRTIO_STATUS,
  featureBit,
  type Machine,
  type Simulation,
  VirtioNetDevice,
} from '@ebbrt/hw-x86sim';
import { QueuePair, type FrameSink, type QueuePairConfig } from './queue-pair.js';
import type { PhaseTrace } from '../phase-trace.js';
import { NIC_DROP_COUNTERS } from '../stats.js';
import type { NicDriver } from './nic-driver.js';

export interface DriverConfig extends QueuePairConfig {
  mac?: string;
  /** Frames handled in one interrupt-handler run that switch the core to polling. */
  pollFramesPerInterrupt: number;
  /** Frames within `pollRateWindowUs` that switch the core to polling. */
  pollRateFrames: number;
  pollRateWindowUs: number;
  /** Polling ends after a whole period of this many µs with no frame. */
  pollIdleUs: number;
  /** Used entries consumed per handler run / poll. */
  rxBudget: number;
  /** Lost-interrupt watchdog period in interrupt mode, µs; 0 = off. */
  interruptWatchdogUs?: number;
  /** The watchdog keeps no virtual-time run alive (a background timer; see options.ts). */
  interruptWatchdogBackground?: boolean;
  /** Recover from DEVICE_NEEDS_RESET (default true); false leaves a failed device dead. */
  deviceResetRecovery?: boolean;
  /**
   * Core 0 reads the device status on its watchdog and polling ticks and recovers a device that
   * needs a reset even if its configuration interrupt was lost (default true).
   */
  deviceStatusPolling?: boolean;
}

/** Node-wide driver counters (the per-core ones are each `QueuePair.stats`). */
export type DriverStats = {
  /** Configuration-change interrupts handled (core 0). */
  configInterrupts: number;
  /** DEVICE_NEEDS_RESET recoveries begun / finished (DRIVER_OK written again). */
  resetsStarted: number;
  resetsRecovered: number;
  /** Recoveries begun because core 0 read DEVICE_NEEDS_RESET on a tick, no configuration interrupt having started one. */
  resetsNoticedByPolling: number;
};

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);
const BACKGROUND = { background: true } as const;

/** One core's driver state: its queue pair plus the interrupt/polling state machine. */
export class CoreNetDriver {
  mode: 'interrupt' | 'polling' = 'interrupt';
  private idle: IdleHandle | undefined;
  private pollTimer: TimerHandle | undefined;
  private framesSinceTick = 0;
  private windowStartNs = 0;
  private windowFrames = 0;

  constructor(
    readonly core: number,
    readonly queue: QueuePair,
    private readonly sim: Simulation,
    private readonly config: DriverConfig,
    private readonly sink: FrameSink,
    /** Driver spans for a latency breakdown (only when the simulation traces). */
    private readonly phases?: PhaseTrace,
    /** Reads the device status on this core's ticks (core 0 only, see the file comment). */
    private readonly pollStatus?: () => void,
  ) {
    const watchdogUs = config.interruptWatchdogUs ?? 0;
    if (watchdogUs > 0) timerRef.deref().start(this.watchdog, watchdogUs, true, config.interruptWatchdogBackground === true ? BACKGROUND : undefined);
  }

  /** The queue's interrupt vector handler. */
  onInterrupt = (): void => {
    const phases = this.phases;
    if (phases === undefined) return this.interrupt();
    const t0 = phases.now();
    this.interrupt();
    phases.end('driver', this.core, t0);
  };

  private interrupt(): void {
    this.queue.stats.interrupts++;
    this.service();
  }

  /** Interrupt mode: used entries sit on the rings with no interrupt announcing them (one was lost). */
  private watchdog = (): void => {
    this.pollStatus?.();
    if (this.mode !== 'interrupt' || !this.queue.hasUsed()) return;
    this.queue.stats.watchdogRecoveries++;
    this.service();
  };

  /** What the interrupt handler does: reclaim TX, receive, and switch to polling under load. */
  private service(): void {
    const q = this.queue;
    q.reclaimTx();
    if (this.mode === 'polling') return; // a late interrupt; the idle callback owns the rings
    const n = q.receive(this.config.rxBudget, this.sink);
    const now = this.sim.now();
    if (now - this.windowStartNs > this.config.pollRateWindowUs * 1000) {
      this.windowStartNs = now;
      this.windowFrames = 0;
    }
    this.windowFrames += n;
    if (n >= this.config.pollFramesPerInterrupt || this.windowFrames >= this.config.pollRateFrames || q.hasUsed()) {
      this.enterPolling();
    }
  }

  private enterPolling(): void {
    const q = this.queue;
    q.stats.toPolling++;
    this.mode = 'polling';
    q.setInterruptsEnabled(false);
    this.framesSinceTick = 1;
    this.idle = emRef.deref().setIdleCallback(this.poll);
    this.pollTimer = timerRef.deref().start(this.tick, this.config.pollIdleUs, true);
  }

  private poll = (): void => {
    const q = this.queue;
    const t0 = this.phases === undefined ? 0 : this.phases.now();
    q.stats.polls++;
    const freed = q.reclaimTx();
    const n = q.receive(this.config.rxBudget, this.sink);
    if (n + freed > 0) {
      q.stats.pollsWithWork++;
      // Empty polls are the idle loop, not driver work: only polls that found work are spans.
      this.phases?.end('driver', this.core, t0);
    }
    this.framesSinceTick += n + freed;
  };

  private tick = (): void => {
    if (this.mode !== 'polling') return;
    this.pollStatus?.();
    if (this.framesSinceTick > 0 || this.queue.backlogLength > 0) {
      this.framesSinceTick = 0;
      return;
    }
    this.leavePolling();
  };

  private leavePolling(): void {
    const q = this.queue;
    q.setInterruptsEnabled(true);
    // Re-check: a frame that arrived while suppressed raised nothing and is only on the ring.
    if (q.hasUsed()) {
      q.stats.recheckFoundWork++;
      q.setInterruptsEnabled(false);
      this.framesSinceTick = 1;
      return;
    }
    q.stats.toInterrupts++;
    this.mode = 'interrupt';
    this.windowFrames = 0;
    this.idle?.stop();
    this.idle = undefined;
    this.pollTimer?.stop();
    this.pollTimer = undefined;
  }

  /** Device reset recovery, on this core: the queue pair set up again (see `QueuePair.restart`). */
  restart(): void {
    this.queue.restart(this.sink, this.mode === 'interrupt');
  }

  transmit(chain: IOBuf): void {
    const phases = this.phases;
    if (phases === undefined) return this.queue.transmit(chain);
    const t0 = phases.now();
    this.queue.transmit(chain);
    phases.end('driver', this.core, t0);
  }
}

/**
 * Node-wide part of the driver: the device and the per-core drivers. `bringUp` negotiates
 * features; `setupCore` runs on each core (as an event) and writes DRIVER_OK after the last one.
 */
export class VirtioNetDriver implements NicDriver {
  /**
   * Bytes every transmitted chain must reserve in front of its Ethernet header: the virtio-net
   * header, which `transmit` zeroes. The interface lays its headers out after this.
   */
  readonly headroom = VIRTIO_NET_HDR_BYTES;
  readonly dropCounters: readonly string[] = NIC_DROP_COUNTERS;
  readonly driverDropCounters: readonly string[] = [];
  readonly device: VirtioNetDevice;
  readonly cores: (CoreNetDriver | undefined)[];
  private pendingCores: number;
  private readyWaiters: (() => void)[] = [];
  readonly stats: DriverStats = { configInterrupts: 0, resetsStarted: 0, resetsRecovered: 0, resetsNoticedByPolling: 0 };
  /** Core 0's configuration-change vector (allocated in its setup), -1 before. */
  private configVector = -1;
  /** Cores still to restart their queue pair in the recovery under way; 0 when none is. */
  private restartsPending = 0;
  /** Driver spans for a latency breakdown; set (before the cores' setup) only when the simulation traces. */
  phases: PhaseTrace | undefined = undefined;

  constructor(
    private readonly sim: Simulation,
    private readonly machine: Machine,
    numCores: number,
    private readonly config: DriverConfig,
  ) {
    this.device = claimOrCreateDevice(sim, machine, numCores, config.mac);
    this.cores = new Array<CoreNetDriver | undefined>(numCores).fill(undefined);
    this.pendingCores = numCores;
    this.initialise();
  }

  /**
   * The spec's initialisation up to FEATURES_OK (§3.1.1): reset, ACKNOWLEDGE, DRIVER, features,
   * FEATURES_OK and its re-read. Queues and DRIVER_OK follow per core (`setupCore`, `restartCore`).
   */
  private initialise(): void {
    const d = this.device;
    d.setStatus(0);
    // §2.4.2: the driver waits for a read of device_status to return 0 before reinitialising.
    if (d.status !== 0) throw new Error(`virtio-net: device status ${d.status} after a reset, expected 0`);
    d.setStatus(VIRTIO_STATUS.ACKNOWLEDGE);
    d.setStatus(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER);
    const wanted =
      featureBit(VIRTIO_NET_F.MAC) | featureBit(VIRTIO_NET_F.STATUS) | featureBit(VIRTIO_NET_F.MQ) | featureBit(VIRTIO_NET_F.VERSION_1);
    const got = d.negotiate(wanted);
    if ((got & featureBit(VIRTIO_NET_F.VERSION_1)) === 0n) throw new Error('virtio-net: device does not offer VERSION_1');
    d.setStatus(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER | VIRTIO_STATUS.FEATURES_OK);
    if ((d.status & VIRTIO_STATUS.FEATURES_OK) === 0) throw new Error('virtio-net: FEATURES_OK refused');
  }

  get ready(): boolean {
    return this.pendingCores === 0;
  }

  /** Calls `fn` once every queue pair is set up and DRIVER_OK written (at once if already). */
  whenReady(fn: () => void): void {
    if (this.ready) fn();
    else this.readyWaiters.push(fn);
  }

  /** Runs on core `core` (an event): allocates its rings and RX buffers, and its vector. */
  setupCore(core: number, sink: FrameSink): void {
    if (this.cores[core] !== undefined) return;
    const em = emRef.deref();
    let driver: CoreNetDriver | undefined;
    const vector = em.allocateVector(() => driver?.onInterrupt());
    const numa = this.machine.nodeOfCore(core);
    const qp = new QueuePair(core, this.device, this.machine.memory, memRef.deref(), this.config, vector, core, numa);
    const poll = core === 0 && this.config.deviceStatusPolling !== false ? this.pollStatus : undefined;
    driver = new CoreNetDriver(core, qp, this.sim, this.config, sink, this.phases, poll);
    this.cores[core] = driver;
    if (core === 0) {
      this.configVector = em.allocateVector(this.onConfigChange);
      this.device.setConfigInterrupt({ vector: this.configVector, core: 0 });
    }
    if (--this.pendingCores === 0) {
      this.device.setStatus(this.device.status | VIRTIO_STATUS.DRIVER_OK);
      for (const w of this.readyWaiters.splice(0)) w();
    }
  }

  /**
   * Core 0's configuration-change handler. The only change this device reports is
   * DEVICE_NEEDS_RESET: start the recovery (see the file comment), unless one is under way or the
   * driver is still coming up (its own initialisation ends in DRIVER_OK, which is all a recovery
   * would do).
   */
  private onConfigChange = (): void => {
    this.stats.configInterrupts++;
    this.startRecovery();
  };

  /** Core 0's status read on a tick: the recovery a lost configuration interrupt did not start. */
  private pollStatus = (): void => {
    if (this.startRecovery()) this.stats.resetsNoticedByPolling++;
  };

  /** Starts the recovery if the device needs one and none is under way; true if it started. */
  private startRecovery(): boolean {
    if ((this.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) === 0) return false;
    if (this.config.deviceResetRecovery === false || this.restartsPending > 0 || !this.ready) return false;
    this.stats.resetsStarted++;
    this.initialise();
    this.device.setConfigInterrupt({ vector: this.configVector, core: 0 });
    this.restartsPending = this.cores.length;
    const em = emRef.deref();
    for (let core = 0; core < this.cores.length; core++) em.spawnRemote(() => this.restartCore(core), core);
    return true;
  }

  /** Runs on core `core` during a recovery: its queue pair set up again; DRIVER_OK after the last. */
  private restartCore(core: number): void {
    this.on(core).restart();
    if (--this.restartsPending > 0) return;
    this.device.setStatus(this.device.status | VIRTIO_STATUS.DRIVER_OK);
    this.stats.resetsRecovered++;
    const em = emRef.deref();
    for (let c = 0; c < this.cores.length; c++) em.spawnRemote(() => this.on(c).queue.resume(), c);
  }

  /** The driver of core `core` (throws before that core's setup event ran). */
  on(core: number): CoreNetDriver {
    const d = this.cores[core];
    if (d === undefined) throw new Error(`virtio-net: queue pair of core ${core} is not set up yet`);
    return d;
  }
}

/**
 * The NIC the platform plugged into the machine (the runtime attaches one per node and wires it to
 * the app's network), or, on a bare machine (unit tests), a new one attached here. A platform NIC
 * must have a queue pair per core, since each core owns one.
 */
function claimOrCreateDevice(sim: Simulation, machine: Machine, numCores: number, mac: string | undefined): VirtioNetDevice {
  const found = machine.claimDevice<VirtioNetDevice>(VirtioNetDevice.KIND);
  if (found !== undefined) {
    if (found.queuePairs < numCores) {
      throw new Error(`virtio-net: the NIC of machine '${machine.name}' has ${found.queuePairs} queue pairs; this node runs ${numCores} cores`);
    }
    return found;
  }
  const created = new VirtioNetDevice(sim, machine, mac === undefined ? { queuePairs: numCores } : { mac, queuePairs: numCores });
  machine.attachDevice(created);
  machine.claimDevice(VirtioNetDevice.KIND);
  return created;
}

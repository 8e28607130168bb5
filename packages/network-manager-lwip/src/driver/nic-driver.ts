// What the interface layer and the root need of a NIC driver, so that one stack runs over either
// NIC model: virtio-net (rings in guest memory, interrupts, polling; every back-end node) or the
// ring-less direct port (a gateway on the switch, see direct-port-driver.ts). The machine's
// attached device decides which one a node gets.

import type { Counters, IOBuf } from '@ebbrt/interfaces';
import { DirectNetPort, type Machine, type Simulation } from '@ebbrt/hw-x86sim';
import type { PhaseTrace } from '../phase-trace.js';
import type { FrameSink } from './queue-pair.js';
import { VirtioNetDriver, type DriverConfig } from './virtio-net-driver.js';
import { DirectPortDriver } from './direct-port-driver.js';

/** One core's transmit side. */
export interface NicTransmitter {
  /** Sends one frame (its chain starts `headroom` bytes before the Ethernet header); takes ownership. */
  transmit(chain: IOBuf): void;
}

export interface NicDriver {
  /** Bytes every transmitted chain reserves in front of its Ethernet header. */
  readonly headroom: number;
  /** The device: its MAC, how many receive queues an RSS hash picks among, its counters. */
  readonly device: { readonly mac: Uint8Array; readonly queuePairs: number; readonly stats: Counters };
  /** Device counters that count a frame lost in the device (for `networkStats().drops`). */
  readonly dropCounters: readonly string[];
  /** The driver's own node-wide counters, and those of them that count a lost frame. */
  readonly stats: Counters;
  readonly driverDropCounters: readonly string[];
  /** Per core, once that core's setup ran. */
  readonly cores: readonly (NicTransmitter | undefined)[];
  readonly ready: boolean;
  phases: PhaseTrace | undefined;
  whenReady(fn: () => void): void;
  /** Runs on core `core` (an event): that core's queue, buffers and vector. */
  setupCore(core: number, sink: FrameSink): void;
}

/** The driver for the NIC the platform plugged into `machine`: a direct port if there is one, else virtio-net. */
export function nicDriverFor(sim: Simulation, machine: Machine, numCores: number, config: DriverConfig): NicDriver {
  const port = machine.claimDevice<DirectNetPort>(DirectNetPort.KIND);
  if (port !== undefined) return new DirectPortDriver(port, numCores);
  return new VirtioNetDriver(sim, machine, numCores, config);
}

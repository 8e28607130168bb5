import { resolve } from 'node:path';
import { PcapFileWriter } from '@ebbrt/hw-x86sim/node';
import { NetworkFabric, VirtioNetDevice, formatMac, type Link, type Machine, type Simulation, type VirtioNetFaults } from '@ebbrt/hw-x86sim';
import type { NetworkConfig } from '@ebbrt/interfaces';
import { Subnet, nodeHost } from './subnet.js';

/**
 * The back-ends' Ethernet: one switch, and for every node a virtio-net NIC plugged into its
 * machine (the driver claims it at boot) on a link with the configured properties. With `pcap`,
 * every frame that enters the switch is captured once: the nodes', the gateway's and those the TAP
 * uplink brings in from Linux, so both halves of each conversation show. A realtime run's capture
 * is in calendar time; a virtual run's starts at 0 (and stays byte-identical by seed).
 */
export class SimulatedNetwork {
  readonly fabric: NetworkFabric;
  readonly subnet: Subnet;
  readonly pcap: PcapFileWriter | undefined;
  private readonly links = new Map<string, Link>();
  private readonly nics = new Map<string, VirtioNetDevice>();
  /** Each label's MAC from its first attach: a node restarted on a new machine keeps its address. */
  private readonly macs = new Map<string, string>();

  constructor(
    private readonly simulation: Simulation,
    readonly config: NetworkConfig,
    appDir: string,
  ) {
    this.fabric = new NetworkFabric(simulation, { name: 'net' });
    this.subnet = new Subnet(config.subnet);
    this.pcap =
      config.pcap === undefined ? undefined : new PcapFileWriter({ path: resolve(appDir, config.pcap), epochOriginMs: simulation.wallClockOriginMs });
    if (this.pcap !== undefined) this.fabric.capture(this.pcap);
  }

  /** Address (with prefix) of back-end node `nodeId`. */
  nodeAddress(nodeId: number): string {
    return this.subnet.hostWithPrefix(nodeHost(nodeId));
  }

  /**
   * Plugs a NIC with a queue pair per core into `machine` and connects it to the switch; `faults`
   * (validated already) are the device's hardware faults. A label attached before (a node
   * restarted on a new machine) gets the MAC it had.
   */
  attach(machine: Machine, label: string, faults?: VirtioNetFaults): VirtioNetDevice {
    const mac = this.macs.get(label);
    const nic = new VirtioNetDevice(this.simulation, machine, { queuePairs: machine.cores.length, ...(mac !== undefined ? { mac } : {}), ...(faults !== undefined ? { faults } : {}) });
    if (mac === undefined) this.macs.set(label, formatMac(nic.mac));
    machine.attachDevice(nic);
    const link = this.fabric.connect(nic, { name: label, ...this.config.link });
    this.links.set(label, link);
    this.nics.set(label, nic);
    return nic;
  }

  /** The NIC of the endpoint attached as `label` (its stats, its faults). */
  nic(label: string): VirtioNetDevice | undefined {
    return this.nics.get(label);
  }

  /** Disconnects the endpoint attached as `label` (its machine is gone). */
  detach(label: string): void {
    const link = this.links.get(label);
    if (link === undefined) return;
    this.fabric.disconnect(link);
    this.links.delete(label);
    this.nics.delete(label);
  }

  /** The link of the endpoint attached as `label` (e.g. to change its properties mid-run). */
  link(label: string): Link | undefined {
    return this.links.get(label);
  }

  close(): void {
    this.pcap?.close();
  }
}

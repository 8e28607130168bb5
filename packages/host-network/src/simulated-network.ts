import { resolve } from 'node:path';
import { PcapFileWriter } from '@ebbrt/hw-x86sim/node';
import { DirectNetPort, NetworkFabric, VirtioNetDevice, formatMac, type Link, type Machine, type Simulation, type VirtioNetFaults } from '@ebbrt/hw-x86sim';
import type { NetworkConfig } from '@ebbrt/interfaces';
import type { Partitionable } from './partition.js';
import { Subnet, nodeHost } from './subnet.js';

/**
 * The back-ends' Ethernet: one switch, and for every node a virtio-net NIC plugged into its
 * machine (the driver claims it at boot) on a link with the configured properties. With `pcap`,
 * every frame that enters the switch is captured once: the nodes', the gateway's and those the TAP
 * uplink brings in from Linux, so both halves of each conversation show. A realtime run's capture
 * is in calendar time; a virtual run's starts at 0 (and stays byte-identical by seed).
 */
export class SimulatedNetwork implements Partitionable {
  readonly fabric: NetworkFabric;
  readonly subnet: Subnet;
  readonly pcap: PcapFileWriter | undefined;
  private readonly links = new Map<string, Link>();
  private readonly nics = new Map<string, VirtioNetDevice>();
  private readonly ports = new Map<string, DirectNetPort>();
  /** Each label's MAC from its first attach: a node restarted on a new machine keeps its address. */
  private readonly macs = new Map<string, string>();
  /** The labels cut off by a partition now (null: none). */
  private cut: ReadonlySet<string> | null = null;

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
    // A node restarted during a partition is on the side it was on.
    if (this.cut?.has(label) === true) this.applyCut();
    return nic;
  }

  /**
   * Plugs a ring-less direct port (no virtio-net: for the gateway, which only relays) into
   * `machine` and connects it to the switch through a link with the configured properties.
   */
  attachPort(machine: Machine, label: string): DirectNetPort {
    const mac = this.macs.get(label);
    const port = new DirectNetPort(this.simulation, machine, mac !== undefined ? { mac } : {});
    if (mac === undefined) this.macs.set(label, formatMac(port.mac));
    machine.attachDevice(port);
    this.links.set(label, this.fabric.connect(port, { name: label, ...this.config.link }));
    this.ports.set(label, port);
    return port;
  }

  /** The direct port of the endpoint attached as `label` with `attachPort` (its counters). */
  port(label: string): DirectNetPort | undefined {
    return this.ports.get(label);
  }

  /**
   * Cuts back-ends `nodes` off from everything else on the switch (the other nodes, the gateway),
   * or heals the partition (`null`). See L2Switch.partition.
   */
  partitionNodes(nodes: readonly number[] | null): void {
    this.cut = nodes === null ? null : new Set(nodes.map((n) => `node${n}`));
    this.applyCut();
  }

  private applyCut(): void {
    const cut = this.cut;
    if (cut === null) return this.fabric.switch.partition(null);
    const ports = [...cut].map((label) => this.links.get(label)).flatMap((l) => (l === undefined ? [] : [this.fabric.portOf(l)!]));
    this.fabric.switch.partition(ports);
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
    this.ports.delete(label);
  }

  /** The link of the endpoint attached as `label` (e.g. to change its properties mid-run). */
  link(label: string): Link | undefined {
    return this.links.get(label);
  }

  close(): void {
    this.pcap?.close();
  }
}

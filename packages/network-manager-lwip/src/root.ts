import { nodeContextOf, type NodeContext } from '@ebbrt/core-translation';
import {
  SystemEbbIds,
  UsageError,
  type CoreInfo,
  type EventManagerRoot,
  type GatewayCapability,
  type NetworkManagerRoot,
  type NetworkStats,
  type IOBuf,
} from '@ebbrt/interfaces';
import { rssHashOf, type Machine, type Simulation } from '@ebbrt/hw-x86sim';
import { VirtioNetDriver } from './driver/virtio-net-driver.js';
import { nicDriverFor, type NicDriver } from './driver/nic-driver.js';
import { NetInterface, type IfaceConfig } from './iface/net-interface.js';
import { chainChecksumAdd, ChecksumWords } from './wire/checksum.js';
import { totalDrops } from './iface/counters.js';
import { IpProtocol } from './wire/ipv4.js';
import { mac as parseMac } from './wire/mac-address.js';
import { addressingOf, type LwipOptions } from './options.js';
import { LwipNetworkManager } from './rep.js';
import { TcpStack } from './tcp/stack.js';
import { DhcpClient } from './dhcp/dhcp-client.js';
import { PhaseTrace } from './phase-trace.js';
import { networkStatsOf } from './stats.js';
import type { MemoryAllocator, Timer } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';

const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);
const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);

/**
 * Node-wide part of the native NetworkManager: the NIC driver (virtio-net, or the ring-less direct
 * port when the platform plugged one in: a gateway) and the eth0 interface.
 */
export class LwipNetworkManagerRoot implements NetworkManagerRoot {
  /** The driver of whichever NIC the machine has. */
  readonly nic: NicDriver;
  readonly iface: NetInterface;
  readonly tcp: TcpStack;
  /** The stack accepts on any port (listenAnyPort), so this node can be a network's gateway. */
  readonly gateway: GatewayCapability;
  /** The DHCP client when `address: 'dhcp'`. */
  readonly dhcp: DhcpClient | undefined;
  readonly node: NodeContext;
  private readonly reps: (LwipNetworkManager | undefined)[];

  constructor(
    nodeInfo: CoreInfo['node'],
    readonly machine: Machine,
    readonly simulation: Simulation,
    readonly options: LwipOptions,
  ) {
    this.node = nodeContextOf(nodeInfo);
    const useDhcp = options.address === 'dhcp';
    // The schema checked the addressing; DHCP starts unconfigured (0.0.0.0/0) until a lease is bound.
    const { address, netmask, gateway } = addressingOf(options);
    this.nic = nicDriverFor(simulation, machine, this.node.numCores, { ...options });
    const cfg: IfaceConfig = {
      name: 'eth0',
      mac: options.mac === undefined ? macNumber(this.nic.device.mac) : parseMac(options.mac),
      address,
      netmask,
      gateway,
      mtu: options.mtu,
      arpRetries: options.arpRetries,
      arpRetryUs: options.arpRetryUs,
      arpExpiryUs: options.arpExpiryUs,
      arpQueueLimit: options.arpQueueLimit,
      arpCacheSize: options.arpCacheSize,
      ipReassemblyTimeoutUs: options.ipReassemblyTimeoutUs,
      icmpErrorRatePerSec: options.icmpErrorRatePerSec,
      icmpErrorBurst: options.icmpErrorBurst,
      icmpErrorPeerIntervalUs: options.icmpErrorPeerIntervalUs,
      icmpErrorPeerBurst: options.icmpErrorPeerBurst,
      icmpEchoIgnoreBroadcasts: options.icmpEchoIgnoreBroadcasts,
    };
    const transmit = (chain: IOBuf): void => {
      const core = this.node.numCores === 1 ? 0 : NetInterface.currentCoreIndex();
      const d = this.nic.cores[core];
      if (d === undefined) {
        this.iface.counters.txFrames--;
        this.iface.counters.txNotReady++;
        chain.releaseChain();
        return;
      }
      d.transmit(chain);
    };
    this.iface = new NetInterface(
      cfg,
      {
        nowNs: () => simulation.now(),
        startTimer: (fn, delayUs) => timerRef.deref().start(fn, delayUs),
        allocIOBuf: (size) => memRef.deref().allocIOBuf(size),
      },
      { headroom: this.nic.headroom, transmit },
    );
    this.reps = new Array<LwipNetworkManager | undefined>(this.node.numCores).fill(undefined);
    // Queue setup must happen on each core (its MemoryAllocator rep) and before DRIVER_OK.
    const em = this.node.localIdMap.get(SystemEbbIds.EventManager) as EventManagerRoot | undefined;
    if (em === undefined || typeof em.post !== 'function') {
      throw new UsageError('@ebbrt/network-manager-lwip: install the EventManager before the NetworkManager');
    }
    const iface = this.iface;
    // SYN-cookie / ISN key: unpredictable on realtime runs; seeded (reproducible) under the virtual clock.
    const realtime = simulation.clockKind === 'realtime';
    const secrets = simulation.prng.fork(`tcp-secret:${cfg.mac}`);
    const txWords = new ChecksumWords();
    this.tcp = new TcpStack(
      {
        mss: options.mtu - 40,
        receiveWindow: options.tcpReceiveWindow,
        sendBuffer: options.tcpSendBuffer,
        rto: { initialNs: options.tcpRtoInitialUs * 1000, minNs: options.tcpRtoMinUs * 1000, maxNs: options.tcpRtoMaxUs * 1000, granularityNs: 1e6 },
        maxRetries: options.tcpMaxRetries,
        maxSynRetries: options.tcpMaxSynRetries,
        mslNs: options.tcpMslUs * 1000,
        synBacklog: options.tcpSynBacklog,
        synCookies: options.tcpSynCookies,
        delayedAckNs: options.tcpDelayedAckUs * 1000,
        noDelay: options.tcpNoDelay,
        sack: options.tcpSack,
        timestamps: options.tcpTimestamps,
        tailLossProbe: options.tcpTailLossProbe,
        keepalive: options.tcpKeepalive,
        keepaliveIdleNs: options.tcpKeepaliveIdleUs * 1000,
        keepaliveIntervalNs: options.tcpKeepaliveIntervalUs * 1000,
        keepaliveProbes: options.tcpKeepaliveProbes,
        userTimeoutNs: options.tcpUserTimeoutUs * 1000,
      },
      {
        localAddress: () => iface.config.address,
        nowNs: () => simulation.now(),
        allocFrame: (size) => iface.allocFrame(size),
        l4Offset: iface.l4Offset,
        ipOutput: (chain, dst, len) => iface.tcpOutput(chain, dst, len),
        chainChecksumAdd: (sum, chain) => chainChecksumAdd(sum, chain, txWords),
        startTimer: (fn, delayUs) => timerRef.deref().start(fn, delayUs),
        post: (core, fn) => em.post(core, fn),
        numCores: this.node.numCores,
        // A microtask runs after the driver's whole receive batch, still on this core.
        defer: (fn) => queueMicrotask(fn),
        randomU32: realtime ? () => globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! : () => secrets.nextU32(),
        secureIsn: realtime,
        rxCoreOf: (remote, remotePort, localPort) =>
          rssHashOf(remote, iface.config.address, IpProtocol.Tcp, remotePort, localPort) % this.nic.device.queuePairs,
      },
    );
    this.gateway = this.tcp;
    iface.tcpInput = (frame, bytes, off, len, src, dst) => this.tcp.input(frame, bytes, off, len, src, dst);
    // Driver/stack/app spans for a latency breakdown, only when the simulation records a trace.
    const phases = PhaseTrace.create(simulation, machine.tracePid);
    this.nic.phases = phases;
    iface.phases = phases;
    this.tcp.phases = phases;
    if (useDhcp) {
      const xids = simulation.prng.fork(`dhcp-xid:${cfg.mac}`);
      this.dhcp = new DhcpClient(
        iface,
        {
          nowNs: () => simulation.now(),
          startTimer: (fn, delayUs) => timerRef.deref().start(fn, delayUs),
          nextXid: () => xids.nextU32(),
        },
        { retryInitialUs: options.dhcpRetryInitialUs, retryMaxUs: options.dhcpRetryMaxUs, maxAttempts: options.dhcpMaxAttempts },
      );
      // The ready callback runs in the last core's setup event, so the client's timers have a core.
      this.nic.whenReady(() => this.dhcp!.start());
    }
    for (let core = 0; core < this.node.numCores; core++) {
      em.post(core, () => this.nic.setupCore(core, this.iface.input));
    }
  }

  /** The virtio-net driver (tests and tools that look at rings); throws on a node with a direct port. */
  get driver(): VirtioNetDriver {
    if (!(this.nic instanceof VirtioNetDriver)) throw new Error('@ebbrt/network-manager-lwip: this node\'s NIC is a direct port, not virtio-net (use .nic)');
    return this.nic;
  }

  /** `ok` once the driver is up and, with DHCP, a lease is bound; `fail` if the DHCP client gives up. */
  whenReady(ok: () => void, fail: (e: Error) => void): void {
    this.nic.whenReady(() => (this.dhcp === undefined ? ok() : this.dhcp.whenBound(ok, fail)));
  }

  handleFault(core: CoreInfo): LwipNetworkManager {
    const rep = new LwipNetworkManager(this, core.index);
    this.reps[core.index] = rep;
    return rep;
  }

  /** True once every queue pair is set up and the device is DRIVER_OK (and, with DHCP, a lease is bound). */
  get ready(): boolean {
    return this.nic.ready && (this.dhcp === undefined || this.dhcp.bound);
  }

  /** Sum of every drop counter of the interface layer. */
  totalDrops(): number {
    return totalDrops(this.iface.counters);
  }

  /** The NIC, interface and TCP counters, drops by reason, and the connections (read on demand). */
  networkStats(): NetworkStats {
    return networkStatsOf(this.nic.device.stats, this.nic.dropCounters, this.iface.counters, this.tcp, this.iface.config.address, this.nic.stats, this.nic.driverDropCounters);
  }
}

function macNumber(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + b[i]!;
  return v;
}

import { NETWORK_TRACE_PID } from '../fault-log.js';
import type { Simulation } from '../simulation.js';
import { ETH_HEADER_BYTES, formatMac, isGroupDestination, type FramePort, type NetworkEndpoint } from './frame.js';
import type { FrameCapture } from './pcap.js';

/** One port of an `L2Switch`: frames sent into it (`receive`) enter the switch; `out` is where it forwards to. */
export class SwitchPort implements FramePort {
  readonly index: number;
  private readonly sw: L2Switch;
  /** @internal */ _out: FramePort | null = null;
  /** @internal */ readonly _captures: FrameCapture[] = [];
  /** A switch stores and forwards: it drops a frame whose FCS fails (IEEE 802.1Q 8.5), so link corruption ends here. */
  readonly checksFcs = true;

  /** @internal use `L2Switch.addPort`. */
  constructor(sw: L2Switch, index: number) {
    this.sw = sw;
    this.index = index;
  }

  /** Where frames leaving the switch through this port go (a link end, a NIC, a bridge). */
  get out(): FramePort | null {
    return this._out;
  }

  /** Plug this port into `out` (replaces any previous connection). */
  connect(out: FramePort | null): void {
    this._out = out;
  }

  /** Ingress: a frame arriving at this port from outside. */
  receive(frame: Uint8Array): void {
    this.sw._ingress(this, frame);
  }
}

/** Counters of an `L2Switch`. */
export interface SwitchStats {
  /** Frames that entered any port. */
  received: number;
  /** Frames sent out of exactly one learned port. */
  unicast: number;
  /** Frames flooded (unknown unicast, broadcast, multicast). */
  flooded: number;
  /** Frames dropped because the destination was learned on the ingress port, or were runts. */
  filtered: number;
  /** Frame copies dropped because they would cross a partition (one per egress port cut off). */
  partitioned: number;
}

/**
 * A learning Ethernet switch. On every frame it learns source MAC → ingress port (unicast sources
 * only), then forwards: broadcast/multicast floods to every port but the ingress; unicast goes to
 * the learned port (dropped if that is the ingress port), else floods. Forwarding is immediate
 * (the switch adds no latency; links do). Runts (< 14 bytes) are dropped.
 */
export class L2Switch {
  readonly name: string;
  readonly stats: SwitchStats = { received: 0, unicast: 0, flooded: 0, filtered: 0, partitioned: 0 };
  private readonly sim: Simulation;
  private readonly ports: SwitchPort[] = [];
  /** Captures of every frame entering any port (see `captureIngress`). */
  private readonly ingressCaptures: FrameCapture[] = [];
  /** MAC (as a 48-bit number: no string per frame) → port. */
  private readonly table = new Map<number, SwitchPort>();
  /** One side of a partition (null: none): no frame passes between a port in it and one outside. */
  private cut: ReadonlySet<SwitchPort> | null = null;

  constructor(sim: Simulation, options: { name?: string } = {}) {
    this.sim = sim;
    this.name = options.name ?? 'switch';
  }

  /** Add a port, optionally already connected to `out`. */
  addPort(out: FramePort | null = null): SwitchPort {
    const p = new SwitchPort(this, this.ports.length);
    p._out = out;
    this.ports.push(p);
    return p;
  }

  /** Plug an endpoint (NIC, bridge) straight into a new port, with no link in between. */
  plug(endpoint: NetworkEndpoint): SwitchPort {
    const p = this.addPort(endpoint);
    endpoint.attach(p);
    return p;
  }

  port(index: number): SwitchPort {
    const p = this.ports[index];
    if (p === undefined) throw new RangeError(`switch '${this.name}' has no port ${index}`);
    return p;
  }

  get portCount(): number {
    return this.ports.length;
  }

  /** The learned MAC table: 'aa:bb:..' → port index. */
  macTable(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [mac, p] of this.table) m.set(formatMac(macBytes(mac)), p.index);
    return m;
  }

  /** Disconnects a port and forgets the addresses learned on it (a cable pulled out). */
  unplug(port: SwitchPort): void {
    port._out = null;
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac);
  }

  /**
   * Partitions the switch: from now on a frame entering a port in `side` leaves only through
   * ports in `side`, and one entering outside leaves only outside; each copy that would cross is
   * dropped (counted in `stats.partitioned` and as a `network.partition-drop` fault on the
   * ingress port). Frames within a side pass as before; learning goes on. `null` heals it.
   */
  partition(side: Iterable<SwitchPort> | null): void {
    this.cut = side === null ? null : new Set(side);
  }

  /** The ports cut off by the current partition (empty when there is none). */
  get partitionedPorts(): readonly SwitchPort[] {
    return this.cut === null ? [] : [...this.cut];
  }

  /** Forget every learned address. */
  flushMacTable(): void {
    this.table.clear();
  }

  /** Record every frame entering or leaving port `portIndex`, stamped with simulation time. */
  capture(portIndex: number, writer: FrameCapture): void {
    this.port(portIndex)._captures.push(writer);
  }

  /**
   * Record every frame entering the switch, on any port (present or added later), once, stamped
   * with simulation time: each endpoint's transmissions as they arrive, whatever they are (NICs,
   * the TAP bridge's frames from Linux). Frames the switch forwards are not recorded again.
   */
  captureIngress(writer: FrameCapture): void {
    this.ingressCaptures.push(writer);
  }

  /** @internal */
  _ingress(port: SwitchPort, frame: Uint8Array): void {
    this.stats.received++;
    const all = this.ingressCaptures;
    if (all.length > 0) {
      const t = this.sim.now();
      for (const c of all) c.record(t, frame);
    }
    this.recordAt(port, frame);
    if (frame.length < ETH_HEADER_BYTES) {
      this.stats.filtered++;
      return;
    }
    if ((frame[6] & 1) === 0) this.table.set(macKey(frame, 6), port);
    if (!isGroupDestination(frame)) {
      const dst = this.table.get(macKey(frame, 0));
      if (dst !== undefined) {
        if (dst === port) {
          this.stats.filtered++;
          return;
        }
        if (this.crosses(port, dst)) return;
        this.stats.unicast++;
        this.egress(dst, frame);
        return;
      }
    }
    this.stats.flooded++;
    for (const p of this.ports) if (p !== port && !this.crosses(port, p)) this.egress(p, frame);
  }

  /** True (and the drop counted) when the partition separates `from` and `to`. */
  private crosses(from: SwitchPort, to: SwitchPort): boolean {
    const cut = this.cut;
    if (cut === null || cut.has(from) === cut.has(to) || to._out === null) return false;
    this.stats.partitioned++;
    this.sim.faults.record('network.partition-drop', { pid: NETWORK_TRACE_PID, tid: from.index }, { from: from.index, to: to.index });
    return true;
  }

  private egress(port: SwitchPort, frame: Uint8Array): void {
    if (port._out === null) return;
    this.recordAt(port, frame);
    port._out.receive(frame);
  }

  private recordAt(port: SwitchPort, frame: Uint8Array): void {
    const caps = port._captures;
    if (caps.length === 0) return;
    const t = this.sim.now();
    for (const c of caps) c.record(t, frame);
  }
}

/** The 6 MAC bytes at `off` as one number (exact: 48 bits fit a double). */
function macKey(frame: Uint8Array, off: number): number {
  return (frame[off]! * 0x10000 + (frame[off + 1]! << 8) + frame[off + 2]!) * 0x1000000 + ((frame[off + 3]! << 16) | (frame[off + 4]! << 8) | frame[off + 5]!);
}

function macBytes(key: number): Uint8Array {
  const out = new Uint8Array(6);
  let v = key;
  for (let i = 5; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

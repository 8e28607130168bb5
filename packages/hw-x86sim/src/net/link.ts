import { NETWORK_TRACE_PID } from '../fault-log.js';
import type { Prng } from '../prng.js';
import type { Simulation } from '../simulation.js';
import type { FramePort, NetworkEndpoint } from './frame.js';
import type { FrameCapture } from './pcap.js';
import { L2Switch, type SwitchPort } from './switch.js';

/** Properties of one direction of a link. All may change during a run (`Link.setProps`). */
export interface LinkProps {
  /** Propagation delay in ns added to every frame. Default 0. */
  latencyNs: number;
  /**
   * Bits per second; frames are serialized one after another (a frame waits for the previous one
   * to finish): serialization time = ceil(bytes * 8e9 / bandwidthBps) ns. 0 or Infinity = no limit.
   * Default 0.
   */
  bandwidthBps: number;
  /** Probability a frame is lost. Default 0. */
  loss: number;
  /** Probability a frame is delivered twice (the copy right after the original). Default 0. */
  duplicate: number;
  /** Probability a frame is held back by `reorderDelayNs` extra, letting later frames overtake it. Default 0. */
  reorder: number;
  /** Extra delay of a reordered frame in ns. Default 100_000 (100 µs). */
  reorderDelayNs: number;
  /** Probability one random byte of the frame is flipped (XOR with a random non-zero value). Default 0. */
  corrupt: number;
  /** Drop every frame sent while true (frames already in flight still arrive). Default false. */
  partitioned: boolean;
}

export const DEFAULT_LINK_PROPS: Readonly<LinkProps> = Object.freeze({
  latencyNs: 0,
  bandwidthBps: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayNs: 100_000,
  corrupt: 0,
  partitioned: false,
});

/** Counters of one direction of a link. */
export interface LinkCounters {
  /** Frames offered to the link. */
  sent: number;
  /** Frames handed to the far end (duplicates count twice). */
  delivered: number;
  /** Frames dropped by `loss` or `partitioned`. */
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /**
   * Corrupted frames (duplicates included) discarded at the far end's FCS check (a switch port,
   * `FramePort.checksFcs`) instead of delivered. Without it a frame crossing two corrupting hops
   * could carry two flipped bytes, and two flips cancel in the 16-bit Internet checksum about
   * once in a few hundred doubly corrupted frames: TCP accepted such a frame (see
   * `fcs.test.ts`). Real Ethernet's CRC-32 stops that at the first hop.
   */
  fcsDropped: number;
}

export type LinkDirection = 'aToB' | 'bToA';

function validateProps(p: Partial<LinkProps>): void {
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    const v = p[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new RangeError(`link '${k}' must be a probability in [0, 1], got ${String(v)}`);
    }
  }
  for (const k of ['latencyNs', 'reorderDelayNs'] as const) {
    const v = p[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`link '${k}' must be an integer number of ns >= 0, got ${String(v)}`);
    }
  }
  const bw = p.bandwidthBps;
  if (bw !== undefined && !(typeof bw === 'number' && bw >= 0)) {
    throw new RangeError(`link 'bandwidthBps' must be >= 0 (0 = unlimited), got ${String(bw)}`);
  }
  if (p.partitioned !== undefined && typeof p.partitioned !== 'boolean') {
    throw new TypeError(`link 'partitioned' must be a boolean`);
  }
}

/** One direction of a link: its properties, counters, PRNG stream and transmitter state. */
class Lane implements FramePort {
  props: LinkProps;
  readonly counters: LinkCounters = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, fcsDropped: 0 };
  readonly captures: FrameCapture[] = [];
  private busyUntilNs = 0;
  /**
   * Frames in flight whose deliveries were scheduled with non-decreasing arrival times: their
   * deadline entries fire in scheduling order, so each can run the one bound `deliverNext`
   * (take the oldest) instead of a closure made per frame. A frame that would arrive before the
   * last one queued here (reordered, or after a latency decrease) gets its own closure as before.
   * The (deadline, sequence) of every entry is unchanged, and so is the order of events.
   */
  /** Delivered slots hold undefined (the frame is let go at once) until the FIFO empties and resets. */
  private readonly fifo: (Uint8Array | undefined)[] = [];
  private fifoHead = 0;
  private lastFifoArriveNs = -Infinity;
  private readonly deliverNext = (): void => {
    const f = this.fifo[this.fifoHead]!;
    this.fifo[this.fifoHead++] = undefined;
    if (this.fifoHead === this.fifo.length) {
      this.fifo.length = 0;
      this.fifoHead = 0;
    }
    this.deliver(f);
  };

  constructor(
    private readonly sim: Simulation,
    private readonly prng: Prng,
    private readonly to: FramePort,
    props: LinkProps,
    /** Trace args of this lane's faults: the link's name and direction. */
    private readonly site: { link: string; direction: LinkDirection },
    /** Trace thread of this lane's faults on the network process (the link's index in its fabric). */
    private readonly tid: number,
  ) {
    this.props = props;
  }

  /** Counts a fault in the simulation's fault log (an instant on the network's trace process). */
  private fault(kind: string): void {
    this.sim.faults.record(kind, { pid: NETWORK_TRACE_PID, tid: this.tid }, this.site);
  }

  receive(frame: Uint8Array): void {
    const p = this.props;
    const c = this.counters;
    c.sent++;
    if (p.partitioned) {
      c.lost++;
      this.fault('link.partitioned');
      return;
    }
    const now = this.sim.now();
    let departNs = now;
    if (p.bandwidthBps > 0 && p.bandwidthBps !== Infinity) {
      const start = Math.max(now, this.busyUntilNs);
      departNs = start + Math.ceil((frame.length * 8e9) / p.bandwidthBps);
      this.busyUntilNs = departNs;
    }
    if (p.loss > 0 && this.prng.chance(p.loss)) {
      c.lost++;
      this.fault('link.loss');
      return;
    }
    let f = frame;
    let fcsBad = false;
    if (p.corrupt > 0 && f.length > 0 && this.prng.chance(p.corrupt)) {
      f = frame.slice();
      const i = this.prng.nextInt(f.length);
      f[i] ^= 1 + this.prng.nextInt(255);
      c.corrupted++;
      this.fault('link.corrupt');
      fcsBad = this.to.checksFcs === true;
    }
    let arriveNs = departNs + p.latencyNs;
    if (p.reorder > 0 && this.prng.chance(p.reorder)) {
      arriveNs += p.reorderDelayNs;
      c.reordered++;
      this.fault('link.reorder');
    }
    const dup = p.duplicate > 0 && this.prng.chance(p.duplicate);
    if (dup) {
      c.duplicated++;
      this.fault('link.duplicate');
    }
    if (fcsBad) {
      // Same draws as a delivered frame (the fault sequence of a seed does not shift), but the
      // far end's FCS check discards the frame and its duplicate.
      c.fcsDropped += dup ? 2 : 1;
      return;
    }
    this.scheduleDelivery(arriveNs, f);
    if (dup) this.scheduleDelivery(arriveNs, f);
  }

  private scheduleDelivery(arriveNs: number, f: Uint8Array): void {
    if (arriveNs >= this.lastFifoArriveNs) {
      this.lastFifoArriveNs = arriveNs;
      this.fifo.push(f);
      this.sim.schedule(arriveNs, this.deliverNext);
    } else {
      this.sim.schedule(arriveNs, () => this.deliver(f));
    }
  }

  private deliver(frame: Uint8Array): void {
    this.counters.delivered++;
    if (this.captures.length > 0) {
      const t = this.sim.now();
      for (const cap of this.captures) cap.record(t, frame);
    }
    this.to.receive(frame);
  }
}

/**
 * A point-to-point link between end A and end B with independent per-direction properties.
 * Send into end A with `link.a.receive(frame)` (it arrives at B), into end B with `link.b`.
 * Delivery is a deadline on the simulation queue, so virtual time moves by the latency.
 * Randomness comes from `sim.prng.fork('link:<name>')` (one sub-stream per direction).
 */
export class Link {
  readonly name: string;
  /** Frames sent into `a` travel A→B. */
  readonly a: FramePort;
  /** Frames sent into `b` travel B→A. */
  readonly b: FramePort;
  private readonly lanes: Record<LinkDirection, Lane>;

  constructor(sim: Simulation, name: string, endA: FramePort, endB: FramePort, props: Partial<LinkProps> = {}, traceTid = 0) {
    validateProps(props);
    this.name = name;
    const prng = sim.prng.fork(`link:${name}`);
    const initial = { ...DEFAULT_LINK_PROPS, ...props };
    const aToB = new Lane(sim, prng.fork('aToB'), endB, { ...initial }, { link: name, direction: 'aToB' }, traceTid);
    const bToA = new Lane(sim, prng.fork('bToA'), endA, { ...initial }, { link: name, direction: 'bToA' }, traceTid);
    this.lanes = { aToB, bToA };
    this.a = aToB;
    this.b = bToA;
  }

  /** Change properties of one direction or both (default). Takes effect for frames sent from now on. */
  setProps(partial: Partial<LinkProps>, direction: LinkDirection | 'both' = 'both'): void {
    validateProps(partial);
    for (const d of direction === 'both' ? (['aToB', 'bToA'] as const) : [direction]) {
      this.lanes[d].props = { ...this.lanes[d].props, ...partial };
    }
  }

  props(direction: LinkDirection): Readonly<LinkProps> {
    return { ...this.lanes[direction].props };
  }

  /** Counters of one direction. Live object. */
  counters(direction: LinkDirection): Readonly<LinkCounters> {
    return this.lanes[direction].counters;
  }

  /** Both directions summed. */
  totals(): LinkCounters {
    const x = this.lanes.aToB.counters;
    const y = this.lanes.bToA.counters;
    return {
      sent: x.sent + y.sent,
      delivered: x.delivered + y.delivered,
      lost: x.lost + y.lost,
      duplicated: x.duplicated + y.duplicated,
      reordered: x.reordered + y.reordered,
      corrupted: x.corrupted + y.corrupted,
      fcsDropped: x.fcsDropped + y.fcsDropped,
    };
  }

  /** Record frames as they are delivered (arrival time, as the receiver sees them), both directions by default. */
  capture(writer: FrameCapture, direction: LinkDirection | 'both' = 'both'): void {
    for (const d of direction === 'both' ? (['aToB', 'bToA'] as const) : [direction]) this.lanes[d].captures.push(writer);
  }
}

/** Options of `NetworkFabric.connect`: initial link properties plus a link name. */
export type ConnectOptions = Partial<LinkProps> & {
  /** Link name (PRNG label `link:<name>`). Default `<fabric>:port<N>`. Must be unique for independent streams. */
  name?: string;
};

/**
 * A switched Ethernet segment: one `L2Switch` and a `Link` per connected endpoint. End A of each
 * link is the endpoint, end B the switch port.
 */
export class NetworkFabric {
  readonly name: string;
  readonly switch: L2Switch;
  private readonly sim: Simulation;
  private readonly _links: Link[] = [];
  private readonly ports = new Map<Link, SwitchPort>();

  constructor(sim: Simulation, options: { name?: string } = {}) {
    this.sim = sim;
    this.name = options.name ?? 'fabric';
    this.switch = new L2Switch(sim, { name: this.name });
  }

  get links(): readonly Link[] {
    return this._links;
  }

  /**
   * Connect an endpoint through a new link to a new switch port. If the endpoint has `attach`
   * (a `VirtioNetDevice`, a `UdpTapBridge`), its transmit side is attached to the link; otherwise
   * send into `link.a` yourself.
   */
  connect(endpoint: FramePort | NetworkEndpoint, options: ConnectOptions = {}): Link {
    const { name, ...props } = options;
    const port: SwitchPort = this.switch.addPort();
    const link = new Link(this.sim, name ?? `${this.name}:port${port.index}`, endpoint, port, props, port.index);
    port.connect(link.b);
    if (typeof (endpoint as Partial<NetworkEndpoint>).attach === 'function') (endpoint as NetworkEndpoint).attach(link.a);
    this._links.push(link);
    this.ports.set(link, port);
    return link;
  }

  /**
   * Record every frame that enters the fabric from any endpoint (connected now or later, through a
   * link or plugged straight into the switch), once, as it reaches the switch: both directions of
   * every conversation, including the frames a TAP bridge brings in from Linux.
   */
  capture(writer: FrameCapture): void {
    this.switch.captureIngress(writer);
  }

  /** The switch port `link` connects to (undefined once disconnected). */
  portOf(link: Link): SwitchPort | undefined {
    return this.ports.get(link);
  }

  /**
   * Removes a link (its endpoint's machine is gone): the link drops what is sent into it, the
   * switch port is unplugged and forgets its addresses, so nothing here keeps the endpoint alive.
   */
  disconnect(link: Link): void {
    const port = this.ports.get(link);
    if (port === undefined) return;
    link.setProps({ partitioned: true });
    this.switch.unplug(port);
    this.ports.delete(link);
    this._links.splice(this._links.indexOf(link), 1);
  }
}

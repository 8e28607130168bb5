/**
 * Introspection: what a tool (the `ebbrt run --ui` dashboard, the playground) may read of a
 * running node, as plain data. The Ebbs declare what they can report as optional members of
 * their roots ({@link NetworkManagerRoot.networkStats}, {@link MessengerRoot.traffic}; the
 * allocator's `stats()` is required already); a platform's node answers
 * {@link PlatformNode.introspect} by reading them. Nothing is collected until someone asks:
 * no counter here is kept for the tool's sake on a hot path.
 */
import type { EbbId } from './ids.js';
import type { EventManagerRoot } from './ebbs/event-manager.js';
import type { AllocatorStats, MemoryAllocatorRoot } from './ebbs/memory-allocator.js';
import type { MessengerRoot } from './ebbs/messenger.js';
import type { Ipv4String, NetworkManagerRoot } from './ebbs/network-manager.js';

/** One TCP connection of a stack, as a tool shows it. */
export interface TcpConnectionInfo {
  readonly localAddress: Ipv4String;
  readonly localPort: number;
  readonly remoteAddress: Ipv4String;
  readonly remotePort: number;
  /** The RFC 9293 state name (ESTABLISHED, SYN-SENT, ...). */
  readonly state: string;
  /** The core its callbacks run on. */
  readonly core: number;
  /** Payload bytes sent and not yet acknowledged, plus bytes queued behind the window. */
  readonly sendQueued: number;
  /** Received bytes held for a paused receiver, plus out-of-order bytes awaiting a gap. */
  readonly receiveQueued: number;
}

/** A stack's counters, by layer; every drop is counted under one reason in `drops`. */
/**
 * A set of named counts (a device's, a driver's, a stack's): what a tool prints by name. Counter
 * records are declared as type aliases (not interfaces) so that they are assignable to it.
 */
export type Counters = { readonly [name: string]: number };

export interface NetworkStats {
  /** The NIC's device counters (virtio-net: frames, bytes, interrupts, fault injections). */
  readonly nic: Counters;
  /** Interface and transport traffic counters (frames, segments, retransmits, ...). */
  readonly stack: Counters;
  /** Drops by reason (`ipv4.badChecksum`, `tcp.backlogDrops`, `nic.rxDroppedNoBuffer`, ...): the non-zero ones. */
  readonly drops: Counters;
  readonly connections: readonly TcpConnectionInfo[];
}

/** Messenger traffic to and from one peer node. */
export interface PeerTraffic {
  readonly peer: number;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
}

export interface MessengerTraffic {
  readonly peers: readonly PeerTraffic[];
  /** Messages dropped (no handler), handler errors, protocol errors. */
  readonly errors: Counters;
}

/** Which implementation an Ebb id resolved to on a node. */
export interface EbbImplementation {
  /** The system interface (EventManager, Messenger, ...). */
  readonly kind: string;
  readonly id: EbbId;
  readonly packageName: string;
}

/**
 * One simulated core's counters, as a live view reads them (the machine's PMU-like core stats
 * plus what the core's Event Manager reports). Rates are the reader's job: these are totals.
 */
export interface CoreIntrospection {
  readonly index: number;
  /** running (runnable), halted, off. */
  readonly state: string;
  /** Slices the scheduler ran on the core. */
  readonly slices: number;
  /** Host milliseconds spent in the core's slices while the simulation sampled cores. */
  readonly busyHostMs: number;
  readonly eventsDispatched?: number;
  /** Events queued and not yet started. */
  readonly eventsQueued?: number;
  /** The oldest event that started and has not finished (blocked on an await), and its age in simulation ns. */
  readonly oldestEvent?: { readonly name: string; readonly ageNs: number };
}

/** One span or instant of a node's simulation trace, as a live view's trace panel shows it. */
export interface TraceEventInfo {
  readonly core: number;
  readonly ph: 'X' | 'i';
  readonly name: string;
  /** On the node's own simulation clock (a node in its own process has its own). */
  readonly tsNs: number;
  readonly durNs: number;
}

/** A node's trace events after a cursor: a page of what the node keeps (a bounded ring). */
export interface NodeTraceBatch {
  readonly events: readonly TraceEventInfo[];
  /** Events after the cursor that are gone (overwritten, or beyond the answer's limit). */
  readonly skipped: number;
  /** The cursor to ask with next time. */
  readonly last: number;
}

/** What a tool asks of {@link PlatformNode.introspect} beyond the stats. */
export interface IntrospectOptions {
  /**
   * Also send the node's trace events after this cursor (0 the first time). The first ask turns
   * the node's trace tap on; a node nobody asks keeps none.
   */
  readonly traceAfter?: number;
}

/** A node's state as a tool reads it: plain data (it crosses a process boundary as JSON). */
export interface NodeIntrospection {
  readonly networkId: number;
  readonly ebbs: readonly EbbImplementation[];
  /** Events dispatched on every core. */
  readonly events?: number;
  readonly memory?: AllocatorStats;
  readonly network?: NetworkStats;
  readonly messenger?: MessengerTraffic;
  /** Per-core counters, when the node runs on a simulated machine the answerer can read. */
  readonly cores?: readonly CoreIntrospection[];
  /** The node's trace events after the asked cursor (only a node whose trace the caller cannot tap itself). */
  readonly trace?: NodeTraceBatch;
  /**
   * The answerer's simulation clock (ns) when it answered: a node with its own clock (its own
   * process) sends it, so a tool can map that node's trace times onto its own clock.
   */
  readonly nowNs?: number;
}

/** The roots {@link introspectRoots} reads; whichever the node has. */
export interface IntrospectedRoots {
  readonly events?: EventManagerRoot;
  readonly memory?: MemoryAllocatorRoot;
  readonly network?: NetworkManagerRoot;
  readonly messenger?: MessengerRoot;
}

/**
 * Reads a node's roots through their declared stats members (call outside any event, like
 * `--stats`): one source for every tool, whoever holds the roots (the runtime, a node agent,
 * the playground's own world).
 */
export function introspectRoots(networkId: number, ebbs: readonly EbbImplementation[], roots: IntrospectedRoots): NodeIntrospection {
  const network = roots.network?.networkStats?.();
  const messenger = roots.messenger?.traffic?.();
  return {
    networkId,
    ebbs,
    ...(roots.events !== undefined ? { events: roots.events.totalEvents() } : {}),
    ...(roots.memory !== undefined ? { memory: roots.memory.stats() } : {}),
    ...(network !== undefined ? { network } : {}),
    ...(messenger !== undefined ? { messenger } : {}),
  };
}

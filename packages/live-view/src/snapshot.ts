/** What the live view shows: plain data, made by whoever runs the simulation (a page, the CLI). */

export interface CoreSnapshot {
  index: number;
  /** The core's run state: running (runnable), halted, off; `hosted` for a front-end's host threads. */
  state: string;
  /** Slices the scheduler ran on the core so far. */
  slices?: number;
  /** Events dispatched per host (wall) second since the previous snapshot. */
  eventsPerSec?: number;
  /** Events queued on the core and not yet started. */
  queued?: number;
  /** Share of host wall time since the previous snapshot not spent in this core's slices (0..100). */
  idlePct?: number;
  /** The oldest event that started and has not finished (blocked), its age in simulation ms, and whether it is past the watchdog budget. */
  oldest?: { name: string; ageMs: number; late: boolean };
}

export type NodeState = 'allocated' | 'dormant' | 'dead';

export interface NodeSnapshot {
  id: number;
  name: string;
  state: NodeState;
  /** `frontend` for node 0, the hosted front-end (it runs on the host, not a simulated machine). */
  role?: 'frontend' | 'backend';
  /** Ebb implementations by system Ebb name, when known. */
  ebbs?: Record<string, string>;
  cores: CoreSnapshot[];
  /** Events dispatched on the node, when its Event Manager is reachable. */
  events?: number;
  memory?: { totalBytes: number; freePageBytes: number };
  /** NIC device counters (virtio-net stats); empty for a hosted node (the host kernel's NIC). */
  nic?: Record<string, number>;
  /** The stack's counters (interface, TCP; a hosted node's sockets and bytes). */
  stack?: Record<string, number>;
  /** Drops by reason (`iface.ipBadChecksum`, `nic.rxDroppedNoBuffer`, `tcp.error.ECONNRESET`, ...). */
  drops?: Record<string, number>;
  link?: { sent: number; delivered: number; lost: number };
  connections?: { peer: number | undefined; outgoing: boolean; state: string; core: number }[];
  /** Live TCP connections of the node's stack. */
  tcp?: { local: string; remote: string; state: string; sendQueued: number; receiveQueued: number }[];
  messagesSent?: number;
  messagesReceived?: number;
  /** Why a dead node died. */
  cause?: string;
  /**
   * A node that keeps its own trace (its own process): events its ring dropped before the
   * dashboard read them, so far.
   */
  traceSkipped?: number;
}

/** Messenger traffic from one node to another (an arrow in the graph). */
export interface EdgeSnapshot {
  from: number;
  to: number;
  messages: number;
  bytes: number;
}

/** What the page's pause / step / resume buttons may do now. */
export interface ControlState {
  /** False under a realtime clock (or when the view has no control endpoint). */
  available: boolean;
  /** Why the buttons are off, when they are. */
  reason?: string;
  paused: boolean;
}

export interface LiveSnapshot {
  timeNs: number;
  clock: 'virtual' | 'realtime';
  control?: ControlState;
  nodes: NodeSnapshot[];
  edges: EdgeSnapshot[];
  /** World-wide counters (core slices run, ...), shown in the header. */
  counters?: Record<string, number>;
}

/** What the live view shows: plain data, made by whoever runs the simulation (a page, the CLI). */

export interface CoreSnapshot {
  index: number;
  /** The core's run state: running (runnable), halted, off. */
  state: string;
}

export type NodeState = 'allocated' | 'dormant' | 'dead';

export interface NodeSnapshot {
  id: number;
  name: string;
  state: NodeState;
  /** Ebb implementations by system Ebb name, when known. */
  ebbs?: Record<string, string>;
  cores: CoreSnapshot[];
  /** Events dispatched on the node, when its Event Manager is reachable. */
  events?: number;
  memory?: { totalBytes: number; freePageBytes: number };
  /** NIC counters (virtio-net stats), drop reasons included. */
  nic?: Record<string, number>;
  link?: { sent: number; delivered: number; lost: number };
  connections?: { peer: number | undefined; outgoing: boolean; state: string; core: number }[];
  /** Live TCP connections of the node's stack. */
  tcp?: { local: string; remote: string; state: string; sendQueued: number; receiveQueued: number }[];
  messagesSent?: number;
  messagesReceived?: number;
  /** Why a dead node died. */
  cause?: string;
}

/** Messenger traffic from one node to another (an arrow in the graph). */
export interface EdgeSnapshot {
  from: number;
  to: number;
  messages: number;
  bytes: number;
}

export interface LiveSnapshot {
  timeNs: number;
  clock: 'virtual' | 'realtime';
  nodes: NodeSnapshot[];
  edges: EdgeSnapshot[];
  /** World-wide counters (core slices run, ...), shown in the header. */
  counters?: Record<string, number>;
}

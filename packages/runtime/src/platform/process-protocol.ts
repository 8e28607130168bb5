/** Messages between the front-end and a node process (Node IPC, structured clone). */

export interface BootRequest {
  type: 'boot';
  appDir: string;
  configFile: string | undefined;
  resolveFrom: readonly string[];
  networkId: number;
  cores: number;
  memoryBytes: number;
  seed: number;
  /** The front-end Messenger's host port: a dormant node connects ahead, so a hand-out is quick. */
  frontendPort: number;
}

export interface ActivateRequest {
  type: 'activate';
  image: string;
  args: readonly string[];
  /** The front-end Messenger's host port. */
  frontendPort: number;
  /** Every other live node: its Messenger's host port (its own port forward). */
  peers: readonly { id: number; port: number }[];
}

export type ToNode =
  | BootRequest
  | ActivateRequest
  | { type: 'peer'; id: number; port: number }
  | { type: 'forget'; id: number };

export type FromNode =
  /** Booted to dormant; its Messenger is reachable on this host port. */
  | { type: 'dormant'; forwardPort: number }
  /** The agent ran on the node: Ebbs verified, main called. */
  | { type: 'started' }
  | { type: 'line'; line: string }
  | { type: 'failure'; core: number; eventId: number; message: string }
  | { type: 'exit'; code: number }
  | { type: 'error'; message: string };

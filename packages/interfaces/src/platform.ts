/**
 * NodePlatform packages: where back-end nodes run, named in the config like an Ebb
 * (`backend.platform: '@acme/platform-slurm'` or `{ package, options }`). The runtime resolves the
 * package, validates its `platform` manifest and options (errors name
 * `config.backend.platform.options.<field>`), and hands its factory a {@link PlatformHost}: what
 * the runtime offers a platform, whichever way it places nodes. The NodeAllocator Ebb then boots
 * and frees nodes through the {@link NodePlatform} the factory returns.
 */
import { z } from 'zod';
import { ConfigError, PackageResolutionError } from './errors.js';
import type { EventFailure } from './ebbs/event-manager.js';
import type { DormantNode, NodePlatform, NodeRuntimeInfo, NodeShape } from './ebbs/node-allocator.js';
import { parseOrThrow } from './validation.js';
import type { IntrospectOptions, NodeIntrospection } from './introspection.js';

/** A platform's node, as the runtime and tools see it. */
export interface PlatformNode extends DormantNode {
  /** Simulates a crash (power loss, the process killed): `died` resolves with `reason`, the allocator frees it. */
  kill(reason?: string): void;
  /**
   * True once the node's image has started (handed out by the allocator); false while it is
   * dormant (booted, in the pool). Absent: the platform does not say.
   */
  readonly activated?: boolean;
  /**
   * Reads the node's Ebbs' stats on demand (for a tool's snapshot; nothing is collected
   * otherwise). Absent when the platform cannot reach the node's Ebbs. `traceAfter` asks a node
   * whose simulation runs elsewhere (its own process) for its trace events too.
   */
  introspect?(options?: IntrospectOptions): Promise<NodeIntrospection>;
}

/** What the runtime holds of a platform for a run: the allocator's seam plus its nodes. */
export interface ManagedPlatform extends NodePlatform {
  /** The live (booted, not freed) nodes. */
  readonly liveNodes: readonly PlatformNode[];
  node(networkId: number): PlatformNode | undefined;
  /** Called when a node's image has been started (its agent ran), before it reports back. */
  onActivated(listener: (node: PlatformNode) => void): void;
}

/**
 * Nodes in this process's simulation. The runtime boots them (machine, NIC, system Ebbs, the
 * Messenger link); a platform that places nodes here decides only ids, bookkeeping and death.
 */
export interface LocalNodeHost {
  /** Boots node `networkId` of `shape` to dormant. Rejects leaving nothing behind. */
  boot(networkId: number, shape: NodeShape): Promise<LocalNode>;
}

export interface LocalNode {
  /**
   * Loads the image and runs the node's agent on core 0 (verify, report, main); `posted` is called
   * once the agent event is queued. Resolves when the node has reported back.
   */
  activate(info: NodeRuntimeInfo, posted: () => void): Promise<void>;
  /** The machine loses power (its cores stop). */
  powerOff(): void;
  /** Frees everything: unlinked, NIC unplugged, machine destroyed. */
  release(): void;
  /** The node's Ebbs and their stats, read now (outside any event). */
  introspect(): NodeIntrospection;
}

/** Where nodes that run elsewhere reach the front-end's Messenger, and how it learns of them. */
export interface FrontendLink {
  /** The front-end Messenger's address as nodes on this host reach it (a node process dials host:port). */
  readonly messenger: { readonly host: string; readonly port: number };
  /** Node `networkId`'s Messenger is reachable at `address:port` (from the front-end's host). */
  setPeer(networkId: number, address: string, port: number): void;
  /** Resolves once node `networkId` has reported back (its READY reached the front-end). */
  reported(networkId: number): Promise<void>;
  /** Node `networkId` is gone: the front-end forgets it. */
  unlink(networkId: number): void;
}

/**
 * How to start the runtime's node agent in a process of its own: `command` + `args` runs a
 * program that boots one back-end node (its own realtime simulation, the node's machine and a
 * gateway) and speaks {@link AgentToNode}/{@link AgentFromNode} with whoever started it: over
 * Node's IPC channel (`spawn` with an `'ipc'` stdio slot), or, when its environment has
 * `EBBRT_AGENT_CONTROL=host:port`, over one TCP connection it opens to `host:port`, one JSON
 * message per line (for launchers that cannot pass IPC: srun, ssh). The agent exits when the
 * channel closes.
 */
export interface NodeAgentCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** What the runtime gives a platform's factory. */
export interface PlatformHost {
  /** The application, so a node elsewhere loads the same config and images. */
  readonly app: {
    readonly dir: string;
    readonly configFile: string | undefined;
    readonly resolveFrom: readonly string[];
    readonly seed: number;
  };
  /** A line on the front-end's console. */
  output(line: string): void;
  /** A node's event failed: reported, and the run's exit code becomes 1. */
  reportFailure(failure: EventFailure): void;
  /** A node asked the whole application to exit. */
  requestExit(code: number): void;
  /** This process's simulation, for `placement: 'local'` platforms (undefined for remote ones). */
  readonly local: LocalNodeHost | undefined;
  /**
   * The front-end's Messenger link, once it is up (the runtime calls a platform's `boot` only
   * after that). Undefined when the run has none (a virtual clock, no network).
   */
  frontend(): FrontendLink | undefined;
  /** The node agent, for `placement: 'remote'` platforms. */
  readonly agent: NodeAgentCommand;
}

/** The `platform` export of a NodePlatform package. */
export interface PlatformManifest<Options = unknown> {
  readonly name: string;
  readonly implements: 'NodePlatform';
  readonly description?: string;
  /**
   * `local`: nodes are machines in this process's simulation (the runtime builds the network here).
   * `remote`: each node runs the node agent in a process of its own, with its own network.
   */
  readonly placement: 'local' | 'remote';
  /** What the app's config must have: a realtime clock (real sockets), a network section. */
  readonly needs?: { readonly realtime?: boolean; readonly network?: boolean };
  readonly options?: z.ZodType<Options>;
  create(host: PlatformHost, options: Options): ManagedPlatform | Promise<ManagedPlatform>;
}

export const platformManifestSchema = z.object({
  name: z.string().min(1, 'must name the npm package'),
  implements: z.literal('NodePlatform', { error: () => "must be 'NodePlatform'" }),
  description: z.string().optional(),
  placement: z.enum(['local', 'remote'], { error: () => "must be 'local' or 'remote'" }),
  needs: z.strictObject({ realtime: z.boolean().optional(), network: z.boolean().optional() }).optional(),
  options: z
    .custom<z.ZodType>((v) => typeof (v as { safeParse?: unknown } | null)?.safeParse === 'function', { message: 'must be a zod schema' })
    .optional(),
  create: z.custom<PlatformManifest['create']>((v) => typeof v === 'function', { message: 'must be a function' }),
});

/** Helps authors: a typed identity that keeps `Options` inferred from the schema. */
export function definePlatformManifest<Options>(manifest: PlatformManifest<Options>): PlatformManifest<Options> {
  return manifest;
}

/** Validates an imported module's `platform` export; errors name the package and the field. */
export function validatePlatformManifest(packageName: string, exported: unknown): PlatformManifest {
  if (exported === undefined) throw new PackageResolutionError(packageName, 'exports no `platform` (a NodePlatform package exports `platform = definePlatformManifest({...})`)');
  try {
    return parseOrThrow(platformManifestSchema, exported, 'platform') as PlatformManifest;
  } catch (e) {
    if (e instanceof ConfigError) throw new PackageResolutionError(packageName, e.message);
    throw e;
  }
}

/** The platforms the config may name by a short name, and the packages they stand for. */
export const PLATFORM_SHORTHANDS: Readonly<Record<string, string>> = {
  'in-process': '@ebbrt/platform-in-process',
  process: '@ebbrt/platform-process',
};

// ------------------------------------------------------------------ the node agent's protocol

/** Front-end → node agent. */
export type AgentToNode =
  | {
      type: 'boot';
      appDir: string;
      configFile: string | undefined;
      resolveFrom: readonly string[];
      networkId: number;
      cores: number;
      memoryBytes: number;
      seed: number;
      /** The front-end Messenger's address: a dormant node connects ahead, so a hand-out is quick. */
      frontend: { host: string; port: number };
    }
  | {
      type: 'activate';
      image: string;
      args: readonly string[];
      frontend: { host: string; port: number };
      /** Every other live node: where its Messenger is reachable from the agent's host. */
      peers: readonly { id: number; host: string; port: number }[];
    }
  | { type: 'peer'; id: number; host: string; port: number }
  | { type: 'forget'; id: number }
  /**
   * Read the node's Ebbs' stats; answered by an `introspection` with the same `seq`. With
   * `traceAfter`, the answer carries the node's trace events after that cursor.
   */
  | { type: 'introspect'; seq: number; traceAfter?: number };

/** Node agent → front-end. */
export type AgentFromNode =
  /**
   * First line on a TCP control channel when the agent's environment has `EBBRT_AGENT_TOKEN`: which
   * launch this connection is (a cluster platform's one control port takes every node's dial).
   */
  | { type: 'hello'; token: string }
  /** Booted to dormant; its Messenger is reachable on the agent's host at this port. */
  | { type: 'dormant'; forwardPort: number }
  /** The agent ran on the node: Ebbs verified, main called. */
  | { type: 'started' }
  | { type: 'line'; line: string }
  | { type: 'failure'; core: number; eventId: number; message: string }
  | { type: 'exit'; code: number }
  | { type: 'introspection'; seq: number; data: NodeIntrospection }
  | { type: 'error'; message: string };

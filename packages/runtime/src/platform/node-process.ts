import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation, type Machine } from '@ebbrt/hw-x86sim';
import { UsageError, type AgentFromNode as FromNode, type AgentToNode as ToNode, type AppConfig, type MessengerDirectory } from '@ebbrt/interfaces';

type BootRequest = Extract<ToNode, { type: 'boot' }>;
type ActivateRequest = Extract<ToNode, { type: 'activate' }>;
import { appContext } from '../app-context.js';
import { bootBackend, bootGateway, type BackendBootDeps } from '../boot/backend-boot.js';
import type { BootedNode } from '../boot/boot-node.js';
import { loadEntry } from '../boot/load-entry.js';
import { verifyInterfaces } from '../boot/verify-interfaces.js';
import { introspectNode } from '../boot/introspect-node.js';
import { loadConfig } from '../config/load-config.js';
import { ModuleCache } from '../resolve/module-cache.js';
import { AppNetwork } from '@ebbrt/host-network';
import { agentChannel } from './agent-channel.js';
import { MessengerLink } from './messenger-link.js';
import { PeerRelays } from './peer-relay.js';
import type { NodeTrace } from './node-trace.js';

/** Where a node agent's forward to its Messenger listens (a cluster node: an address other hosts reach). */
export const AGENT_BIND_ENV = 'EBBRT_AGENT_BIND';

/**
 * A back-end in its own OS process: its own realtime simulation with the node's machine and a
 * gateway. The front-end reaches the node's Messenger through a port forward on this host; the
 * node reaches the front-end and the other nodes through the gateway's host access (every peer is
 * a port on 127.0.0.1). Console lines, event failures and exit requests go to the front-end.
 */
export function runNodeProcess(): void {
  const channel = agentChannel();
  const relays = new PeerRelays();
  const bindHost = process.env[AGENT_BIND_ENV] || '127.0.0.1';
  const send = (message: FromNode): void => channel.send(message);
  let node: { booted: BootedNode; network: AppNetwork; config: AppConfig; appDir: string; simulation: Simulation; machine: Machine; stopping: AbortController } | undefined;
  /** This node's trace for a dashboard: loaded and tapped at the first introspect that asks. */
  let trace: Promise<NodeTrace> | undefined;
  /** Images imported ahead (the config's back-end entry, while dormant) or on activation. */
  const images = new Map<string, ReturnType<typeof loadEntry>>();
  /** This node process's imports, kept across its boots (a node restarted under its old id boots again). */
  const modules = new ModuleCache();
  const image = (appDir: string, path: string): ReturnType<typeof loadEntry> => {
    let main = images.get(path);
    if (main === undefined) images.set(path, (main = loadEntry(appDir, path, 'config.entry.backend', modules)));
    return main;
  };
  const directory = (): MessengerDirectory => {
    const root = node?.booted.root('Messenger');
    if (root === undefined) throw new UsageError('a node process needs a Messenger (config.backend.ebbs.Messenger): the front-end reaches it through one');
    return root;
  };

  /** Host ports opened at the gateway for peers (their forwards), by node id. */
  const peerPorts = new Map<number, number>();
  const setPeer = (id: number, port: number): void => {
    const network = node!.network;
    const before = peerPorts.get(id);
    if (before !== port) {
      network.openHostPort(port);
      if (before !== undefined) network.closeHostPort(before);
      peerPorts.set(id, port);
    }
    directory().setPeer(id, network.gatewayAddress, port);
  };

  async function boot(request: BootRequest): Promise<void> {
    const appDir = resolve(request.appDir);
    const { config } = await loadConfig(appDir, request.configFile, modules);
    const simulation = new Simulation({ seed: request.seed, clock: 'realtime', console: 'silent' });
    // The node's own segment: only the node and its gateway (front-end side effects stay in the front-end).
    const network = new AppNetwork(simulation, { ...config.network!, forwards: [], tap: undefined, pcap: undefined }, appDir, true);
    const output = (line: string): void => send({ type: 'line', line });
    const deps: BackendBootDeps = {
      config,
      simulation,
      network,
      output,
      resolve: { appDir, bases: [...request.resolveFrom, appDir, RUNTIME_DIR], preferSource: FROM_SOURCE, cache: new Map(), modules },
      implied: config.watchdog ? { EventManager: { watchdogBudgetUs: config.watchdog.budgetUs } } : {},
    };
    const machine = simulation.createMachine({ name: `node${request.networkId}`, cores: request.cores, memoryBytes: request.memoryBytes });
    network.attachBackend(machine, request.networkId);
    const booted = await bootBackend(deps, request.networkId, machine);
    booted.events.onEventFailure((f) => {
      const detail = f.error instanceof Error ? (f.error.stack ?? f.error.message) : String(f.error);
      booted.console.log(`event #${f.eventId} on core ${f.core} failed: ${detail}`);
      send({ type: 'failure', core: f.core, eventId: f.eventId, message: detail });
    });
    await network.prepare((m, address) => bootGateway(deps, m, address));
    const stopping = new AbortController();
    void simulation.run().then(() => process.exit(0));
    await network.open(output);
    node = { booted, network, config, appDir, simulation, machine, stopping };
    // A boot again (the node restarted under its id) has a new simulation: its trace is tapped afresh.
    trace = undefined;
    const forwardPort = await network.forwardToNode(request.networkId, directory().port, bindHost);
    // Dormant, but ready to be handed out at once: the likely image imported, the connection to
    // the front-end open.
    if (config.entry.backend !== undefined) image(appDir, config.entry.backend).catch(() => undefined);
    // Every peer of this node is a port on this host's loopback, reached through the gateway:
    // only those ports are opened, and only to this node (the gateway's source check). A peer on
    // another host is a loopback relay to it.
    const frontendPort = await relays.port(request.frontend.host, request.frontend.port);
    directory().setPeer(0, network.gatewayAddress, frontendPort);
    network.openHostPort(frontendPort);
    booted.events.post(0, () => MessengerLink.warmUp());
    send({ type: 'dormant', forwardPort });
  }

  async function activate(request: ActivateRequest): Promise<void> {
    const { booted, network, config, appDir, stopping } = node!;
    const gateway = network.gatewayAddress;
    const dir = directory();
    const frontendPort = await relays.port(request.frontend.host, request.frontend.port);
    network.openHostPort(frontendPort);
    dir.setPeer(0, gateway, frontendPort);
    for (const peer of request.peers) setPeer(peer.id, await relays.port(peer.host, peer.port));
    const main = await image(appDir, request.image);
    const context = appContext({
      role: 'backend',
      node: booted,
      config,
      args: request.args,
      exit: (code = 0) => send({ type: 'exit', code }),
      stopping: stopping.signal,
      backendIds: () => Promise.reject(new UsageError('backends() is for the front-end')),
    });
    booted.events.post(0, () => {
      verifyInterfaces(booted.installed);
      send({ type: 'started' });
      MessengerLink.report().catch((e: unknown) => send({ type: 'error', message: `reporting back failed: ${(e as Error).message}` }));
      return main(context);
    });
  }

  channel.onMessage((message: ToNode) => {
    // A handler that throws at once (a peer it cannot reach) is reported like one that rejects.
    const work = Promise.resolve().then(() => {
      switch (message.type) {
        case 'boot':
          return boot(message);
        case 'activate':
          return activate(message);
        case 'peer':
          return relays.port(message.host, message.port).then((port) => setPeer(message.id, port));
        case 'introspect':
          // Read between events from this process's own machine: the dashboard's data for this node.
          if (node !== undefined) {
            const n = node;
            // A watched node samples its cores' host time (idle %): off until a tool first asks.
            n.simulation.sampleCores = true;
            const after = message.traceAfter;
            if (after === undefined) {
              send({ type: 'introspection', seq: message.seq, data: introspectNode(n.booted, n.simulation) });
              return Promise.resolve();
            }
            trace ??= import('./node-trace.js').then(({ NodeTrace }) => new NodeTrace(n.simulation, n.machine));
            return trace.then((t) => send({ type: 'introspection', seq: message.seq, data: { ...introspectNode(n.booted, n.simulation), trace: t.since(after) } }));
          }
          return Promise.resolve();
        case 'forget': {
          directory().forgetPeer(message.id);
          const port = peerPorts.get(message.id);
          peerPorts.delete(message.id);
          if (port !== undefined) node!.network.closeHostPort(port);
          return Promise.resolve();
        }
      }
    });
    work.catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
  });
  // The front-end is this node's reason to exist: when it goes, so does the node. Freed
  // (SIGTERM), the app's `ctx.signal` aborts and it gets a moment to finish.
  channel.onClose(() => process.exit(0));
  process.once('SIGTERM', () => {
    node?.stopping.abort();
    setTimeout(() => process.exit(0), 50);
  });
}

const RUNTIME_DIR = fileURLToPath(new URL('..', import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');

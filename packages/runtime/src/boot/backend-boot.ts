import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import { ConfigError, type AppConfig, type EbbChoice, type SystemInterfaceName } from '@ebbrt/interfaces';
import type { AppNetwork } from '@ebbrt/host-network';
import { GATEWAY_NODE_ID, NATIVE_NETWORK_MANAGER } from '@ebbrt/host-network';
import type { ResolveOptions } from '../resolve/load-manifest.js';
import { bootNode, type BootedNode } from './boot-node.js';

export const DEFAULT_MESSENGER = '@ebbrt/messenger';
export const DEFAULT_GLOBAL_ID_MAP = '@ebbrt/global-id-map';
export const DEFAULT_FILE_SYSTEM = '@ebbrt/file-system';

type Implied = Partial<Record<SystemInterfaceName, Record<string, unknown>>>;

/** What booting a back-end (or the gateway) needs; shared by this process and a node process. */
export interface BackendBootDeps {
  config: AppConfig;
  simulation: Simulation;
  network: AppNetwork | undefined;
  output(line: string): void;
  resolve: ResolveOptions;
  /** Options implied for every node (the watchdog budget). */
  implied: Implied;
}

/**
 * A back-end's Ebb choices, unless named: on a network, the native stack and the Messenger, and
 * the GlobalIdMap and FileSystem the front-end serves (it is linked on a network in real time
 * through host sockets and under the virtual clock through the gateway bridge).
 */
export function backendChoices(config: AppConfig, onNetwork: boolean): Partial<Record<SystemInterfaceName, EbbChoice>> {
  const named = config.backend?.ebbs ?? {};
  if (!onNetwork) return named;
  return { NetworkManager: NATIVE_NETWORK_MANAGER, Messenger: DEFAULT_MESSENGER, GlobalIdMap: DEFAULT_GLOBAL_ID_MAP, FileSystem: DEFAULT_FILE_SYSTEM, ...named };
}

/**
 * Boots back-end `id`'s system Ebbs on `machine`, its address implied by the network. A restarted
 * node (`incarnation` > 0) tells its peers so in its Messenger's HELLO (the default Messenger's
 * `incarnation` option), so they drop the connections of its previous life.
 */
export function bootBackend(deps: BackendBootDeps, id: number, machine: Machine, incarnation = 0): Promise<BootedNode> {
  const { config, network } = deps;
  const choices = backendChoices(config, network !== undefined);
  const messenger = choices.Messenger;
  const defaultMessenger = messenger === DEFAULT_MESSENGER || (typeof messenger === 'object' && messenger.package === DEFAULT_MESSENGER);
  const implied = incarnation > 0 && defaultMessenger ? { ...deps.implied, Messenger: { ...deps.implied.Messenger, incarnation } } : deps.implied;
  return bootNode({
    id,
    label: `node ${id}`,
    target: 'native',
    numCores: machine.cores.length,
    section: 'backend',
    choices,
    implied: { ...implied, ...offloadFaultOptions(config, choices), ...(network === undefined ? {} : { NetworkManager: network.impliedOptions(id) }) },
    machine,
    simulation: deps.simulation,
    output: deps.output,
    resolve: deps.resolve,
  });
}

/** Boots the network's gateway node: the native stack, tuned like the back-ends' when they use it. */
export function bootGateway(deps: BackendBootDeps, machine: Machine, address: string): Promise<BootedNode> {
  return bootNode({
    id: GATEWAY_NODE_ID,
    label: 'gateway',
    target: 'native',
    numCores: machine.cores.length,
    section: 'network',
    choices: { NetworkManager: NATIVE_NETWORK_MANAGER },
    implied: { NetworkManager: { ...gatewayStackOptions(deps.config), address } },
    machine,
    simulation: deps.simulation,
    output: deps.output,
    resolve: deps.resolve,
  });
}

/** The back-ends' native NetworkManager options (without their address), for the gateway. */
function gatewayStackOptions(config: AppConfig): Record<string, unknown> {
  const choice = config.backend?.ebbs.NetworkManager;
  if (typeof choice !== 'object' || choice.package !== NATIVE_NETWORK_MANAGER) return {};
  const { address: _address, mac: _mac, ...rest } = choice.options ?? {};
  return rest;
}

/**
 * `faults.offload.<service>` as the back-ends' FileSystem / GlobalIdMap `faults` option. The
 * faults are this repo's packages' (they draw per request): another implementation is refused
 * naming the field, rather than the fault being silently ignored.
 */
function offloadFaultOptions(config: AppConfig, choices: Partial<Record<SystemInterfaceName, EbbChoice>>): Implied {
  const offload = config.faults?.offload;
  if (offload === undefined) return {};
  const out: Implied = {};
  const services = [
    ['fileSystem', 'FileSystem', DEFAULT_FILE_SYSTEM],
    ['globalIdMap', 'GlobalIdMap', DEFAULT_GLOBAL_ID_MAP],
  ] as const;
  for (const [key, kind, pkg] of services) {
    const plan = offload[key];
    // A plan the seed runner emptied (every fault switched off) asks for nothing.
    if (plan === undefined || (plan.fail === undefined && plan.delay === undefined)) continue;
    const choice = choices[kind];
    const name = choice === undefined ? undefined : typeof choice === 'string' ? choice : choice.package;
    if (name !== pkg) {
      throw new ConfigError(`config.faults.offload.${key}`, `injects faults into ${pkg} on the back-ends, but their ${kind} is ${name ?? 'not installed (no network)'}`);
    }
    out[kind] = { faults: plan };
  }
  return out;
}

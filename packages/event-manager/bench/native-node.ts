/** The node the event-loop benches time: one simulated machine with the native Event Manager installed. */
import { NodeContext } from '@ebbrt/core-translation';
import { Simulation, type SteppingMode } from '@ebbrt/hw-x86sim';
import { SystemEbbIds } from '@ebbrt/interfaces';
import { eventManagerOptionsSchema, manifest, type NativeEventManagerRoot } from '../src/index.js';

/** Seed 1, 1 MiB; `stepping` left out is the simulation's default. */
export async function bootNativeEventManager(
  cores: number,
  options: Record<string, unknown> = {},
  stepping?: SteppingMode,
): Promise<{ sim: Simulation; root: NativeEventManagerRoot }> {
  const sim = new Simulation(stepping === undefined ? { seed: 1 } : { seed: 1, stepping });
  const machine = sim.createMachine({ cores, memoryBytes: 1 << 20 });
  const node = new NodeContext({ id: 1, numCores: cores, target: 'native', idSpace: 2 });
  const root = (await manifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'native', machine, simulation: sim, log: () => {} },
    eventManagerOptionsSchema.parse(options),
  )) as NativeEventManagerRoot;
  node.install(SystemEbbIds.EventManager, root);
  return { sim, root };
}

import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import type { AppConfig } from '@ebbrt/interfaces';

/**
 * Where back-end machines come from. The runtime boots them directly until the
 * NodeAllocator lands; then the allocator plugs in here (pools, other processes).
 */
export interface BackendProvider {
  provision(simulation: Simulation, nodeId: number, machine: NonNullable<AppConfig['backend']>['machine']): Machine;
}

/** Creates each back-end as a fresh machine in the simulation. */
export const directBackends: BackendProvider = {
  provision(simulation, nodeId, machine) {
    const m = simulation.createMachine({
      name: `node${nodeId}`,
      cores: machine.cores,
      memoryBytes: machine.memory,
      numaNodes: machine.numaNodes,
    });
    // Validated by the config schema (config.backend.machine.faults); before boot, so the Timer sees it.
    if (machine.faults !== undefined) m.setCoreFaults(machine.faults);
    return m;
  },
};

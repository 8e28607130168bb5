import type { EbbInstallContext } from '@ebbrt/interfaces';
import { Machine, Simulation } from '@ebbrt/hw-x86sim';

/** The simulated machine a native install context names, checked. */
export function nativeHardware(context: EbbInstallContext): { machine: Machine; simulation: Simulation } {
  const { machine, simulation } = context;
  if (!(machine instanceof Machine) || !(simulation instanceof Simulation)) {
    throw new TypeError(`node ${context.node.id}: the native target needs a hw-x86sim Machine and Simulation`);
  }
  return { machine, simulation };
}

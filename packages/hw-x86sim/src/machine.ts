import { Core } from './core.js';
import type { SimulationHost } from './host.js';
import type { MachineConfig } from './machine-config.js';
import { validateMachineConfig } from './machine-config.js';
import { PhysicalMemory } from './memory.js';
import { SerialConsole } from './serial.js';

/** One simulated x86 machine: cores with local APICs, physical memory, a serial console. */
export class Machine {
  /** Assigned by the simulation in creation order: 0, 1, 2... */
  readonly id: number;
  readonly name: string;
  readonly cores: readonly Core[];
  readonly memory: PhysicalMemory;
  readonly serial: SerialConsole;
  readonly numaNodes: number;
  private _poweredOn = true;

  /** @internal use `Simulation.createMachine`. */
  constructor(id: number, config: MachineConfig, host: SimulationHost) {
    const c = validateMachineConfig(config);
    this.id = id;
    this.name = c.name ?? `machine${id}`;
    this.numaNodes = c.numaNodes;
    this.memory = new PhysicalMemory(c.memoryBytes, c.numaNodes);
    this.serial = new SerialConsole();
    if (host.consoleToStdout) {
      const prefix = `[${this.name}] `;
      this.serial.onLine((line) => process.stdout.write(prefix + line + '\n'));
    }
    const cores: Core[] = [];
    for (let i = 0; i < c.cores; i++) cores.push(new Core(this, i, host));
    this.cores = Object.freeze(cores);
    if (host.trace.enabled) {
      const pid = this.tracePid;
      host.trace.processName(pid, this.name);
      for (let i = 0; i < c.cores; i++) host.trace.threadName(pid, i, `core ${i}`);
    }
  }

  /** Trace process id of this machine (id + 1). */
  get tracePid(): number {
    return this.id + 1;
  }

  get poweredOn(): boolean {
    return this._poweredOn;
  }

  /** The NUMA node a core belongs to (cores are spread evenly over nodes, in order). */
  nodeOfCore(coreIndex: number): number {
    return Math.floor((coreIndex * this.numaNodes) / this.cores.length);
  }

  /** Stop every core and disarm every APIC timer. Memory contents stay (inspectable post-mortem). */
  powerOff(): void {
    for (const core of this.cores) core.stop();
    this._poweredOn = false;
  }
}

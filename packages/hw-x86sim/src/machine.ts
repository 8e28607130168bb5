import { Core } from './core.js';
import { LocalClock, validateCoreFaults, type CoreFaults } from './core-faults.js';
import type { Prng } from './prng.js';
import type { TraceArgs } from './trace.js';
import type { SimulationHost } from './host.js';
import type { MachineConfig } from './machine-config.js';
import { validateMachineConfig } from './machine-config.js';
import { PhysicalMemory } from './memory.js';
import { SerialConsole } from './serial.js';

/** One simulated x86 machine: cores with local APICs, physical memory, a serial console. */
/** Something on a machine's bus that a driver can claim (a virtio-net NIC, ...). */
export interface MachineDevice {
  /** Bus-visible device kind, e.g. 'virtio-net'. */
  readonly kind: string;
  readonly machine: Machine;
}

export class Machine {
  /** Assigned by the simulation in creation order: 0, 1, 2... */
  readonly id: number;
  readonly name: string;
  readonly cores: readonly Core[];
  readonly memory: PhysicalMemory;
  readonly serial: SerialConsole;
  readonly numaNodes: number;
  private _poweredOn = true;
  private readonly _devices: MachineDevice[] = [];
  private readonly claimed = new Set<MachineDevice>();
  private readonly host: SimulationHost;
  /** @internal null while the clock is exact (no drift, no skew): then local time is simulation time. */
  _clock: LocalClock | null = null;
  /** @internal interrupt-delay draws; null (no PRNG stream) while that fault is off. */
  _interruptDelay: { probability: number; maxNs: number; prng: Prng } | null = null;
  /** @internal stall draws; null while that fault is off. */
  _stall: { probability: number; maxNs: number; prng: Prng } | null = null;
  private faultPrng: Prng | undefined;

  /** @internal use `Simulation.createMachine`. */
  constructor(id: number, config: MachineConfig, host: SimulationHost) {
    const c = validateMachineConfig(config);
    this.host = host;
    this.id = id;
    this.name = c.name ?? `machine${id}`;
    this.numaNodes = c.numaNodes;
    try {
      this.memory = new PhysicalMemory(c.memoryBytes, c.numaNodes, host.memory?.take(c.memoryBytes, host.guestMemory), host.guestMemory);
    } catch (e) {
      // The host ran out (too many machines, or too large ones): say which machine asked.
      throw e instanceof RangeError && e.message.startsWith('could not allocate') ? new RangeError(`machine ${this.name}: ${e.message}`, { cause: e }) : e;
    }
    this.serial = new SerialConsole();
    if (host.consoleToStdout) {
      const prefix = `[${this.name}] `;
      // Node's stdout when there is one (unbuffered by console), else the browser tab's console.
      const stdout = (globalThis as { process?: { stdout?: { write(s: string): unknown } } }).process?.stdout;
      this.serial.onLine(stdout !== undefined ? (line) => void stdout.write(prefix + line + '\n') : (line) => console.log(prefix + line));
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

  /**
   * Turns core faults on (see core-faults.ts): late interrupts and a skewed, drifting clock drawn
   * from `sim.prng.fork('core-faults:<name>')`. Each drawn clock is recorded once as a
   * `core.clock` fault. Call before software reads the clock (at boot); `{}` turns them off.
   */
  setCoreFaults(faults: CoreFaults): void {
    validateCoreFaults(faults);
    const prng = (this.faultPrng ??= this.host.prng.fork(`core-faults:${this.name}`));
    this._interruptDelay = faults.interruptDelay === undefined || faults.interruptDelay.probability === 0 ? null : { ...faults.interruptDelay, prng };
    this._stall = faults.stall === undefined || faults.stall.probability === 0 ? null : { ...faults.stall, prng };
    this._clock = null;
    if (faults.clock !== undefined) {
      const clock = LocalClock.draw(prng, faults.clock);
      if (clock.skewNs !== 0 || clock.driftPpm !== 0) {
        this._clock = clock;
        this.host.faults.record('core.clock', { pid: this.tracePid, tid: 0 }, { skewNs: clock.skewNs, driftPpm: clock.driftPpm });
      }
    }
  }

  /** @internal counts a fault on core `tid` of this machine in the simulation's fault log. */
  _recordFault(kind: string, tid: number, args: TraceArgs): void {
    this.host.faults.record(kind, { pid: this.tracePid, tid }, args);
  }

  /** This machine's clock in integer ns: simulation time, skewed and drifting under a `clock` fault. */
  clockNs(): number {
    const now = this.host.clock.now();
    return this._clock === null ? now : this._clock.at(now);
  }

  /** @internal simulation ns that pass while this machine's clock counts `localNs`. */
  _simDelay(localNs: number): number {
    return this._clock === null ? localNs : this._clock.simDelay(localNs);
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

  /** Devices plugged into this machine (its PCI bus), in the order they were attached. */
  get devices(): readonly MachineDevice[] {
    return this._devices;
  }

  /**
   * Plugs a device into the machine, as a hypervisor does before boot: the platform (the runtime,
   * a test) creates NICs and wires them to a network; the node's driver later finds and claims
   * them with {@link claimDevice}. A device belongs to one machine.
   */
  attachDevice(device: MachineDevice): void {
    if (device.machine !== this) throw new Error(`device ${device.kind} belongs to machine '${device.machine.name}', not '${this.name}'`);
    if (this._devices.includes(device)) throw new Error(`device ${device.kind} is already attached to '${this.name}'`);
    this._devices.push(device);
  }

  /**
   * The first attached, unclaimed device of `kind`, now claimed (so two drivers never share one
   * device); undefined if there is none.
   */
  claimDevice<D extends MachineDevice>(kind: string): D | undefined {
    const found = this._devices.find((d) => d.kind === kind && !this.claimed.has(d));
    if (found === undefined) return undefined;
    this.claimed.add(found);
    return found as D;
  }

  /** Stop every core and disarm every APIC timer. Memory contents stay (inspectable post-mortem). */
  powerOff(): void {
    for (const core of this.cores) core.stop();
    this._poweredOn = false;
  }
}

// Phase spans for a per-request latency breakdown (driver / stack / application), recorded on the
// simulation's Chrome trace only when tracing is on (`ebbrt run --trace`, `runApp({ trace: true })`).
//
// Boundaries (nested spans on the machine's pid, tid = core):
//   driver  CoreNetDriver interrupt handler and idle poll (when it found work), and transmit
//   stack   NetInterface.input (Ethernet → IP → TCP input) and TcpConnection send/sendQueued
//   app     every TcpHandler callback the stack makes (receive, connected, closed, ...)
// A span contains the spans it calls into (driver ⊃ stack ⊃ app ⊃ stack ⊃ driver), so a phase's
// time is a span's self time: its duration minus that of the spans directly inside it. Times are
// the simulation clock's: with the realtime clock they are wall time spent in the code; with the
// virtual clock they are 0 (the spans still show the structure, and stay deterministic).
//
// When tracing is off nothing is created: each boundary costs one `undefined` test.

import type { Simulation } from '@ebbrt/hw-x86sim';

export type Phase = 'driver' | 'stack' | 'app';

export class PhaseTrace {
  constructor(
    private readonly sim: Simulation,
    private readonly pid: number,
  ) {}

  /** A PhaseTrace for `machinePid` if the simulation records a trace, else undefined. */
  static create(sim: Simulation, machinePid: number): PhaseTrace | undefined {
    return sim.trace.enabled ? new PhaseTrace(sim, machinePid) : undefined;
  }

  now(): number {
    return this.sim.now();
  }

  /** Records a `phase` span on `core` from `startNs` to now. */
  end(phase: Phase, core: number, startNs: number): void {
    this.sim.trace.complete(this.pid, core, phase, startNs, this.sim.now() - startNs);
  }
}

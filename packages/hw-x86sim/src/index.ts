/**
 * @ebbrt/hw-x86sim — a simulated x86 machine at the level a library OS driver sees it:
 * cores with local APICs (vectors, IPIs, timer, hlt), physical memory with NUMA regions, a serial
 * console, a deterministic scheduler over a virtual or realtime clock, and a Chrome trace.
 */
export { Simulation, type SimulationOptions } from './simulation.js';
export type { RunOptions, RunResult, StopReason, SteppingMode } from './scheduler.js';
export type { ClockKind } from './clock.js';
export { Machine, type MachineDevice } from './machine.js';
export { type MachineConfig, MAX_MEMORY_BYTES } from './machine-config.js';
export { CoreStats, type CoreSoftwareStats, type UnfinishedEvent } from './core-stats.js';
export { Core, type CoreProgram, type CoreState, type SliceResult } from './core.js';
export { LocalApic } from './apic.js';
export { type CoreFaults, validateCoreFaults } from './core-faults.js';
export { PhysicalMemory, allocateGuestMemory, allocateHostTable, defaultGuestMemoryKind, type GuestMemoryKind, type NumaRegion } from './memory.js';
export { MemoryRecycler } from './memory-recycler.js';
export { SerialConsole, type LineListener, SERIAL_HISTORY_LINES } from './serial.js';
export { TraceRecorder, type TraceArgs, type TraceTap } from './trace.js';
export { Prng } from './prng.js';
export { FaultLog, NETWORK_TRACE_PID, type FaultRecord, type FaultSite } from './fault-log.js';
export { DeadlineEntry } from './event-queue.js';
export { queueMacrotask, type Macrotask } from './macrotask.js';
export * from './net/index.js';

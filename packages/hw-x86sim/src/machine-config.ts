/** What `Simulation.createMachine` accepts. */
export interface MachineConfig {
  /** Display name (serial prefix, trace process name). Default `machine<id>`. */
  name?: string;
  /** Number of cores, integer 1..256 (xAPIC ids are 8 bits). */
  cores: number;
  /** Physical memory size in bytes, positive multiple of 4096. */
  memoryBytes: number;
  /** NUMA nodes memory is split across (equal contiguous regions). Default 1. */
  numaNodes?: number;
}

/** Largest memory a machine may declare: V8's ArrayBuffer limit on 64-bit Node 20. */
export const MAX_MEMORY_BYTES = 2 ** 32;

/** @internal A config after defaults. */
export interface ValidMachineConfig {
  name: string | undefined;
  cores: number;
  memoryBytes: number;
  numaNodes: number;
}

/** Checks a config, throwing a RangeError/TypeError that names the offending field. */
export function validateMachineConfig(config: MachineConfig): ValidMachineConfig {
  if (config === null || typeof config !== 'object') {
    throw new TypeError('machine config must be an object');
  }
  const { name, cores, memoryBytes } = config;
  const numaNodes = config.numaNodes ?? 1;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new TypeError(`machine config 'name' must be a non-empty string, got ${String(name)}`);
  }
  if (!Number.isInteger(cores) || cores < 1 || cores > 256) {
    throw new RangeError(`machine config 'cores' must be an integer in 1..256, got ${String(cores)}`);
  }
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new RangeError(
      `machine config 'memoryBytes' must be a positive multiple of 4096, got ${String(memoryBytes)}`,
    );
  }
  if (memoryBytes > MAX_MEMORY_BYTES) {
    throw new RangeError(`machine config 'memoryBytes' must be at most ${MAX_MEMORY_BYTES}, got ${memoryBytes}`);
  }
  if (!Number.isInteger(numaNodes) || numaNodes < 1 || numaNodes > cores) {
    throw new RangeError(
      `machine config 'numaNodes' must be an integer in 1..cores (${cores}), got ${String(numaNodes)}`,
    );
  }
  if ((memoryBytes / numaNodes) % 4096 !== 0) {
    throw new RangeError(
      `machine config 'numaNodes' (${numaNodes}) must split 'memoryBytes' (${memoryBytes}) into 4096-byte multiples`,
    );
  }
  return { name, cores, memoryBytes, numaNodes };
}

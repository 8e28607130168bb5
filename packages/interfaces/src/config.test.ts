import { describe, expect, it } from 'vitest';
import { parseAppConfig, parseByteSize } from './config.js';
import { ConfigError } from './errors.js';

const valid = {
  entry: { backend: 'src/backend.ts' },
  backend: { nodes: 2, machine: { cores: 4, memory: '64MiB' } },
};

/** Parses `input` and returns the ConfigError it must raise. */
function rejection(input: unknown): ConfigError {
  try {
    parseAppConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('config was accepted');
}

const withBackend = (backend: Record<string, unknown>) => ({ ...valid, backend: { ...valid.backend, ...backend } });
const withMachine = (machine: Record<string, unknown>) =>
  withBackend({ machine: { ...valid.backend.machine, ...machine } });

describe('parseAppConfig', () => {
  it('accepts a valid config and fills defaults', () => {
    const config = parseAppConfig(valid);
    expect(config.backend!.machine.memory).toBe(64 * 1024 * 1024);
    expect(config.frontend).toEqual({ cores: 1, ebbs: {} });
    expect(config.clock).toBe('virtual');
    expect(config.name).toBe('app');
  });

  it('accepts known Ebb kinds with a package or package+options', () => {
    const config = parseAppConfig(
      withBackend({ ebbs: { Timer: '@ebbrt/timer', EventManager: { package: '@x/em', options: { a: 1 } } } }),
    );
    expect(config.backend!.ebbs.Timer).toBe('@ebbrt/timer');
  });

  it('rejects an unknown Ebb kind, naming backend.ebbs.Foo', () => {
    const err = rejection(withBackend({ ebbs: { Foo: '@x/foo' } }));
    expect(err.path).toBe('config.backend.ebbs.Foo');
    expect(err.message).toMatch(/config\.backend\.ebbs\.Foo.*unknown Ebb kind "Foo"/);
    expect(rejection({ ...valid, frontend: { ebbs: { Bar: 'x' } } }).path).toBe('config.frontend.ebbs.Bar');
  });

  it('rejects a negative node count', () => {
    const err = rejection(withBackend({ nodes: -1 }));
    expect(err.path).toBe('config.backend.nodes');
    expect(err.detail).toMatch(/must not be negative/);
    expect(rejection(withBackend({ nodes: 1.5 })).path).toBe('config.backend.nodes');
  });

  it('rejects zero, negative and fractional core counts', () => {
    for (const cores of [0, -3, 2.5, 'four']) {
      expect(rejection(withMachine({ cores })).path).toBe('config.backend.machine.cores');
    }
    expect(rejection(withMachine({ cores: 0 })).detail).toMatch(/at least 1/);
    expect(rejection({ ...valid, frontend: { cores: 0 } }).path).toBe('config.frontend.cores');
  });

  it('rejects a missing or empty entry point', () => {
    const { entry: _entry, ...noEntry } = valid;
    expect(rejection(noEntry).path).toBe('config.entry');
    const err = rejection({ ...valid, entry: {} });
    expect(err.path).toBe('config.entry');
    expect(err.detail).toMatch(/frontend or backend entry point/);
  });

  it('rejects bad memory sizes, naming backend.machine.memory', () => {
    for (const memory of ['lots', '64 MB', -4096, 0, 1000, '4097', 4096.5]) {
      const err = rejection(withMachine({ memory }));
      expect(err.path).toBe('config.backend.machine.memory');
    }
    expect(rejection(withMachine({ memory: '64MB' })).detail).toMatch(/"64MB" is not a size/);
    expect(rejection(withMachine({ memory: 1000 })).detail).toMatch(/multiple of 4096/);
    expect(parseAppConfig(withMachine({ memory: '8 KiB' })).backend!.machine.memory).toBe(8192);
  });

  it('parseByteSize is the grammar the config uses (exported for app arguments)', () => {
    expect(parseByteSize('64MiB')).toBe(64 << 20);
    expect(parseByteSize(' 8 KiB ')).toBe(8192);
    expect(parseByteSize('1GiB')).toBe(1 << 30);
    expect(parseByteSize('4097')).toBe(4097); // the page-multiple rule belongs to machine memory, not the grammar
    for (const bad of ['64MB', '64m', '1.5MiB', '-1', '', 'lots', '99999999999999999999GiB']) expect(parseByteSize(bad)).toBeUndefined();
  });

  it('rejects unknown keys, naming the key', () => {
    const err = rejection({ ...valid, colour: 'blue' });
    expect(err.path).toBe('config.colour');
    expect(rejection(withMachine({ disks: 2 })).path).toBe('config.backend.machine.disks');
  });

  it('rejects a non-object config at the root', () => {
    expect(rejection(42).path).toBe('config');
  });
});

describe('backend.machine.faults (core faults)', () => {
  it('accepts late interrupts and clock skew/drift, and names a bad field', () => {
    const ok = parseAppConfig(withMachine({ faults: { interruptDelay: { probability: 0.1, maxNs: 1000 }, clock: { maxSkewNs: 5, maxDriftPpm: 100 } } }));
    expect(ok.backend?.machine.faults?.clock).toEqual({ maxSkewNs: 5, maxDriftPpm: 100 });
    expect(rejection(withMachine({ faults: { interruptDelay: { probability: 2, maxNs: 1 } } })).message).toMatch(/backend\.machine\.faults\.interruptDelay\.probability/);
    expect(rejection(withMachine({ faults: { interruptDelay: { probability: 0.5, maxNs: 0.5 } } })).message).toMatch(/faults\.interruptDelay\.maxNs/);
    expect(rejection(withMachine({ faults: { clock: { maxSkewNs: 0, maxDriftPpm: 200_000 } } })).message).toMatch(/faults\.clock\.maxDriftPpm/);
    expect(rejection(withMachine({ faults: { stall: { probability: 0.1, maxNs: -1 } } })).message).toMatch(/faults\.stall\.maxNs/);
    expect(rejection(withMachine({ faults: { smi: {} } })).message).toMatch(/faults.*smi/);
  });
});

describe('backend.faults.crash and network.partition (node faults)', () => {
  const net = { network: { link: {} } };
  it('accepts a crash with a restart and a partition, filling the probability', () => {
    const ok = parseAppConfig({ ...withBackend({ faults: { crash: { nodes: [2], afterNs: { min: 10, max: 20 }, downNs: { min: 1, max: 1 } } } }), network: { partition: { afterNs: { min: 0, max: 5 }, durationNs: { min: 5, max: 9 } } } });
    expect(ok.backend?.faults?.crash).toEqual({ probability: 1, nodes: [2], afterNs: { min: 10, max: 20 }, downNs: { min: 1, max: 1 } });
    expect(ok.network?.partition).toEqual({ probability: 1, afterNs: { min: 0, max: 5 }, durationNs: { min: 5, max: 9 } });
  });

  it('names the bad field', () => {
    const crash = (c: Record<string, unknown>) => rejection(withBackend({ faults: { crash: { afterNs: { min: 0, max: 1 }, ...c } } }));
    expect(crash({ afterNs: { min: 5, max: 1 } }).message).toMatch(/config\.backend\.faults\.crash\.afterNs\.max: must be at least min/);
    expect(crash({ downNs: { min: -1, max: 1 } }).message).toMatch(/backend\.faults\.crash\.downNs\.min: must not be negative/);
    expect(crash({ probability: 1.5 }).message).toMatch(/backend\.faults\.crash\.probability: must be in 0\.\.1/);
    expect(crash({ nodes: [3] }).message).toMatch(/backend\.faults\.crash\.nodes\[0\]: there is no back-end node 3/);
    expect(crash({ nodes: [] }).message).toMatch(/backend\.faults\.crash\.nodes: must list at least one node/);
    expect(rejection(withBackend({ faults: { reboot: {} } })).message).toMatch(/backend\.faults.*reboot/);
    const partition = (p: Record<string, unknown>) => rejection({ ...valid, network: { ...net.network, partition: { afterNs: { min: 0, max: 1 }, durationNs: { min: 1, max: 1 }, ...p } } });
    expect(partition({ durationNs: { min: 0.5, max: 1 } }).message).toMatch(/network\.partition\.durationNs\.min: must be a whole number of ns/);
    expect(partition({ nodes: [9] }).message).toMatch(/network\.partition\.nodes\[0\]: there is no back-end node 9/);
    expect(partition({ afterNs: undefined }).message).toMatch(/network\.partition\.afterNs/);
    expect(partition({ durationNs: { min: 0, max: 5 } }).message).toMatch(/network\.partition\.durationNs\.min: must be at least 1 ns \(the heal must come after the start\)/);
    expect(partition({ durationNs: { min: 9, max: 5 } }).message).toMatch(/network\.partition\.durationNs\.max: must be at least min/);
    expect(partition({ nodes: [1, 1] }).message).toMatch(/network\.partition\.nodes: must not list a node twice/);
    expect(partition({ nodes: [0] }).message).toMatch(/network\.partition\.nodes\[0\]: must be a back-end node id/);
    expect(partition({ probability: -1 }).message).toMatch(/network\.partition\.probability: must be in 0\.\.1/);
    expect(partition({ heal: 5 }).message).toMatch(/network\.partition.*heal/);
  });
});

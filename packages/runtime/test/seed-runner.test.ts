import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTest, replayCommand } from '../src/cli/test-command.js';
import { FAULT_FAMILIES, faultCatalogue, omitKeys, swarmFaults, withFaults, type FaultFamily } from '../src/seed-runner/faults.js';
import { appConfigSchema, parseAppConfig } from '@ebbrt/interfaces';
import { firstViolation } from '../src/seed-runner/invariants.js';

describe('ebbrt test arguments', () => {
  it('parses ranges, budgets and replays, and names bad values', () => {
    expect(parseTest(['app', '--seeds', '5..9'])).toMatchObject({ appDir: 'app', first: 5, last: 9, workers: 2 });
    expect(parseTest(['--budget', '2m'])).toMatchObject({ budgetMs: 120_000, last: undefined });
    expect(parseTest(['--seed', '7', '--faults', 'none']).replay).toEqual({ seed: 7, faults: { kind: 'exact', faults: [] }, trace: undefined });
    expect(() => parseTest(['--seeds', '9..5'])).toThrow(/--seeds 9\.\.5: the range is empty/);
    expect(() => parseTest(['--budget', 'soon'])).toThrow(/--budget must be a duration/);
    expect(() => parseTest(['--workers', '0'])).toThrow(/--workers must be an integer/);
    expect(() => parseTest(['--faults', 'link.loss'])).toThrow(/need --seed/);
    expect(() => parseTest(['--stats'])).toThrow(/--stats replay one seed: they need --seed/);
    expect(parseTest(['--max-slices', '1000']).maxSlices).toBe(1000);
    expect(() => parseTest(['--max-slices', '1e3'])).toThrow(/--max-slices must be a positive integer, got "1e3"/);
    expect(replayCommand(parseTest(['a', '--max-slices', '1000']), 4, [])).toBe('ebbrt test a --max-slices 1000 --seed 4 --faults none');
    expect(parseTest(['--seed', '3', '--stats']).replay).toEqual({ seed: 3, faults: { kind: 'all' }, trace: undefined, stats: true });
  });
  it('prints a replay command that parses back to the same seed and faults', () => {
    const cmd = parseTest(['apps/x', '--config', 'c.ts']);
    const line = replayCommand(cmd, 42, ['link.loss', 'nic.interruptLoss']);
    expect(parseTest(line.split(' ').slice(2)).replay).toEqual({ seed: 42, faults: { kind: 'exact', faults: ['link.loss', 'nic.interruptLoss'] }, trace: undefined });
  });
});

describe('swarm faults', () => {
  it('are a non-empty subset drawn from the seed alone', () => {
    const all = ['link.loss', 'link.reorder', 'link.duplicate', 'nic.rxNoBuffer'];
    fc.assert(fc.property(fc.nat(), (seed) => {
      const on = swarmFaults(seed, all);
      expect(on.length).toBeGreaterThan(0);
      expect(on.every((f) => all.includes(f))).toBe(true);
      expect(swarmFaults(seed, all)).toEqual(on);
    }));
  });
});

describe('offload faults in the catalogue', () => {
  const config = appConfigSchema.parse({
    entry: { backend: './main.mjs' },
    backend: { nodes: 1, machine: { cores: 1, memory: '32MiB' } },
    network: { link: { loss: 0.1 } },
    faults: { offload: { fileSystem: { delay: { probability: 0.5, maxUs: 100 }, fail: { probability: 0.1 } }, globalIdMap: { fail: { probability: 0.2 } } } },
  });
  it('names each configured offload fault, and a switch set keeps exactly those on', () => {
    expect(faultCatalogue(config)).toEqual(['link.loss', 'offload.fileSystem.delay', 'offload.fileSystem.fail', 'offload.globalIdMap.fail']);
    const some = withFaults(config, ['offload.fileSystem.fail', 'link.loss']);
    expect(some.faults?.offload).toEqual({ fileSystem: { fail: { probability: 0.1 } }, globalIdMap: {} });
    expect(withFaults(config, []).faults?.offload).toEqual({ fileSystem: {}, globalIdMap: {} });
    expect(faultCatalogue(withFaults(config, ['offload.globalIdMap.fail']))).toEqual(['offload.globalIdMap.fail']);
    expect(() => withFaults(config, ['offload.globalIdMap.delay'])).toThrow(/"offload\.globalIdMap\.delay" is not a fault this config turns on/);
  });
});

describe('fault switches', () => {
  const config = parseAppConfig({
    name: 'f',
    entry: { backend: './main.ts' },
    backend: { nodes: 1, machine: { cores: 1, memory: '16MiB', faults: { stall: { probability: 0.1, maxNs: 1000 } } } },
    network: { link: { latencyNs: 5000, loss: 0.1, reorder: 0.2, duplicate: 0 }, nic: { faults: { rxNoBuffer: { probability: 0.1 } } } },
  });
  it('the catalogue names every fault the config turns on, and nothing it leaves off', () => {
    expect(faultCatalogue(config)).toEqual(['link.loss', 'link.reorder', 'nic.rxNoBuffer', 'core.stall']);
  });
  it('switching a subset keeps those faults and settings, removes the rest, and leaves the input alone', () => {
    const only = withFaults(config, ['link.reorder', 'core.stall']);
    expect(only.network?.link).toMatchObject({ latencyNs: 5000, reorder: 0.2 });
    expect(only.network?.link.loss).toBeUndefined();
    expect(only.network?.nic.faults).toEqual({});
    expect(only.backend?.machine.faults).toEqual({ stall: { probability: 0.1, maxNs: 1000 } });
    expect(faultCatalogue(only)).toEqual(['link.reorder', 'core.stall']);
    expect(faultCatalogue(config)).toHaveLength(4);
    expect(() => withFaults(config, ['link.corrupt'])).toThrow(/"link.corrupt" is not a fault this config turns on \(it has: link.loss, link.reorder, nic.rxNoBuffer, core.stall\)/);
  });
  it('node faults: node.crash and network.partition switch like the others, keeping the rest of network', () => {
    const nodes = parseAppConfig({
      name: 'n',
      entry: { backend: './main.ts' },
      backend: { nodes: 2, machine: { cores: 1, memory: '16MiB' }, faults: { crash: { afterNs: { min: 1, max: 2 } } } },
      network: { link: { loss: 0.1 }, partition: { nodes: [2], afterNs: { min: 1, max: 2 }, durationNs: { min: 5, max: 5 } } },
    });
    expect(faultCatalogue(nodes)).toEqual(['link.loss', 'node.crash', 'network.partition']);
    const partitionOnly = withFaults(nodes, ['network.partition']);
    expect(partitionOnly.network?.partition).toEqual(nodes.network?.partition);
    expect(partitionOnly.network?.link.loss).toBeUndefined();
    expect(partitionOnly.backend?.faults?.crash).toBeUndefined();
    const off = withFaults(nodes, ['link.loss']);
    expect(off.network?.partition).toBeUndefined();
    expect(off.network?.subnet).toBe(nodes.network?.subnet);
    expect(faultCatalogue(off)).toEqual(['link.loss']);
  });
  it('a new family of faults plugs in by its getter and remover alone', () => {
    const families: FaultFamily[] = [
      { prefix: 'wire', faults: (c) => c.network?.link, keys: ['loss'], remove: (c, off) => (c.network === undefined ? c : { ...c, network: { ...c.network, link: omitKeys(c.network.link, off) } }) },
    ];
    expect(faultCatalogue(config, families)).toEqual(['wire.loss']);
    expect(faultCatalogue(withFaults(config, [], families), families)).toEqual([]);
    expect(withFaults(config, [], families).network?.link).toMatchObject({ latencyNs: 5000, reorder: 0.2 });
  });
});

describe('every fault family', () => {
  // A config that turns on at least one fault of every family in FAULT_FAMILIES.
  const all = parseAppConfig({
    name: 'all',
    entry: { backend: './main.ts' },
    backend: {
      nodes: 2,
      machine: { cores: 1, memory: '16MiB', faults: { interruptDelay: { probability: 0.1, maxNs: 10 }, stall: { probability: 0.1, maxNs: 10 }, clock: { maxSkewNs: 5, maxDriftPpm: 5 } } },
      faults: { crash: { nodes: [2], afterNs: { min: 10, max: 20 }, downNs: { min: 1, max: 1 } } },
    },
    network: { link: { latencyNs: 7000, loss: 0.1, duplicate: 0.1, reorder: 0.1, corrupt: 0.1 }, nic: { faults: { rxNoBuffer: { probability: 0.1 }, deviceReset: 0.01 } }, partition: { nodes: [2], afterNs: { min: 1, max: 2 }, durationNs: { min: 5, max: 5 } } },
    faults: { offload: { fileSystem: { delay: { probability: 0.5, maxUs: 100 }, fail: { probability: 0.1 } }, globalIdMap: { fail: { probability: 0.2 }, delay: { probability: 0.1, maxUs: 5 } } } },
  });
  const catalogue = faultCatalogue(all);

  it('the test config has every family on', () => {
    for (const f of FAULT_FAMILIES) expect(catalogue.some((n) => n.startsWith(`${f.prefix}.`)), f.prefix).toBe(true);
  });

  it('property: any subset switched on is exactly what the catalogue then lists; settings stay; the input is left alone', () => {
    const before = JSON.stringify(all);
    fc.assert(
      fc.property(fc.subarray(catalogue), (on) => {
        const out = withFaults(all, on);
        expect(faultCatalogue(out)).toEqual(on);
        // Each switched-on fault keeps its configured value; settings that are not faults stay.
        expect(out.network?.link.latencyNs).toBe(7000);
        expect(out.backend?.nodes).toBe(2);
        for (const name of on) {
          const family = FAULT_FAMILIES.find((f) => name.startsWith(`${f.prefix}.`))!;
          const key = name.slice(family.prefix.length + 1);
          expect(family.faults(out)?.[key]).toEqual(family.faults(all)?.[key]);
        }
        expect(JSON.stringify(all)).toBe(before);
      }),
      { numRuns: 200 },
    );
  });
});

describe('invariants', () => {
  it('the first violated one is reported: false, a string, or a throw', () => {
    const ctx = { seed: 1, faults: [], lines: [], run: undefined as never };
    expect(firstViolation({ a: () => true, b: () => undefined }, ctx)).toBeUndefined();
    expect(firstViolation({ a: () => true, b: () => false, c: () => 'x' }, ctx)).toBe('b');
    expect(firstViolation({ a: () => 'how', b: () => false }, ctx)).toBe('a: how');
    expect(firstViolation({ a: () => { throw new Error('boom'); } }, ctx)).toBe('a: threw boom');
  });
});

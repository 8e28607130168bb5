import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, PackageResolutionError } from '@ebbrt/interfaces';
import { runApp } from '../src/index.js';
import { NOOP_ENTRY, baseConfig, tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function runWith(config: unknown, files: Record<string, string> = { 'main.mjs': NOOP_ENTRY }) {
  const app = tempApp(config, files);
  cleanup.push(app.remove);
  return runApp(app.dir, { output: () => {} });
}

async function expectConfigError(config: unknown, path: string, detail?: RegExp, files?: Record<string, string>) {
  const error = await runWith(config, files).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).path).toBe(path);
  if (detail) expect((error as ConfigError).message).toMatch(detail);
}

async function expectPackageError(config: unknown, pkg: string, detail: RegExp, files?: Record<string, string>) {
  const error = await runWith(config, files).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PackageResolutionError);
  expect((error as PackageResolutionError).packageName).toBe(pkg);
  expect((error as Error).message).toMatch(detail);
}

describe('invalid configs are rejected with the field named', () => {
  it('an unknown Ebb kind', async () => {
    const config = baseConfig({ backend: { nodes: 1, machine: { cores: 1, memory: 4096 }, ebbs: { Foo: 'x' } } });
    await expectConfigError(config, 'config.backend.ebbs.Foo', /unknown Ebb kind "Foo"/);
  });

  it('a negative core count', async () => {
    await expectConfigError(
      baseConfig({ backend: { nodes: 1, machine: { cores: -2, memory: 4096 } } }),
      'config.backend.machine.cores',
      /at least 1/,
    );
  });

  it('a negative node count', async () => {
    await expectConfigError(
      baseConfig({ backend: { nodes: -1, machine: { cores: 1, memory: 4096 } } }),
      'config.backend.nodes',
      /negative/,
    );
  });

  it('a missing entry point', async () => {
    await expectConfigError(baseConfig({ entry: {} }), 'config.entry', /entry point/);
  });

  it('an entry module that does not exist, or has no main', async () => {
    await expectConfigError(baseConfig({ entry: { backend: './nope.mjs' } }), 'config.entry.backend', /does not exist/);
    await expectConfigError(baseConfig(), 'config.entry.backend', /no main function/, { 'main.mjs': 'export const x = 1;\n' });
  });

  it('a memory size that is not a size', async () => {
    await expectConfigError(
      baseConfig({ backend: { nodes: 1, machine: { cores: 1, memory: 'lots' } } }),
      'config.backend.machine.memory',
      /not a size/,
    );
  });

  it('an unknown top-level field', async () => {
    await expectConfigError(baseConfig({ colour: 'blue' }), 'config.colour');
  });

  it('bad options for an Ebb name the option', async () => {
    const ebbs = { EventManager: { package: '@ebbrt/event-manager', options: { sliceBudget: -1 } } };
    await expectConfigError(
      baseConfig({ backend: { nodes: 1, machine: { cores: 1, memory: 4096 }, ebbs } }),
      'config.backend.ebbs.EventManager.options.sliceBudget',
    );
  });
});

describe('unresolvable or wrong Ebb packages fail naming the package', () => {
  const withEbbs = (ebbs: Record<string, unknown>) =>
    baseConfig({ backend: { nodes: 1, machine: { cores: 1, memory: 4096 }, ebbs } });

  it('a package that is not installed', async () => {
    await expectPackageError(withEbbs({ Timer: '@nope/missing-timer' }), '@nope/missing-timer', /cannot be found/);
  });

  it('a package configured as an interface its manifest does not claim', async () => {
    await expectPackageError(
      withEbbs({ EventManager: '@ebbrt/event-manager/timer' }),
      '@ebbrt/event-manager/timer',
      /configured as EventManager but its manifest implements Timer/,
    );
  });

  it('a module without a manifest, and a manifest with a bad field', async () => {
    await expectPackageError(withEbbs({ Timer: './no-manifest.mjs' }), './no-manifest.mjs', /exports no `manifest`/, {
      'main.mjs': NOOP_ENTRY,
      'no-manifest.mjs': 'export const x = 1;\n',
    });
    await expectPackageError(withEbbs({ Timer: './bad.mjs' }), './bad.mjs', /manifest\.targets/, {
      'main.mjs': NOOP_ENTRY,
      'bad.mjs': "export const manifest = { name: 'bad', implements: 'Timer', targets: [], create() {} };\n",
    });
  });

  it('a package whose rep does not implement the interface it claims', async () => {
    const liar = `export const manifest = {
      name: 'liar', implements: 'Timer', targets: ['native', 'hosted'],
      create: () => ({ handleFault: () => ({ start() {} }) }),
    };\n`;
    await expectPackageError(withEbbs({ Timer: './liar.mjs' }), './liar.mjs', /claims to implement Timer but its rep lacks stop, sleep, now/, {
      'main.mjs': NOOP_ENTRY,
      'liar.mjs': liar,
    });
  });

  it('a native-only package on the hosted front-end', async () => {
    const nativeOnly = `export const manifest = {
      name: 'native-only', implements: 'Timer', targets: ['native'], create: () => ({ handleFault: () => ({}) }),
    };\n`;
    await expectPackageError(
      baseConfig({ frontend: { ebbs: { Timer: './native-only.mjs' } } }),
      './native-only.mjs',
      /does not support target "hosted"/,
      { 'main.mjs': NOOP_ENTRY, 'native-only.mjs': nativeOnly },
    );
  });
});

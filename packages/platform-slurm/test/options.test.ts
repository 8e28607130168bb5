/**
 * Option errors name config.backend.platform.options.<field>, as the runtime reports them (no
 * Slurm needed); the job's command line survives sh for any argument (property test).
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ebbrt/interfaces';
import { runApp } from '@ebbrt/runtime';
import { slurmPlatformOptionsSchema } from '@ebbrt/platform-slurm';
import { shellWord } from '../src/slurm.js';
import { PACKAGE_DIR, tempApp } from './app.js';

async function failure(options: Record<string, unknown>): Promise<ConfigError> {
  const app = tempApp(
    { entry: { backend: './node.mjs' }, clock: 'realtime', network: {}, backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' }, platform: { package: '@ebbrt/platform-slurm', options } } },
    { 'node.mjs': 'export function main() {}\n' },
  );
  try {
    const error = await runApp(app.dir, { output: () => undefined, resolveFrom: [PACKAGE_DIR] }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  } finally {
    app.remove();
  }
}

describe('@ebbrt/platform-slurm options', () => {
  const good = { frontendAddress: 'login1:7400' };
  it.each([
    [{}, 'frontendAddress'],
    [{ frontendAddress: 'login1' }, 'frontendAddress'],
    [{ ...good, partition: 'bad partition' }, 'partition'],
    [{ ...good, account: 'a b' }, 'account'],
    [{ ...good, timeLimit: 'an hour' }, 'timeLimit'],
    [{ ...good, cpusPerNode: 0 }, 'cpusPerNode'],
    [{ ...good, memoryPerNode: '4 gigs' }, 'memoryPerNode'],
    [{ ...good, sbatchArgs: [''] }, 'sbatchArgs[0]'],
    [{ ...good, nodeEntry: 'relative/entry.js' }, 'nodeEntry'],
    [{ ...good, commands: { sbatch: '' } }, 'commands.sbatch'],
    [{ ...good, slurmConf: 'slurm.conf' }, 'slurmConf'],
    [{ ...good, pollMs: 5 }, 'pollMs'],
  ])('%j is refused naming %s', async (options, field) => {
    const error = await failure(options);
    expect(error.path).toBe(`config.backend.platform.options.${field}`);
  });

  it('an unknown option is refused by name', async () => {
    const error = await failure({ ...good, queue: 'debug' });
    expect(error.message).toMatch(/config\.backend\.platform\.options.*queue/);
  });

  it('defaults: the commands by name, node Messenger on loopback, 1 s polls', () => {
    const o = slurmPlatformOptionsSchema.parse(good);
    expect(o.commands).toEqual({ sbatch: 'sbatch', scancel: 'scancel', scontrol: 'scontrol', squeue: 'squeue' });
    expect(o).toMatchObject({ nodeBind: '127.0.0.1', frontendBind: '0.0.0.0', pollMs: 1000, sbatchArgs: [], jobOutput: '/dev/null' });
    for (const t of ['30', '1:00:00', '2-00:00:00', '1-12', 'UNLIMITED']) expect(slurmPlatformOptionsSchema.parse({ ...good, timeLimit: t }).timeLimit).toBe(t);
  });

  it('any argument reaches the job word for word through sh', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 0, maxLength: 12 }).filter((s) => !s.includes('\0')), { maxLength: 4 }), (words) => {
        const script = `printf '%s\\n' ${words.map(shellWord).join(' ')}`;
        const out = execFileSync('/bin/sh', ['-c', words.length === 0 ? 'true' : script], { encoding: 'utf8' });
        expect(out).toBe(words.map((w) => w + '\n').join(''));
      }),
      { numRuns: 60 },
    );
  });
});

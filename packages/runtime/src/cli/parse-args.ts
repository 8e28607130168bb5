import { parseArgs } from 'node:util';

export interface RunCommand {
  command: 'run';
  appDir: string;
  seed: number | undefined;
  clock: 'virtual' | 'realtime' | undefined;
  trace: string | undefined;
  config: string | undefined;
  stats: boolean;
}

export type Command = RunCommand | { command: 'help' };

export const USAGE = `usage: ebbrt run [app-dir] [--config FILE] [--seed N] [--clock virtual|realtime] [--trace out.json] [--stats]

  app-dir          directory holding ebbrt.config.{ts,mjs,js,json} (default: .)
  --config FILE    a config file other than ebbrt.config.*, relative to app-dir
  --seed N         simulation seed (default: config.seed, or $EBBRT_SEED)
  --clock KIND     virtual (discrete-event, deterministic) or realtime
  --trace FILE     write a Chrome trace (open in Perfetto or chrome://tracing)
  --stats          print per-node event counts and memory allocator stats at the end`;

/** Parses the CLI; errors name the bad flag or value. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      clock: { type: 'string' },
      trace: { type: 'string' },
      config: { type: 'string' },
      stats: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command = 'help', appDir = '.', ...extra] = positionals;
  if (values.help || command === 'help') return { command: 'help' };
  if (command !== 'run') throw new Error(`unknown command "${command}"\n${USAGE}`);
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"\n${USAGE}`);
  const seedText = values.seed ?? env.EBBRT_SEED;
  let seed: number | undefined;
  if (seedText !== undefined) {
    seed = Number(seedText);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`--seed must be an integer in [0, 2^32), got "${seedText}"`);
    }
  }
  const clock = values.clock ?? env.EBBRT_CLOCK;
  if (clock !== undefined && clock !== 'virtual' && clock !== 'realtime') {
    throw new Error(`--clock must be virtual or realtime, got "${clock}"`);
  }
  return { command: 'run', appDir, seed, clock, trace: values.trace ?? env.EBBRT_TRACE, config: values.config, stats: values.stats };
}

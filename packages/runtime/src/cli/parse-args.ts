import { parseArgs } from 'node:util';

export interface RunCommand {
  command: 'run';
  appDir: string;
  seed: number | undefined;
  clock: 'virtual' | 'realtime' | undefined;
  trace: string | undefined;
  config: string | undefined;
  stats: boolean;
  /** `--ui [port]`: serve the live dashboard on 127.0.0.1 (0 = any free port). */
  ui: number | undefined;
  /** `--ui-paused`: start the virtual clock paused until the page's Resume or Step (implies `--ui`). */
  uiPaused: boolean;
}

export type Command = RunCommand | { command: 'help' };

export const USAGE = `usage: ebbrt run [app-dir] [--config FILE] [--seed N] [--clock virtual|realtime] [--trace out.json] [--stats] [--ui [port]] [--ui-paused]

  app-dir          directory holding ebbrt.config.{ts,mjs,js,json} (default: .)
  --config FILE    a config file other than ebbrt.config.*, relative to app-dir
  --seed N         simulation seed (default: config.seed, or $EBBRT_SEED)
  --clock KIND     virtual (discrete-event, deterministic) or realtime
  --trace FILE     write a Chrome trace (open in Perfetto or chrome://tracing)
  --stats          print per-node event counts and memory allocator stats at the end
  --ui [port]      live dashboard on http://127.0.0.1:port/ (default port 0: any free one)
  --ui-paused      with the virtual clock: start paused, waiting for the page's Resume or Step
                   (implies --ui; otherwise a virtual run is over before a page connects)`;

/** Parses the CLI; errors name the bad flag or value. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Command {
  // `--ui` takes an optional port: give parseArgs `--ui=N` (bare `--ui` = port 0).
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--ui') args.push(argv[i]!);
    else if (/^\d+$/.test(argv[i + 1] ?? '')) args.push(`--ui=${argv[++i]}`);
    else args.push('--ui=0');
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      clock: { type: 'string' },
      trace: { type: 'string' },
      config: { type: 'string' },
      stats: { type: 'boolean', default: false },
      ui: { type: 'string' },
      'ui-paused': { type: 'boolean', default: false },
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
  let ui: number | undefined;
  if (values.ui !== undefined) {
    ui = Number(values.ui);
    if (!/^\d+$/.test(values.ui) || ui > 65535) throw new Error(`--ui port must be an integer in 0..65535, got "${values.ui}"`);
  }
  const uiPaused = values['ui-paused'];
  if (uiPaused && clock === 'realtime') throw new Error('--ui-paused needs the virtual clock: a realtime run cannot be paused (drop --clock realtime, or --ui-paused)');
  if (uiPaused) ui ??= 0;
  return { command: 'run', appDir, seed, clock, trace: values.trace ?? env.EBBRT_TRACE, config: values.config, stats: values.stats, ui, uiPaused };
}

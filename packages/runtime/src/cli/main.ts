import { writeFileSync } from 'node:fs';
import { describeCoreCrossing, watchCoreCrossings } from '@ebbrt/core-translation/node';
import { EbbrtError } from '@ebbrt/interfaces';
import { runApp } from '../run-app.js';
import { parseCli, USAGE } from './parse-args.js';
import { nodeCommand, NODE_USAGE } from './node-command.js';
import { formatRunStats } from './format-stats.js';
import { testCommand } from './test-command.js';
import { newCommand, NEW_USAGE } from './new-command.js';

/** The `ebbrt` command. Returns the process exit code. */
export async function cli(argv: readonly string[]): Promise<number> {
  let command;
  let cleanup = (): void => undefined;
  if (argv[0] === 'test') {
    // `ebbrt test`: the seed-search runner (see test-command.ts).
    try {
      return await testCommand(argv.slice(1));
    } catch (error) {
      process.stderr.write(`ebbrt test: ${(error as Error).message}\n`);
      return 2;
    }
  }
  if (argv[0] === 'new') {
    // `ebbrt new ebb <name>`: scaffold an Ebb package (see new-command.ts).
    try {
      newCommand(argv.slice(1));
      return 0;
    } catch (error) {
      process.stderr.write(`ebbrt new: ${(error as Error).message}\n`);
      return 2;
    }
  }
  try {
    if (argv[0] === 'node') {
      // `ebbrt node <script>`: an unmodified Node app on a node (see node-command.ts).
      const node = nodeCommand(argv.slice(1));
      cleanup = node.cleanup;
      command = parseCli(['run', node.appDir, '--config', node.configFile]);
    } else command = parseCli(argv);
  } catch (error) {
    process.stderr.write(`ebbrt: ${(error as Error).message}\n`);
    return 2;
  }
  if (command.command === 'help') {
    process.stdout.write(USAGE + '\n\n' + NODE_USAGE + '\n\n' + NEW_USAGE + '\n');
    return 0;
  }
  // EBBRT_DEBUG_CORES=1: report every await continuation that resumed on another core (off: no hook at all).
  const crossings = process.env.EBBRT_DEBUG_CORES === '1' ? watchCoreCrossings((c) => process.stderr.write(`ebbrt: [debug cores] ${describeCoreCrossing(c)}\n`)) : undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ui: Promise<{ close(): Promise<void> } | undefined> = Promise.resolve(undefined);
  let uiRefused = false;
  try {
    const uiPort = command.ui;
    const run = await runApp(command.appDir, {
      ...(uiPort !== undefined
        ? {
            // Loaded only for --ui: a run without it pays nothing.
            onStarted: (started) => {
              const clock = started.simulation.clockKind;
              if (command.uiPaused) {
                if (clock !== 'virtual') {
                  // The config chose realtime: refuse rather than run unpaused behind the user's back.
                  process.stderr.write('ebbrt: --ui-paused needs the virtual clock, and this app\'s config says realtime\n');
                  uiRefused = true;
                  abort.abort();
                  return;
                }
                // Before the first slice: run() never enters a core synchronously.
                started.simulation.pause();
              }
              ui = import('./live-ui.js').then(async ({ startRunUi, uiTitle }) => {
                const server = await startRunUi(started, uiPort, clock, uiTitle(started.config.name, command.appDir, process.cwd()));
                process.stdout.write(`ebbrt: live view at ${server.url}\n`);
                if (command.uiPaused) process.stdout.write('ebbrt: paused before the first slice; press Resume or Step on the page\n');
                return server;
              });
            },
          }
        : {}),
      ...(command.seed !== undefined ? { seed: command.seed } : {}),
      ...(command.clock !== undefined ? { clock: command.clock } : {}),
      trace: command.trace !== undefined,
      ...(command.config !== undefined ? { configFile: command.config } : {}),
      signal: abort.signal,
    });
    if (command.trace !== undefined) {
      writeFileSync(command.trace, run.simulation.trace.toJSON());
      process.stdout.write(`ebbrt: trace written to ${command.trace}\n`);
    }
    const seconds = (run.result.finalTimeNs / 1e9).toFixed(6);
    process.stdout.write(
      `ebbrt: ${run.config.name} ended (${run.result.reason}) at t=${seconds}s, seed ${run.simulation.seed}, ` +
        `${run.failures.length} failed events\n`,
    );
    if (command.stats) process.stdout.write(formatRunStats(run));
    if (uiRefused) return 2;
    const server = await ui;
    if (server !== undefined && process.stdout.isTTY === true && !abort.signal.aborted) {
      // A virtual run is over in moments: keep its final state on the page until Ctrl-C.
      process.stdout.write('ebbrt: the live view stays up with the final state; Ctrl-C to close\n');
      await new Promise<void>((done) => abort.signal.addEventListener('abort', () => done(), { once: true }));
    }
    await server?.close();
    return run.exitCode;
  } catch (error) {
    const message = error instanceof EbbrtError ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`ebbrt: ${message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    crossings?.stop();
    cleanup();
  }
}

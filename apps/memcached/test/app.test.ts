/**
 * The app exactly as `pnpm start` boots it (ebbrt.config.ts: one native back-end, the lwIP-style
 * stack, a port forward built from our own stack), but on an ephemeral host port and without the
 * TAP: memccapable and memjs reach it through the gateway node. Fails under CI without the tools.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import memjs from 'memjs';
import { describe, expect } from 'vitest';
import { runApp, type AppRun } from '@ebbrt/runtime';
import config from '../ebbrt.config.js';
import { parseCapable, runTool, toolIt } from './tools.js';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Boots the app with the forward on 127.0.0.1:0; resolves with the real port once it is printed. */
async function bootApp(): Promise<{ port: number; lines: string[]; stop(): Promise<AppRun> }> {
  const tmp = join(APP_DIR, 'test', '.tmp');
  mkdirSync(tmp, { recursive: true });
  const file = join(tmp, `app-${process.pid}.config.json`);
  const { tap: _tap, ...network } = config.network!;
  writeFileSync(file, JSON.stringify({ ...config, network: { ...network, forwards: [{ listen: '127.0.0.1:0', node: 1, port: 11211 }] } }));
  const lines: string[] = [];
  const abort = new AbortController();
  let announce!: (port: number) => void;
  const announced = new Promise<number>((resolve) => (announce = resolve));
  const running = runApp(APP_DIR, {
    configFile: file,
    signal: abort.signal,
    output: (line) => {
      lines.push(line);
      const m = /127\.0\.0\.1:(\d+) → 10\.0\.0\.2:11211/.exec(line);
      if (m) announce(Number(m[1]));
    },
  });
  const port = await Promise.race([announced, running.then(() => Promise.reject(new Error(`the app ended early:\n${lines.join('\n')}`)))]);
  return {
    port,
    lines,
    stop: () => {
      abort.abort();
      return running;
    },
  };
}

describe('memcached as a library OS, through the port forward', () => {
  toolIt(
    'memccapable passes every ASCII and binary test, and memjs works',
    ['memccapable'],
    async () => {
      const app = await bootApp();
      try {
        const run = await runTool(`memccapable -h 127.0.0.1 -p ${app.port} -t 5`, 120_000);
        const r = parseCapable(run.output);
        expect(r.failed, run.output).toEqual([]);
        expect(r.passed.length, run.output).toBeGreaterThanOrEqual(54);
        const client = memjs.Client.create(`127.0.0.1:${app.port}`, { retries: 0, timeout: 5 });
        try {
          await client.set('greeting', 'hello from the library OS', { expires: 0 });
          expect((await client.get('greeting')).value?.toString()).toBe('hello from the library OS');
          expect((await client.get('missing')).value).toBeNull();
          await client.set('n', '41', { expires: 0 });
          expect((await client.increment('n', 1)).value).toBe(42);
          expect(await client.delete('greeting')).toBe(true);
        } finally {
          client.close();
        }
      } finally {
        const run = await app.stop();
        expect(run.failures).toEqual([]);
        expect(run.network!.forwards[0]!.stats.failed).toBe(0);
      }
    },
    180_000,
  );
});

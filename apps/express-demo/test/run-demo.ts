import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApp, type AppRun } from '@ebbrt/runtime';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GENERATED = join(APP_DIR, 'server', 'public', 'generated');

/** The static files the tests fetch: 0 B, 1 KiB and 5 MiB of deterministic bytes. */
export function generatedFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'empty.bin': Buffer.alloc(0), '1k.bin': pattern(1024, 1), '5m.bin': pattern(5 << 20, 2) };
  mkdirSync(GENERATED, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const path = join(GENERATED, name);
    if (!existsSync(path)) writeFileSync(path, data);
  }
  return files;
}

export function pattern(n: number, salt: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x9e3779b9 ^ salt;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface RunningDemo {
  lines: string[];
  /** The host port of the forward to the node's `port`. */
  forwardPort: number;
  stop(): Promise<AppRun>;
}

/** Boots the demo (realtime, the port forward on an ephemeral host port) with `args` as the node's command line. */
export async function startDemo(args: string[], extra: Record<string, unknown> = {}): Promise<RunningDemo> {
  const port = Number(args[1]);
  const dir = join(APP_DIR, 'test', '.tmp');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `demo-${process.pid}-${port}-${Date.now()}.config.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      name: 'express-demo-test',
      entry: { backend: './src/backend.ts' },
      clock: 'realtime',
      backend: { nodes: 1, machine: { cores: 1, memory: '256MiB' } },
      network: { subnet: '10.0.0.0/24', forwards: [{ listen: '127.0.0.1:0', node: 1, port }] },
      args,
      ...extra,
    }),
  );
  const lines: string[] = [];
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const up = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
  const abort = new AbortController();
  const running = runApp(APP_DIR, {
    configFile,
    signal: abort.signal,
    output: (l) => {
      lines.push(l);
      if (/listening on port/.test(l)) ready();
      if (/failed:/.test(l)) failed(new Error(lines.join('\n')));
    },
  });
  running.catch((e: Error) => failed(e));
  const timer = setTimeout(() => failed(new Error(`the demo did not come up:\n${lines.join('\n')}`)), 30_000);
  await up;
  clearTimeout(timer);
  // The forward's line follows once the network is open.
  for (let i = 0; i < 200 && !lines.some((l) => l.includes('port forward')); i++) await new Promise((r) => setTimeout(r, 25));
  const m = /127\.0\.0\.1:(\d+) → 10\.0\.0\.2:\d+ \(port forward/.exec(lines.join('\n'));
  if (m === null) throw new Error(`no port forward line:\n${lines.join('\n')}`);
  return {
    lines,
    forwardPort: Number(m[1]),
    stop: async () => {
      abort.abort();
      try {
        return await running;
      } finally {
        rmSync(configFile, { force: true });
      }
    },
  };
}

/** Runs Linux's curl; resolves with its stdout bytes (and rejects with its stderr). */
export function curl(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '30', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`curl ${args.join(' ')}: ${stderr.toString()}`)) : resolve(stdout),
    ),
  );
}

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
  /** The host port of the forward to node 1's `port`. */
  forwardPort: number;
  /** The host port of the forward to each node (1-based: forwardPorts[0] is node 1). */
  forwardPorts: number[];
  /** Node 1's address over the TAP, when the TAP came up. */
  tap: string | undefined;
  /** Pulls node `id`'s plug (its machine powers off mid-whatever). */
  kill(id: number): void;
  stop(): Promise<AppRun>;
}

/** Boots the demo (realtime, the port forward on an ephemeral host port) with `args` as the node's command line. */
export interface DemoNetwork {
  /** A /24 (default 10.0.0.0/24): node k is .k+1. */
  subnet?: string;
  /** Also join a Linux TAP of this name (root and socat; the run goes on without it otherwise). */
  tap?: string;
}

export async function startDemo(args: string[], extra: Record<string, unknown> = {}, nodes = 1, net: DemoNetwork = {}): Promise<RunningDemo> {
  const subnet = net.subnet ?? '10.0.0.0/24';
  const prefix = subnet.split('.').slice(0, 3).join('\\.');
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
      backend: { nodes, machine: { cores: 1, memory: '256MiB' } },
      network: {
        subnet,
        forwards: Array.from({ length: nodes }, (_, i) => ({ listen: '127.0.0.1:0', node: i + 1, port })),
        ...(net.tap !== undefined ? { tap: { name: net.tap } } : {}),
      },
      args,
      ...extra,
    }),
  );
  const lines: string[] = [];
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const up = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
  const abort = new AbortController();
  let kill: (id: number) => void = () => undefined;
  let listening = 0;
  const running = runApp(APP_DIR, {
    configFile,
    signal: abort.signal,
    onStarted: ({ platform }) => (kill = (id) => platform.node(id)!.kill('pulled the plug')),
    output: (l) => {
      lines.push(l);
      if (/listening on port/.test(l) && ++listening === nodes) ready();
      if (/failed:/.test(l)) failed(new Error(lines.join('\n')));
    },
  });
  running.catch((e: Error) => failed(e));
  const timer = setTimeout(() => failed(new Error(`the demo did not come up:\n${lines.join('\n')}`)), 30_000);
  await up;
  clearTimeout(timer);
  // The forward's line follows once the network is open.
  const forwards = () => lines.filter((l) => l.includes('(port forward'));
  for (let i = 0; i < 200 && forwards().length < nodes; i++) await new Promise((r) => setTimeout(r, 25));
  const forwardPorts = Array.from({ length: nodes }, (_, i) => {
    const m = new RegExp(`127\\.0\\.0\\.1:(\\d+) → ${prefix}\\.${i + 2}:\\d+ \\(port forward`).exec(forwards().join('\n'));
    if (m === null) throw new Error(`no port forward line for node ${i + 1}:\n${lines.join('\n')}`);
    return Number(m[1]);
  });
  // The TAP line (or the reason there is none) follows the forwards.
  if (net.tap !== undefined) for (let i = 0; i < 200 && !lines.some((l) => /network: (TAP|no TAP)/.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
  return {
    lines,
    tap: lines.some((l) => l.startsWith('network: TAP')) ? `${subnet.split('.').slice(0, 3).join('.')}.2` : undefined,
    forwardPort: forwardPorts[0]!,
    forwardPorts,
    kill: (id) => kill(id),
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

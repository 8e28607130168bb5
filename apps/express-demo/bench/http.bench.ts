/**
 * The same unmodified Express app, side by side, under autocannon (10 connections, keep-alive,
 * GET /api/hello): on plain Node (its own process), on the front-end's hosted stack (node:net under
 * our NetworkManager), on a back-end node's native stack through the port forward and through the
 * TAP, and with an unmodified Node load generator on a second simulated node (no Linux in the path).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { BenchReport, BenchResult } from '@ebbrt/bench-kit';
import { runApp } from '@ebbrt/runtime';
import { APP_DIR, startDemo } from '../test/run-demo.js';

const CONNECTIONS = 10;
const SECONDS = Number(process.env.EBBRT_BENCH_SECONDS ?? 3);
const AUTOCANNON = join(APP_DIR, 'node_modules', 'autocannon', 'autocannon.js');

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

function autocannon(url: string): Promise<Load> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [AUTOCANNON, '-c', String(CONNECTIONS), '-d', String(SECONDS), '-j', url], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`autocannon ${url}: ${stderr}`));
      const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
      if (r.errors > 0 || r.non2xx > 0) return reject(new Error(`autocannon ${url}: ${r.errors} errors, ${r.non2xx} non-2xx`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    }),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function plainNode(): Promise<Load> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(APP_DIR, 'server/app.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`plain node exited ${code}`)));
    });
    return await autocannon(`http://127.0.0.1:${port}/api/hello`);
  } finally {
    child.kill();
  }
}

async function tempConfig(name: string, config: object): Promise<string> {
  const dir = join(APP_DIR, 'test', '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${process.pid}.config.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function hosted(): Promise<Load> {
  const port = await freePort();
  const configFile = await tempConfig('bench-hosted', {
    name: 'bench-hosted',
    entry: { frontend: './src/backend.ts' },
    clock: 'realtime',
    frontend: { cores: 1, ebbs: { NetworkManager: '@ebbrt/network-manager-hosted', FileSystem: { package: '@ebbrt/file-system', options: { root: '.' } } } },
    args: ['server/app.js', String(port)],
  });
  const abort = new AbortController();
  let up!: () => void;
  const listening = new Promise<void>((r) => (up = r));
  const running = runApp(APP_DIR, { configFile, signal: abort.signal, output: (l) => l.includes('listening') && up() });
  try {
    await listening;
    return await autocannon(`http://127.0.0.1:${port}/api/hello`);
  } finally {
    abort.abort();
    await running;
    rmSync(configFile, { force: true });
  }
}

async function native(): Promise<{ forward: Load; tap: Load | undefined; tapWhy: string }> {
  const demo = await startDemo(['server/app.js', '3000'], {}, 1, { subnet: '10.0.9.0/24', tap: 'ebbrtnc9' });
  try {
    const forward = await autocannon(`http://127.0.0.1:${demo.forwardPort}/api/hello`);
    const tap = demo.tap === undefined ? undefined : await autocannon(`http://${demo.tap}:3000/api/hello`);
    return { forward, tap, tapWhy: demo.lines.find((l) => l.includes('no TAP')) ?? '' };
  } finally {
    await demo.stop();
  }
}

async function inSim(): Promise<Load> {
  const configFile = await tempConfig('bench-sim', {
    name: 'bench-sim',
    entry: { backend: './bench/pair-backend.ts' },
    clock: 'realtime',
    backend: { nodes: 2, machine: { cores: 1, memory: '256MiB' } },
    network: { subnet: '10.0.0.0/24' },
    args: ['server/app.js', '3000', 'bench/sim-load.cjs', String(CONNECTIONS), String(SECONDS)],
  });
  const lines: string[] = [];
  try {
    await runApp(APP_DIR, { configFile, output: (l) => lines.push(l) });
  } finally {
    rmSync(configFile, { force: true });
  }
  const line = lines.find((l) => l.includes('BENCH-SIM '));
  if (line === undefined) throw new Error(`the in-sim load generator printed nothing:\n${lines.join('\n')}`);
  return JSON.parse(line.slice(line.indexOf('BENCH-SIM ') + 10)) as Load;
}

const row = (name: string, l: Load): BenchResult => ({ name, medianNs: l.p50 * 1e6, p99Ns: l.p99 * 1e6, opsPerSec: Math.round(l.rps), p50Ms: l.p50, p99Ms: l.p99 });

export default async function run(): Promise<BenchReport> {
  const plain = await plainNode();
  const host = await hosted();
  const nat = await native();
  const sim = await inSim();
  const results = [row('express, plain Node (own process)', plain), row('express on the hosted stack (front-end)', host), row('express on a node, native stack, port forward', nat.forward)];
  if (nat.tap !== undefined) results.push(row('express on a node, native stack, TAP', nat.tap));
  results.push(row('express on a node, Node load generator on another simulated node', sim));
  const ratios: Record<string, number> = {
    'hosted/plain req/s': host.rps / plain.rps,
    'native-forward/plain req/s': nat.forward.rps / plain.rps,
    'in-sim/plain req/s': sim.rps / plain.rps,
  };
  if (nat.tap !== undefined) ratios['native-tap/plain req/s'] = nat.tap.rps / plain.rps;
  const notes = [`autocannon ${CONNECTIONS} connections, ${SECONDS} s each, GET /api/hello; medianNs/p99Ns are autocannon's p50/p99 latency`];
  if (nat.tap === undefined) notes.push(`no TAP row: ${nat.tapWhy}`);
  return { name: 'node-compat: one Express app, five ways', results, ratios, notes };
}

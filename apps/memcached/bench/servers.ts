/**
 * Server processes for the memcached bench. Every server runs in its own child process, in its
 * own process group (`detached`), so stopping it also stops what it started (the library OS's
 * socat, which owns the TAP device), and an exit hook SIGKILLs any group still alive if the bench
 * dies. Why children and not the bench process: the library OS's simulation runs on its process's
 * event loop; in the bench process it would share that thread with the bench's own bookkeeping
 * (spawning clients, reading their output, timers) and with the other servers under test. In a
 * child each server has its thread, heap and JIT to itself, as when a user runs
 * `pnpm ebbrt run apps/memcached`, and a crash or stall is contained. The clients (memcaslap) are
 * C processes either way. On 2 cores the server and memcaslap's 2 threads still share the CPUs,
 * the same for every server compared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const APP_DIR = join(BENCH_DIR, '..');
export const REPO_ROOT = join(APP_DIR, '..', '..');
/** Scratch files (configs, memcaslap workloads, traces); gitignored. */
export const TMP_DIR = join(BENCH_DIR, '.tmp', `run-${process.pid}`);

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Servers live in their own process groups, so a Ctrl-C at the terminal does not reach them: on
 * SIGINT/SIGTERM (while any is alive) stop them (SIGTERM: the library OS removes its TAP), SIGKILL
 * what is left after 2 s, then die of the signal as usual. On any exit, SIGKILL what is left.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (live.size === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    for (const child of live) killGroup(child, 'SIGTERM');
    const deadline = Date.now() + 2_000;
    const poll = setInterval(() => {
      if (live.size > 0 && Date.now() < deadline) return;
      clearInterval(poll);
      for (const child of live) killGroup(child, 'SIGKILL');
      removeTmp();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
    }, 50);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function tmpFile(name: string, text: string): string {
  mkdirSync(TMP_DIR, { recursive: true });
  const path = join(TMP_DIR, name);
  writeFileSync(path, text);
  return path;
}

export function removeTmp(): void {
  rmSync(TMP_DIR, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (bind 0, read it, close). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once a TCP connect to host:port succeeds (polling), rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every line the process printed (stdout and stderr). */
  readonly lines: string[];
  alive(): boolean;
  /** SIGTERM to the process (graceful), SIGKILL to its group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `cmd args` in its own process group and waits until `ready(lines)` returns true (checked
 * on every line). Rejects, after killing the group, if it exits first or takes over `timeoutMs`.
 */
export async function startProcess(
  name: string,
  cmd: string,
  args: readonly string[],
  ready: (lines: readonly string[]) => boolean,
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  installExitHook();
  const child = spawn(cmd, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  child.once('close', () => live.delete(child));
  let check: () => void = () => undefined;
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > 5000) lines.splice(0, 1000);
    check();
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 8_000): Promise<void> => {
    if (alive()) child.kill('SIGTERM');
    const force = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
    killGroup(child, 'SIGKILL'); // anything it left behind in its group
  };
  const handle: ServerProcess = { name, child, lines, alive, stop };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
      check = () => {
        if (ready(lines)) {
          clearTimeout(timer);
          check = () => undefined;
          resolve();
        }
      };
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${name}: ${e.message}`));
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${lines.slice(-20).join('\n')}`));
      });
      check();
    });
  } catch (error) {
    await stop(1_000);
    throw error;
  }
  return handle;
}

// ------------------------------------------------------------------ the servers under test

const RUNTIME_BIN = 'packages/runtime/src/bin.ts';
/** `pnpm ebbrt` without pnpm and tsx's wrapper process: one node process per server. */
const ebbrtCommand = (configPath: string, extra: readonly string[] = []): string[] => [
  '--import',
  'tsx',
  '--conditions=source',
  RUNTIME_BIN,
  'run',
  relative(REPO_ROOT, APP_DIR),
  '--config',
  relative(APP_DIR, configPath),
  ...extra,
];

export interface Endpoint {
  host: string;
  port: number;
}

/** The app on the hosted NetworkManager (node:net) in the front-end. */
export async function startHosted(memory: string): Promise<ServerProcess & { endpoint: Endpoint }> {
  const port = await freePort();
  const config = tmpFile(
    'hosted.config.ts',
    `import { defineConfig } from '@ebbrt/runtime';
// Written by bench/servers.ts: ebbrt.hosted.config.ts on a free port.
export default defineConfig({
  name: 'memcached',
  entry: { frontend: './src/main.ts' },
  clock: 'realtime',
  frontend: { cores: 1, ebbs: { NetworkManager: '@ebbrt/network-manager-hosted' } },
  args: ['--port', '${port}', '--memory-limit', '${memory}', '--max-item-size', '1MiB'],
});
`,
  );
  const p = await startProcess('hosted', process.execPath, ebbrtCommand(config), (l) => l.some((x) => x.includes('memcached: listening on port')));
  return Object.assign(p, { endpoint: { host: '127.0.0.1', port } });
}

export interface LibosOptions {
  memory: string;
  /** Linux TAP name and subnet; undefined: no TAP. */
  tap?: { name: string; subnet: string; socketBufferBytes?: number; mtu?: number; relay?: 'socat' | 'helper' };
  /** A port forward from 127.0.0.1 (port picked by the kernel, read from the output). */
  forward: boolean;
  /** Write a Chrome trace here when the run ends (`ebbrt run --trace`). */
  tracePath?: string;
  label?: string;
  /** Cores of the memcached node (default: the app config's, 2). */
  cores?: number;
  /** Options of the node's native NetworkManager (e.g. { mtu: 9000, rxBufferSize: 9216 }). */
  nicOptions?: Record<string, unknown>;
  /** Node flags for the server process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] (not allowed in NODE_OPTIONS). */
  nodeArgs?: readonly string[];
  /** More `ebbrt run` flags, e.g. ['--stats'] (the counters print when the server stops). */
  runArgs?: readonly string[];
  /** The gateway's NIC (config `network.gateway.nic`); default: the config's default ('direct'). */
  gatewayNic?: 'direct' | 'virtio';
}

export interface LibosServer extends ServerProcess {
  forward: Endpoint | undefined;
  tap: Endpoint | undefined;
}

/** The app as a library OS: one back-end node (2 cores, lwIP-style stack on virtio-net). */
export async function startLibos(o: LibosOptions): Promise<LibosServer> {
  const label = o.label ?? 'libos';
  const network: string[] = [`subnet: '${o.tap?.subnet ?? '10.0.0.0/24'}'`];
  if (o.forward) network.push(`forwards: [{ listen: '127.0.0.1:0', node: 1, port: 11211 }]`);
  if (o.gatewayNic !== undefined) network.push(`gateway: { nic: '${o.gatewayNic}' }`);
  if (o.tap !== undefined) {
    const buffer = o.tap.socketBufferBytes === undefined ? '' : `, socketBufferBytes: ${o.tap.socketBufferBytes}`;
    const mtu = o.tap.mtu === undefined ? '' : `, mtu: ${o.tap.mtu}`;
    const relay = o.tap.relay === undefined ? '' : `, relay: '${o.tap.relay}'`;
    // The app config's TAP options (its MTU, its relay) unless the bench names them: the node's
    // NIC runs at the app's MTU, so a TAP left at 1500 would make every TAP row an MTU-1500 figure.
    network.push(`tap: { ...(base.network?.tap ?? {}), name: '${o.tap.name}', required: true${buffer}${mtu}${relay} }`);
  }
  // The app's own ebbrt.config.ts, with the bench's TAP name/subnet, a free forward port and memory.
  const config = tmpFile(
    `${label}.config.ts`,
    `import base from ${JSON.stringify(pathToFileURL(join(APP_DIR, 'ebbrt.config.ts')).href)};
const backend = { ...base.backend${o.cores === undefined ? '' : `, machine: { ...base.backend.machine, cores: ${o.cores} }`}${o.nicOptions === undefined ? '' : `, ebbs: { ...base.backend.ebbs, NetworkManager: { package: '@ebbrt/network-manager-lwip', options: ${JSON.stringify(o.nicOptions)} } }`} };
export default { ...base, backend, network: { ${network.join(', ')} }, args: ['--port', '11211', '--memory-limit', '${o.memory}', '--max-item-size', '1MiB'] };
`,
  );
  const extra = [...(o.tracePath === undefined ? [] : ['--trace', o.tracePath]), ...(o.runArgs ?? [])];
  const forwardRe = /^network: 127\.0\.0\.1:(\d+) → (\d+\.\d+\.\d+\.\d+):11211/;
  const tapRe = /^network: TAP \S+ at /;
  const listening = (l: readonly string[]): boolean => l.some((x) => x.includes('memcached: listening on port'));
  const p = await startProcess(label, process.execPath, [...(o.nodeArgs ?? []), ...ebbrtCommand(config, extra)], (l) => {
    if (!listening(l) || !l.some((x) => x.startsWith('network: '))) return false;
    if (o.forward && !l.some((x) => forwardRe.test(x))) return false;
    if (o.tap !== undefined && !l.some((x) => tapRe.test(x))) return false;
    return true;
  });
  const fwd = p.lines.map((x) => forwardRe.exec(x)).find((m) => m !== null);
  const node1 = /node 1 = (\d+\.\d+\.\d+\.\d+)/.exec(p.lines.find((x) => x.includes('node 1 = ')) ?? '')?.[1];
  return Object.assign(p, {
    forward: fwd ? { host: '127.0.0.1', port: Number(fwd[1]) } : undefined,
    tap: o.tap !== undefined && node1 !== undefined ? { host: node1, port: 11211 } : undefined,
  });
}

/** The real thing: memcached with one worker thread. */
export async function startMemcached(memoryMiB: number): Promise<ServerProcess & { endpoint: Endpoint }> {
  const port = await freePort();
  const args = ['-t', '1', '-p', String(port), '-U', '0', '-l', '127.0.0.1', '-m', String(memoryMiB), '-c', '4096'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  // memcached prints nothing once it is up: start it, then poll its port.
  const p = await startProcess('memcached -t 1', 'memcached', args, () => true);
  await waitForPort('127.0.0.1', port).catch(async (e: Error) => {
    await p.stop(1_000);
    throw new Error(`memcached -t 1: ${e.message}\n${p.lines.join('\n')}`);
  });
  return Object.assign(p, { endpoint: { host: '127.0.0.1', port } });
}

/** The naive node:net server (naive-server.ts) in its own node process. */
export async function startNaive(): Promise<ServerProcess & { endpoint: Endpoint }> {
  const p = await startProcess('naive node:net', process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'naive-server.ts'), '0'], (l) =>
    l.some((x) => x.startsWith('listening ')),
  );
  const port = Number(p.lines.find((x) => x.startsWith('listening '))!.split(' ')[1]);
  return Object.assign(p, { endpoint: { host: '127.0.0.1', port } });
}

/** Runs a command to completion (asynchronously), for `ip`, `command -v`. */
export function runCommand(cmd: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    let output = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (e) => done({ code: -1, output: String(e) }));
    child.once('close', (code) => done({ code, output }));
  });
}

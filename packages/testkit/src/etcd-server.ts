/**
 * Starts Debian's etcd (the `etcd-server` package, /usr/bin/etcd) on loopback for a test: a
 * temporary data dir, free client and peer ports, ready once `/health` says so. `stop()` kills
 * it and keeps the data dir (so `start()` again finds the data); `dispose()` also removes the
 * data dir. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The etcd binary: $ETCD_BIN, else `etcd` on PATH or in /usr/bin, /usr/local/bin. */
export function findEtcd(): string | undefined {
  const explicit = process.env['ETCD_BIN'];
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (explicit) return executable(explicit) ? explicit : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  return dirs.filter((d) => d !== '').map((d) => join(d, 'etcd')).find(executable);
}

export const etcdBinary = findEtcd();
export const etcdMissingReason =
  etcdBinary !== undefined
    ? ''
    : process.env['ETCD_BIN']
      ? `ETCD_BIN=${process.env['ETCD_BIN']} is not an executable`
      : 'no etcd binary (apt-get install etcd-server, or set ETCD_BIN)';

/** A port the kernel just handed out and we released again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class EtcdServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly binary: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Last lines etcd printed, for failure messages. */
  log(): string {
    return this.output.split('\n').slice(-20).join('\n');
  }

  static async launch(readyTimeoutMs = 15_000): Promise<EtcdServer> {
    if (etcdBinary === undefined) throw new Error(etcdMissingReason);
    const dataDir = mkdtempSync(join(tmpdir(), 'ebbrt-etcd-'));
    const server = new EtcdServer(etcdBinary, dataDir, await freePort(), await freePort());
    try {
      await server.start(readyTimeoutMs);
    } catch (e) {
      await server.dispose();
      throw e;
    }
    return server;
  }

  /** Starts etcd on this server's data dir and ports and waits until it is healthy. */
  async start(readyTimeoutMs = 15_000): Promise<void> {
    if (this.child !== undefined) return;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(
      this.binary,
      [
        '--name', 'ebbrt-test',
        '--data-dir', this.dataDir,
        '--listen-client-urls', this.url,
        '--advertise-client-urls', this.url,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `ebbrt-test=${peer}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.child === child) this.child = undefined;
    });
    const deadline = performance.now() + readyTimeoutMs;
    while (performance.now() < deadline) {
      if (exited) throw new Error(`etcd exited during start-up:\n${this.log()}`);
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await r.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`etcd did not become healthy at ${this.url} within ${readyTimeoutMs} ms:\n${this.log()}`);
  }

  /** Kills etcd (SIGKILL: a crash, not a clean shutdown) and waits for it to exit; keeps the data. */
  async stop(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.kill(signal);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.child = undefined;
  }

  /** Stops etcd and removes its data dir. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

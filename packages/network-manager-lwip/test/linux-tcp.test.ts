/**
 * Linux interop for TCP: the Linux kernel's own TCP, in a network namespace behind a TAP device,
 * against our stack on a simulated native node (see linux-netns.ts). Needs root, ip, socat, curl
 * and python3: skipped without them, but FAILS under CI (CI installs them in .ci/run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IOBuf, type TcpConnection, type TcpListener } from '@ebbrt/interfaces';
import { LINUX_ADDRESS, NODE_ADDRESS, linuxPrerequisites, startLinuxNetns, type LinuxNetns } from '@ebbrt/testkit/linux-netns';

const MB = 1024 * 1024;
const SIZE = 10 * MB;

const pre0 = linuxPrerequisites();
const pre: typeof pre0 =
  pre0.ok && spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status !== 0
    ? { ok: false, reason: 'missing tools: curl (apt-get install curl)' }
    : pre0;
const reason = pre.ok ? '' : pre.reason;

if (!pre.ok && process.env.CI) {
  describe('Linux TCP interop through a TAP device', () => {
    it('has its prerequisites (CI installs them in .ci/run)', () => {
      expect.fail(`Linux TCP interop tests cannot run under CI: ${reason}`);
    });
  });
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Releases every received buffer; returns the bytes as one copy. */
function take(buf: IOBuf): Uint8Array {
  const bytes = buf.toUint8Array();
  buf.releaseChain();
  return bytes;
}

function checkNodeHealthy(env: LinuxNetns): void {
  expect(env.nm.iface.counters.internalErrors).toBe(0);
  expect(env.nm.tcp.stats.handlerErrors).toBe(0);
}

/** The two 10 MB transfers (echo Linux → node → Linux; node → Linux), on the session `env()`. */
function bulkTests(env: () => LinuxNetns, listeners: () => TcpListener[], label: string): void {
  it(`Linux client → echo server on the node: 10 MB random data back byte-exact (sha256)${label}`, async () => {
    const aborted: Error[] = [];
    const rtx0 = env().nm.tcp.stats.retransmits;
    const frx0 = env().nm.tcp.stats.fastRetransmits;
    await env().onNode(0, (rep) => {
      listeners().push(
        rep.tcpListen(7, () => ({
          receive: (conn, buf) => conn.sendQueued(buf), // zero-copy echo: ownership passes to send
          closed: (conn) => conn.close(), // FIN after the queued echo
          aborted: (_c, e) => void aborted.push(e),
        })),
      );
    });
    // Client in the namespace: writes SIZE random bytes (respecting back-pressure), half-closes,
    // reads everything back concurrently, prints JSON with hashes, counts and timing.
    const client = `
      const net = require('node:net'), crypto = require('node:crypto');
      const size = ${SIZE};
      const data = crypto.randomBytes(size);
      const hOut = crypto.createHash('sha256').update(data).digest('hex');
      const hIn = crypto.createHash('sha256');
      let got = 0, t0 = 0;
      const s = net.connect(7, '${NODE_ADDRESS}', () => {
        t0 = performance.now();
        let off = 0;
        const pump = () => {
          while (off < size) {
            const n = Math.min(65536, size - off);
            const ok = s.write(data.subarray(off, off + n));
            off += n;
            if (!ok) return s.once('drain', pump);
          }
          s.end();
        };
        pump();
      });
      s.on('data', (d) => { got += d.length; hIn.update(d); });
      s.on('end', () => {
        const ms = performance.now() - t0;
        process.stdout.write(JSON.stringify({ sent: hOut, received: hIn.digest('hex'), got, ms }));
      });
      s.on('error', (e) => { process.stderr.write(String(e)); process.exit(2); });
    `;
    const r = await env().inNs(process.execPath, ['-e', client], { timeoutMs: 25_000 });
    expect(r.code, `${r.stderr}\n${env().socatLog()}`).toBe(0);
    const out = JSON.parse(r.stdout) as { sent: string; received: string; got: number; ms: number };
    expect(out.got).toBe(SIZE);
    expect(out.received).toBe(out.sent);
    expect(aborted).toEqual([]);
    checkNodeHealthy(env());
    console.log(
      `${label.trim() || '(large UDP buffers)'} TCP echo, Linux → node → Linux: ${SIZE / MB} MB each way in ${out.ms.toFixed(0)} ms = ` +
        `${(SIZE / MB / (out.ms / 1e3)).toFixed(1)} MB/s each way; node: ${env().nm.tcp.stats.retransmits - rtx0} retransmits, ` +
        `${env().nm.tcp.stats.fastRetransmits - frx0} fast retransmits`,
    );
  }, 30_000);

  it(`node client → Linux listener: 10 MB sent by the node arrive byte-exact (sha256)${label}`, async () => {
    // Listener in the namespace: accepts one connection, hashes everything until FIN, prints JSON.
    const server = `
      const net = require('node:net'), crypto = require('node:crypto');
      const srv = net.createServer((s) => {
        const h = crypto.createHash('sha256');
        let got = 0; const t0 = performance.now();
        s.on('data', (d) => { got += d.length; h.update(d); });
        s.on('end', () => {
          const ms = performance.now() - t0;
          process.stdout.write(JSON.stringify({ hash: h.digest('hex'), got, ms }) + '\\n');
          s.end(); srv.close();
        });
        s.on('error', (e) => { process.stderr.write(String(e)); process.exit(2); });
      });
      srv.listen(5001, '${LINUX_ADDRESS}', () => process.stdout.write('ready\\n'));
      setTimeout(() => { process.stderr.write('listener timed out'); process.exit(3); }, 20000).unref();
    `;
    const child = spawn('ip', ['netns', 'exec', env().ns, process.execPath, '-e', server], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const kill = setTimeout(() => child.kill('SIGKILL'), 25_000);
    try {
      const readyBy = Date.now() + 5_000;
      while (!stdout.includes('ready\n')) {
        if (child.exitCode !== null || Date.now() > readyBy) throw new Error(`Linux listener did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }

      const data = new Uint8Array(randomBytes(SIZE));
      const rtx0 = env().nm.tcp.stats.retransmits;
      const frx0 = env().nm.tcp.stats.fastRetransmits;
      const state = { connected: false, closed: false, aborted: undefined as Error | undefined };
      await env().onNode(1, (rep) => {
        rep.tcpConnect(LINUX_ADDRESS, 5001, {
          receive: (_c, buf) => void buf.releaseChain(),
          connected: (c: TcpConnection) => {
            state.connected = true;
            for (let off = 0; off < data.length; off += 65536) {
              c.sendQueued(IOBuf.copyOf(data.subarray(off, Math.min(data.length, off + 65536))));
            }
            c.shutdown(); // FIN after the queued data; keep receiving until Linux closes
          },
          closed: (c) => {
            state.closed = true;
            c.close();
          },
          aborted: (_c, e) => void (state.aborted = e),
        });
      });
      const code = await exited;
      expect(code, `${stderr}\n${env().socatLog()}`).toBe(0);
      const out = JSON.parse(stdout.split('\n')[1]!) as { hash: string; got: number; ms: number };
      expect(state.connected).toBe(true);
      expect(out.got).toBe(SIZE);
      expect(out.hash).toBe(sha(data));
      // Linux's FIN reaches the node shortly after its 'end'.
      const end = Date.now() + 3_000;
      while (!state.closed && state.aborted === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(state.aborted).toBeUndefined();
      expect(state.closed).toBe(true);
      checkNodeHealthy(env());
      console.log(
        `${label.trim() || '(large UDP buffers)'} TCP node → Linux: ${SIZE / MB} MB in ${out.ms.toFixed(0)} ms (Linux's clock, accept to FIN) = ` +
          `${(SIZE / MB / (out.ms / 1e3)).toFixed(1)} MB/s; node: ${env().nm.tcp.stats.retransmits - rtx0} retransmits, ${env().nm.tcp.stats.fastRetransmits - frx0} fast retransmits`,
      );
    } finally {
      clearTimeout(kill);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 30_000);
}

/** One session (namespace, TAP, socat, node); `close()` in afterAll. */
function session(opts: Parameters<typeof startLinuxNetns>[0]): { env: () => LinuxNetns; listeners: () => TcpListener[] } {
  let env: LinuxNetns | undefined;
  const listeners: TcpListener[] = [];
  beforeAll(async () => {
    env = await startLinuxNetns(opts);
  }, 15_000);
  afterAll(async () => {
    if (env) await env.onNode(0, () => listeners.forEach((l) => l.close())).catch(() => {});
    await env?.close();
  }, 15_000);
  return { env: () => env!, listeners: () => listeners };
}

const skipped = pre.ok ? '' : ` — skipped: ${reason}`;

// 4 MiB UDP buffers on the tunnel: no host drops, so these measure the two stacks (0 retransmits).
describe.skipIf(!pre.ok)(`Linux TCP interop through a TAP device${skipped}`, () => {
  const { env: getEnv, listeners } = session({ maxRunMs: 90_000, udpBufferBytes: 4 * MB });
  let env: LinuxNetns;
  beforeAll(() => {
    env = getEnv();
  });

  bulkTests(getEnv, listeners, '');

  it('curl gets a body from a tiny HTTP/1.1 responder on the node (port 80)', async () => {
    const body = 'hello from EbbRT-TS\n';
    const requests: string[] = [];
    await env.onNode(0, (rep) => {
      listeners().push(
        rep.tcpListen(80, () => {
          let head = '';
          let answered = false;
          return {
            receive(conn, buf) {
              const bytes = take(buf);
              if (answered) return;
              head += Buffer.from(bytes).toString('latin1');
              if (!head.includes('\r\n\r\n')) return;
              answered = true;
              requests.push(head.slice(0, head.indexOf('\r\n')));
              const res =
                `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
                `Connection: close\r\n\r\n${body}`;
              conn.sendQueued(IOBuf.copyOf(res));
              conn.close();
            },
            closed: (conn) => conn.close(),
          };
        }),
      );
    });
    const r = await env.inNs('curl', ['-s', '-S', '--max-time', '5', '-D', '-', `http://${NODE_ADDRESS}/hello`], { timeoutMs: 8_000 });
    expect(r.code, `${r.stderr}\n${env.socatLog()}`).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.stdout.endsWith(`\r\n\r\n${body}`)).toBe(true);
    expect(requests).toEqual(['GET /hello HTTP/1.1']);
    checkNodeHealthy(env);
  }, 15_000);

  it('Linux connecting to a closed port on the node is refused at once (RST), not timed out', async () => {
    const rst0 = env.nm.tcp.stats.rstSent;
    const r = await env.inNs('socat', ['-u', 'OPEN:/dev/null', `TCP:${NODE_ADDRESS}:9,connect-timeout=5`], { timeoutMs: 8_000 });
    expect(r.code).not.toBe(0);
    expect(r.timedOut).toBe(false);
    // "refused", not "timed out": socat's connect-timeout would say the latter.
    expect(r.stderr).toMatch(/Connection refused/);
    expect(env.nm.tcp.stats.rstSent - rst0).toBeGreaterThanOrEqual(1);
  }, 15_000);
});

// Default (~208 KiB) UDP buffers: full-window bursts overflow them and the host drops datagrams
// (a few % of frames, both directions), so Linux's TCP and ours both recover from real loss.
describe.skipIf(!pre.ok)(`Linux TCP interop, lossy tunnel (default UDP buffers)${skipped}`, () => {
  const { env, listeners } = session({ maxRunMs: 60_000 });
  bulkTests(env, listeners, ' (lossy tunnel)');
});

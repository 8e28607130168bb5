/**
 * Flow control, Nagle and delayed ACKs against the Linux kernel's TCP in a netns behind the TAP
 * (issue 11 item 5). Needs root, ip, socat, python3: skipped without them, but FAILS under CI.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IOBuf, type TcpConnection, type TcpListener } from '@ebbrt/interfaces';
import { LINUX_ADDRESS, NODE_ADDRESS, linuxPrerequisites, startLinuxNetns, type LinuxNetns } from '@ebbrt/testkit/linux-netns';

const pre = linuxPrerequisites();
const reason = pre.ok ? '' : pre.reason;
const SCRIPT = fileURLToPath(new URL('./linux/raw-tcp.py', import.meta.url));

if (!pre.ok && process.env.CI) {
  describe('Linux TCP flow control interop through a TAP device', () => {
    it('has its prerequisites (CI installs them in .ci/run)', () => {
      expect.fail(`Linux TCP flow tests cannot run under CI: ${reason}`);
    });
  });
}

describe.skipIf(!pre.ok)(`Linux TCP flow control, Nagle, delayed ACK through a TAP device${pre.ok ? '' : ` — skipped: ${reason}`}`, () => {
  let env: LinuxNetns;
  const listeners: TcpListener[] = [];
  const py = (args: string[], timeoutMs = 30_000) => env.inNs('python3', [SCRIPT, ...args], { timeoutMs });
  const lastJson = (out: string): Record<string, unknown> => JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
  // A fixed sleep before connecting lost the race under load (CI at load ~70: python3 had not
  // listened yet, the node's SYN met a RST and the sink's accept timed out). Poll the kernel's
  // listen table instead.
  const listening = async (port: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await env.inNs('ss', ['-ltnH', `sport = :${port}`], { timeoutMs: 5_000 });
      if (r.code === 0 && r.stdout.trim() !== '') return;
      if (Date.now() > deadline) throw new Error(`python3 in the namespace never listened on port ${port} within 20 s (ss: ${r.stdout}${r.stderr})`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  beforeAll(async () => {
    env = await startLinuxNetns({ maxRunMs: 90_000 });
  }, 15_000);
  afterAll(async () => {
    if (env) await env.onNode(0, () => listeners.forEach((l) => l.close())).catch(() => {});
    await env?.close();
  }, 15_000);

  it('a paused receiver holds Linux to one receive window; after resume 8 MB arrive byte-exact', async () => {
    const SIZE = 8 << 20;
    const chunks: Uint8Array[] = [];
    let conn: TcpConnection | undefined;
    await env.onNode(0, (rep) => {
      listeners.push(
        rep.tcpListen(7100, (c) => {
          conn = c;
          c.pauseReceive();
          return {
            receive: (_c, d) => {
              chunks.push(d.toUint8Array());
              d.releaseChain();
            },
            closed: (x) => x.close(),
          };
        }),
      );
    });
    const sender = py(['send', NODE_ADDRESS, '7100', String(SIZE)]);
    await new Promise((r) => setTimeout(r, 2_000));
    const pcb = [...env.nm.tcp.pcbs.values()].find((p) => p.localPort === 7100)!;
    const held = pcb.rcvHeld;
    const probesSeen = env.nm.tcp.stats.segmentsIn;
    console.log(`paused: node holds ${held} bytes (window ${env.nm.tcp.config.receiveWindow}); delivered ${chunks.length} chunks`);
    expect(chunks.length).toBe(0);
    expect(held).toBeGreaterThan(0);
    // The scaled window field is rounded up to a whole unit (2^rcvScale bytes) so the advertised
    // right edge never moves left (RFC 7323 2.4, as Linux's tcp_select_window aligns up): the
    // peer may fill up to one unit minus a byte past the buffer. Seen: 262148 with a 262144 buffer.
    expect(held).toBeLessThanOrEqual(env.nm.tcp.config.receiveWindow + 2 ** pcb.rcvScale - 1);
    await env.onNode(0, () => conn!.resumeReceive());
    const r = await sender;
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    const h = createHash('sha256');
    let total = 0;
    for (const c of chunks) {
      h.update(c);
      total += c.length;
    }
    console.log(`resumed: ${total} bytes in ${String(out.ms)} ms total; ${env.nm.tcp.stats.windowUpdates} window updates, ${env.nm.tcp.stats.segmentsIn - probesSeen} segments in after pause`);
    expect(total).toBe(SIZE);
    expect(h.digest('hex')).toBe(out.sha256);
    expect(env.nm.tcp.stats.windowUpdates).toBeGreaterThan(0);
  }, 60_000);

  it("Nagle: 200 writes of 10 bytes reach Linux in a few segments with setNoDelay(false), 200 with setNoDelay(true)", async () => {
    // Under load Linux's ACKs can come after our RTO (546 data segments at CI load ~70): the
    // retransmissions say nothing about Nagle, so they are counted apart.
    const segmentsFor = async (port: number, noDelay: boolean): Promise<{ data: number; rtx: number }> => {
      let before = 0;
      let rtxBefore = 0;
      await env.onNode(0, (rep) => {
        listeners.push(
          rep.tcpListen(port, (c) => {
            c.setNoDelay(noDelay);
            return {
              receive: (x, d) => {
                d.releaseChain();
                before = env.nm.tcp.stats.dataSegmentsOut;
                rtxBefore = env.nm.tcp.stats.retransmits;
                for (let i = 0; i < 200; i++) x.sendQueued(IOBuf.copyOf(new Uint8Array(10).fill(i)));
                x.close();
              },
              closed: (x) => x.close(),
            };
          }),
        );
      });
      const r = await py(['fetch', NODE_ADDRESS, String(port), '2000']);
      expect(r.code, r.stderr).toBe(0);
      expect(lastJson(r.stdout).bytes).toBe(2000);
      return { data: env.nm.tcp.stats.dataSegmentsOut - before, rtx: env.nm.tcp.stats.retransmits - rtxBefore };
    };
    const nagle = await segmentsFor(7101, false);
    const noDelay = await segmentsFor(7102, true);
    console.log(`200 × 10-byte writes: ${noDelay.data} data segments with noDelay (${noDelay.rtx} retransmits), ${nagle.data} with Nagle (${nagle.rtx})`);
    // Every write its own segment; retransmissions (of data or the FIN) are all that may add to it.
    expect(noDelay.data).toBeGreaterThanOrEqual(200);
    expect(noDelay.data - noDelay.rtx).toBeLessThanOrEqual(200);
    if (noDelay.rtx === 0) expect(noDelay.data).toBe(200);
    expect(nagle.data - nagle.rtx).toBeLessThan(10);
  }, 30_000);

  it('SACK: negotiated with Linux both ways; under the tunnel\'s drops Linux\'s SACK blocks drive recovery, 16 MB arrive', async () => {
    const SIZE = 16 << 20;
    const s0 = { ...env.nm.tcp.stats };
    const sink = py(['sink', LINUX_ADDRESS, '7104', String(SIZE)], 60_000);
    await listening(7104);
    let sackOk = false;
    await env.onNode(0, (rep) => {
      let sent = 0;
      const chunk = IOBuf.copyOf(new Uint8Array(65536).fill(0x5a));
      const pump = (c: TcpConnection): void => {
        sackOk ||= [...env.nm.tcp.pcbs.values()].some((p) => p.remotePort === 7104 && p.sackOk);
        while (sent < SIZE && c.sendWindowRemaining() > 0) {
          const n = Math.min(65536, SIZE - sent, c.sendWindowRemaining());
          const v = chunk.clone();
          v.trimEnd(v.length - n);
          c.send(v);
          sent += n;
        }
        if (sent >= SIZE) c.close();
      };
      rep.tcpConnect(LINUX_ADDRESS, 7104, { receive: (_c, d) => d.releaseChain(), connected: pump, sendWindowIncreased: pump });
    });
    const r = await sink;
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    const st = env.nm.tcp.stats;
    const rtx = st.retransmits - s0.retransmits;
    const blocks = st.sackBlocksIn - s0.sackBlocksIn;
    console.log(
      `node → Linux 16 MB in ${String(out.ms)} ms = ${(16 / (Number(out.ms) / 1000)).toFixed(1)} MB/s; ${rtx} retransmits, ` +
        `${blocks} SACK blocks in, ${st.sackRecoveries - s0.sackRecoveries} SACK recoveries, ${st.timeouts - s0.timeouts} RTOs`,
    );
    expect(out.bytes).toBe(SIZE);
    expect(sackOk).toBe(true);
    if (st.fastRetransmits > s0.fastRetransmits) expect(blocks).toBeGreaterThan(0);
  }, 60_000);

  it('delayed ACK: a lone 100-byte segment from Linux is acknowledged by the delayed-ACK timer', async () => {
    await env.onNode(0, (rep) => {
      listeners.push(rep.tcpListen(7103, () => ({ receive: (_c, d) => d.releaseChain(), closed: (c) => c.close() })));
    });
    const d0 = env.nm.tcp.stats.delayedAcks;
    const r = await py(['small', NODE_ADDRESS, '7103']);
    expect(r.code, r.stderr).toBe(0);
    expect(env.nm.tcp.stats.delayedAcks - d0).toBe(1);
  }, 20_000);

  it('timestamps (opt-in): negotiated with Linux, on every segment; 8 MB node → Linux byte count exact through the lossy tunnel', async () => {
    const SIZE = 8 << 20;
    env.nm.tcp.config.timestamps = true;
    try {
      const s0 = env.nm.tcp.stats.tsRttSamples;
      const sink = py(['sink', LINUX_ADDRESS, '7106', String(SIZE)], 60_000);
      await listening(7106);
      let tsOk = false;
      let mss = 0;
      await env.onNode(0, (rep) => {
        let sent = 0;
        const chunk = IOBuf.copyOf(new Uint8Array(65536).fill(0x33));
        const pump = (c: TcpConnection): void => {
          const pcb = [...env.nm.tcp.pcbs.values()].find((p) => p.remotePort === 7106);
          if (pcb !== undefined) {
            tsOk ||= pcb.tsOk;
            mss = pcb.mss;
          }
          while (sent < SIZE && c.sendWindowRemaining() > 0) {
            const n = Math.min(65536, SIZE - sent, c.sendWindowRemaining());
            const v = chunk.clone();
            v.trimEnd(v.length - n);
            c.send(v);
            sent += n;
          }
          if (sent >= SIZE) c.close();
        };
        rep.tcpConnect(LINUX_ADDRESS, 7106, { receive: (_c, d) => d.releaseChain(), connected: pump, sendWindowIncreased: pump });
      });
      const r = await sink;
      expect(r.code, r.stderr).toBe(0);
      console.log(`timestamps with Linux: tsOk ${tsOk}, MSS ${mss}, ${env.nm.tcp.stats.tsRttSamples - s0} RTT samples from echoed timestamps; ${JSON.stringify(lastJson(r.stdout))}`);
      expect(lastJson(r.stdout).bytes).toBe(SIZE);
      expect(tsOk).toBe(true);
      expect(mss).toBe(1448);
    } finally {
      env.nm.tcp.config.timestamps = false;
    }
  }, 60_000);

  // Last: it takes the namespace's link down for a while.
  it('keepalive: Linux answers the probes of an idle connection; when Linux vanishes (link down) the node reaps it', async () => {
    const cfg = env.nm.tcp.config;
    cfg.keepaliveIntervalNs = 300e6;
    cfg.keepaliveProbes = 3;
    const sink = py(['sink', LINUX_ADDRESS, '7105', '1'], 7_000);
    await listening(7105);
    const aborted: Array<Error & { code?: string }> = [];
    const p0 = env.nm.tcp.stats.keepaliveProbes;
    await env.onNode(0, (rep) => {
      const c = rep.tcpConnect(LINUX_ADDRESS, 7105, { receive: (_c, d) => d.releaseChain(), aborted: (_c, e) => void aborted.push(e) });
      c.setKeepAlive(true, 400);
    });
    await new Promise((r) => setTimeout(r, 2_500));
    const answered = env.nm.tcp.stats.keepaliveProbes - p0;
    expect(aborted.map((e) => e.message)).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(2);
    const down = await env.inNs('ip', ['link', 'set', env.tap, 'down']);
    expect(down.code, down.stderr).toBe(0);
    const t0 = Date.now();
    while (aborted.length === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const reapedMs = Date.now() - t0;
    await env.inNs('ip', ['link', 'set', env.tap, 'up']);
    console.log(`keepalive: ${answered} probes answered by Linux in 2.5 s idle; link down → reaped after ${reapedMs} ms (${aborted[0]?.code})`);
    expect(aborted.map((e) => e.code)).toEqual(['ETIMEDOUT']);
    expect(env.nm.tcp.stats.keepaliveTimeouts).toBe(1);
    await sink.catch(() => undefined);
  }, 30_000);
});

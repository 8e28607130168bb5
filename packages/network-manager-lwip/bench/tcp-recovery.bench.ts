/**
 * Loss recovery against the Linux kernel's TCP through the TAP with the tunnel's own drops (the
 * "lossy tunnel" of test/linux-tcp.test.ts: default UDP buffers, so full-window bursts overflow
 * them and a few % of frames are lost both ways), side by side in one run:
 *
 * - `newreno`: connections opened with SACK off on the node (the stack before SACK: RFC 6582
 *   NewReno, one hole per round trip, RTO otherwise);
 * - `sack`: SACK negotiated with Linux (RFC 2018) and RFC 6675 recovery.
 *
 * Each mode moves RECOVERY_MB Linux → node (node receives) and node → Linux (node sends),
 * RECOVERY_RUNS times, interleaved. Payload MB/s per wall second, medians; ratios sack/newreno.
 * Needs root, /dev/net/tun, ip, socat, python3; without them it returns an empty report with a note.
 */
import { fileURLToPath } from 'node:url';
import { IOBuf, type TcpConnection, type TcpHandler, type TcpListener } from '@ebbrt/interfaces';
import { median, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { LINUX_ADDRESS, NODE_ADDRESS, linuxPrerequisites, startLinuxNetns, type LinuxNetns } from '@ebbrt/testkit/linux-netns';

const MB = 1 << 20;
const SIZE = Number(process.env.RECOVERY_MB ?? 16) * MB;
const RUNS = Number(process.env.RECOVERY_RUNS ?? 3);
const SCRIPT = fileURLToPath(new URL('../test/linux/raw-tcp.py', import.meta.url));
const CHUNK = IOBuf.copyOf(new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff));

type Mode = 'newreno' | 'sack';
interface Run {
  mbps: number;
  retransmits: number;
  sackRecoveries: number;
  timeouts: number;
}

function lastJson(out: string): Record<string, unknown> {
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

function sender(total: number, done: () => void): TcpHandler {
  let sent = 0;
  const pump = (c: TcpConnection): void => {
    while (sent < total && c.sendWindowRemaining() > 0) {
      const n = Math.min(CHUNK.length, total - sent, c.sendWindowRemaining());
      const v = CHUNK.clone();
      v.trimEnd(v.length - n);
      c.send(v);
      sent += n;
    }
    if (sent >= total) {
      c.close();
      done();
    }
  };
  return { receive: (_c, d) => d.releaseChain(), connected: pump, sendWindowIncreased: pump, aborted: done };
}

async function once(env: LinuxNetns, mode: Mode, dir: 'in' | 'out', port: number): Promise<Run> {
  env.nm.tcp.config.sack = mode === 'sack'; // read when a connection's SYN is handled
  const s0 = { ...env.nm.tcp.stats };
  const t0 = performance.now();
  if (dir === 'in') {
    let listener: TcpListener | undefined;
    await env.onNode(0, (rep) => {
      listener = rep.tcpListen(port, () => ({ receive: (_c, d) => d.releaseChain(), closed: (c) => c.close() }));
    });
    const r = await env.inNs('python3', [SCRIPT, 'send', NODE_ADDRESS, String(port), String(SIZE)], { timeoutMs: 60_000 });
    await env.onNode(0, () => listener?.close());
    if (r.code !== 0) throw new Error(`Linux sender failed: ${r.stderr}`);
  } else {
    const sink = env.inNs('python3', [SCRIPT, 'sink', LINUX_ADDRESS, String(port), String(SIZE)], { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300)); // the sink listens
    await env.onNode(0, (rep) => new Promise<void>((resolve) => rep.tcpConnect(LINUX_ADDRESS, port, sender(SIZE, resolve))));
    const r = await sink;
    if (r.code !== 0 || lastJson(r.stdout).bytes !== SIZE) throw new Error(`Linux sink failed: ${r.stderr} ${r.stdout}`);
  }
  const s = (performance.now() - t0) / 1e3;
  const st = env.nm.tcp.stats;
  return {
    mbps: SIZE / MB / s,
    retransmits: st.retransmits - s0.retransmits,
    sackRecoveries: st.sackRecoveries - s0.sackRecoveries,
    timeouts: st.timeouts - s0.timeouts,
  };
}

export default async function run(): Promise<BenchReport> {
  const pre = linuxPrerequisites();
  if (!pre.ok) return { name: 'TCP loss recovery vs Linux (TAP, lossy tunnel)', results: [], ratios: {}, notes: [`skipped: ${pre.reason}`] };
  const env = await startLinuxNetns({ maxRunMs: 300_000 });
  const runs: Record<string, Run[]> = { 'newreno in': [], 'sack in': [], 'newreno out': [], 'sack out': [] };
  const notes: string[] = [];
  try {
    let port = 6100;
    for (let i = 0; i < RUNS; i++) {
      for (const dir of ['in', 'out'] as const) {
        for (const mode of ['newreno', 'sack'] as const) {
          try {
            runs[`${mode} ${dir}`]!.push(await once(env, mode, dir, port++));
          } catch (e) {
            notes.push(`${mode} ${dir} run ${i}: ${(e as Error).message}`);
          }
        }
      }
    }
  } finally {
    env.nm.tcp.config.sack = true;
    await env.close();
  }
  const results: BenchResult[] = [];
  const med: Record<string, number> = {};
  for (const [name, rs] of Object.entries(runs)) {
    if (rs.length === 0) continue;
    med[name] = median(rs.map((r) => r.mbps));
    results.push({
      name: `${name} (${SIZE / MB} MB)`,
      medianNs: (SIZE / MB / med[name]!) * 1e9,
      MBps: Number(med[name]!.toFixed(2)),
      runsMBps: rs.map((r) => Number(r.mbps.toFixed(2))),
      retransmits: rs.map((r) => r.retransmits),
      sackRecoveries: rs.map((r) => r.sackRecoveries),
      timeouts: rs.map((r) => r.timeouts),
    });
  }
  const ratios: Record<string, number> = {};
  if (med['sack in'] !== undefined && med['newreno in'] !== undefined) ratios['sack/newreno in'] = med['sack in'] / med['newreno in'];
  if (med['sack out'] !== undefined && med['newreno out'] !== undefined) ratios['sack/newreno out'] = med['sack out'] / med['newreno out'];
  return { name: 'TCP loss recovery vs Linux (TAP, lossy tunnel)', results, ratios, notes };
}

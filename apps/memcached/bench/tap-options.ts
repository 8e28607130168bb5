/**
 * Part `tap` of the memcached bench (issue 17 items 3 and 5): the library OS through the TAP with
 * each option of the path, side by side in one run, at small and large values, next to
 * `memcached -t 1` at the same points.
 *
 * Variants (one library-OS process each, all started up front, each with its own TAP and subnet;
 * an idle one costs no CPU):
 * - `default buffers`: both UDP sockets of the bridge at the system default (~208 KiB): what the
 *   path was before socat's socket got a buffer;
 * - `4 MiB buffers`: the default now (`network.tap.socketBufferBytes`);
 * - `4 MiB, MTU 9000`: plus jumbo frames (`network.tap.mtu` and the node's NetworkManager `mtu`);
 * - `helper` at MTU 1500 and 9000: the same, with host-network's C relay (`network.tap.relay:
 *   'helper'`) in place of socat: the frames of a burst share one UDP datagram each way.
 *
 * Rounds interleave every (variant, size) point, so drift hits all alike; medians of `runs`.
 * When the servers stop, each prints its counters (`ebbrt run --stats`): retransmits, RTOs and
 * the drops at each point of the TAP path go into the report as evidence for the ratios.
 */
import { median, serverStarter, type BenchResult } from '@ebbrt/bench-kit';
import { runMemcaslap } from './memcaslap.js';
import { startLibos, type Endpoint, type LibosServer, type ServerProcess } from './servers.js';

export interface TapVariant {
  key: string;
  label: string;
  socketBufferBytes: number;
  mtu: number;
  relay: 'socat' | 'helper';
}

export const TAP_VARIANTS: readonly TapVariant[] = [
  { key: 'sysbuf', label: 'TAP, default socket buffers', socketBufferBytes: 0, mtu: 1500, relay: 'socat' },
  { key: 'buf4m', label: 'TAP, 4 MiB socket buffers', socketBufferBytes: 4 << 20, mtu: 1500, relay: 'socat' },
  { key: 'jumbo', label: 'TAP, 4 MiB, MTU 9000, socat', socketBufferBytes: 4 << 20, mtu: 9000, relay: 'socat' },
  { key: 'helper1500', label: 'TAP, 4 MiB, MTU 1500, helper', socketBufferBytes: 4 << 20, mtu: 1500, relay: 'helper' },
  { key: 'helper', label: 'TAP, 4 MiB, MTU 9000, helper (the app default)', socketBufferBytes: 4 << 20, mtu: 9000, relay: 'helper' },
];

export interface TapPartOptions {
  sizes: readonly number[];
  runs: number;
  seconds: number;
  connections: number;
  threads: number;
  keyBytes: number;
  getRatio: number;
  memory: string;
  /** `memcached -t 1`, measured at the same points, for the ratios; undefined: none. */
  memcached: Endpoint | undefined;
  /** TAP names are `${tapPrefix}${i}`, subnets 10.(80+i).0.0/24. */
  tapPrefix: string;
  log: (line: string) => void;
  /** Servers started here are pushed, so the caller stops them even when this throws. */
  servers: ServerProcess[];
}

export interface TapPartResult {
  results: BenchResult[];
  ratios: Record<string, number>;
  notes: string[];
  /** Per variant: ops/s medians by value size, and the counters the server printed. */
  figures: Record<string, { opsPerSec: Record<number, number>; counters: Record<string, number> }>;
}

/** Counters from `--stats` lines: `  tcp: k v, ...` and `ebbrt: TAP path: k v, ...` (node 1 only). */
export function parseStatsCounters(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const m = /^(?: {2}tcp: |ebbrt: TAP path: )(.*)$/.exec(l);
    if (m === null) continue;
    for (const kv of m[1]!.split(', ')) {
      const [k, v] = kv.split(' ');
      if (k !== undefined && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
    }
  }
  return out;
}

export async function tapPart(o: TapPartOptions): Promise<TapPartResult> {
  const notes: string[] = [];
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  const figures: TapPartResult['figures'] = {};
  const started: { v: TapVariant; server: LibosServer }[] = [];
  const start = serverStarter(o.servers, notes);
  for (const [i, v] of TAP_VARIANTS.entries()) {
    const server = await start(`tap part: ${v.label}`, () =>
      startLibos({
        memory: o.memory,
        forward: false,
        tap: { name: `${o.tapPrefix}${i}`, subnet: `10.${80 + i}.0.0/24`, socketBufferBytes: v.socketBufferBytes, mtu: v.mtu, relay: v.relay },
        nicOptions: { mtu: v.mtu, rxBufferSize: Math.max(2048, v.mtu + 216) },
        label: `libos-${v.key}`,
        runArgs: ['--stats'],
      }),
    );
    if (server !== undefined) started.push({ v, server });
  }
  const points = [...started.map((s) => ({ label: s.v.label, key: s.v.key, at: s.server.tap! })), ...(o.memcached ? [{ label: 'memcached -t 1', key: 'memcached', at: o.memcached }] : [])];
  const tps = new Map<string, number[]>();
  for (let round = 0; round < o.runs; round++) {
    for (const size of o.sizes) {
      for (const p of points) {
        const r = await runMemcaslap({
          server: `${p.at.host}:${p.at.port}`,
          connections: o.connections,
          threads: o.threads,
          seconds: o.seconds,
          keyBytes: o.keyBytes,
          valueBytes: size,
          getRatio: o.getRatio,
          binary: true,
        });
        o.log(`tap part: ${p.label}, ${size} B: ${Number.isFinite(r.tps) ? Math.round(r.tps) : 'n/a'} ops/s`);
        if (r.errors.length > 0) notes.push(`tap part: ${p.label}, ${size} B: memcaslap said: ${r.errors.join(' | ').slice(0, 200)}`);
        const k = `${p.key}/${size}`;
        if (!tps.has(k)) tps.set(k, []);
        if (Number.isFinite(r.tps)) tps.get(k)!.push(r.tps);
      }
    }
  }
  const med = (key: string, size: number): number => median(tps.get(`${key}/${size}`) ?? []);
  for (const p of points) {
    const ops: Record<number, number> = {};
    for (const size of o.sizes) {
      const m = med(p.key, size);
      ops[size] = m;
      const runs = tps.get(`${p.key}/${size}`) ?? [];
      results.push({ name: `tap part: ${p.label}, ${size} B values`, medianNs: 1e9 / m, opsPerSec: m, runs: runs.length, minOpsPerSec: Math.min(...runs), maxOpsPerSec: Math.max(...runs) });
    }
    figures[p.key] = { opsPerSec: ops, counters: {} };
    if (o.sizes.includes(512) && o.sizes.includes(16384)) ratios[`tap part: ${p.label}: ops/s 512 B / 16 KiB (aim <= 2)`] = ops[512]! / ops[16384]!;
    const mc32 = o.memcached ? med('memcached', o.sizes[0]!) : NaN;
    if (p.key !== 'memcached' && Number.isFinite(mc32)) ratios[`tap part: ${p.label} / memcached_t1, ${o.sizes[0]} B (aim >= 0.5)`] = ops[o.sizes[0]!]! / mc32;
  }
  // The relay's own gain, in the same run: helper ÷ socat at the same MTU and buffers.
  for (const [helper, socat] of [['helper1500', 'buf4m'], ['helper', 'jumbo']] as const) {
    for (const size of o.sizes) {
      const h = med(helper, size);
      const s = med(socat, size);
      if (Number.isFinite(h) && Number.isFinite(s) && s > 0) ratios[`tap part: helper / socat, MTU ${helper === 'helper' ? 9000 : 1500}, ${size} B`] = h / s;
    }
  }
  for (const s of started) {
    if (s.v.relay === 'helper' && s.server.lines.some((l) => l.includes('socat relays instead'))) notes.push(`tap part: ${s.v.label}: the helper could not be built, socat relayed (its figures are socat's)`);
    const before = s.server.lines.length;
    await s.server.stop(15_000);
    o.servers.splice(o.servers.indexOf(s.server), 1); // stopped on purpose: not "exited during the bench"
    const counters = parseStatsCounters(s.server.lines.slice(before));
    figures[s.v.key]!.counters = counters;
    const c = (k: string): number => counters[k] ?? NaN;
    notes.push(
      `tap part: ${s.v.label}: over all its runs the node sent ${c('dataSegmentsOut')} data segments, retransmitted ${c('retransmits')} (fast ${c('fastRetransmits')}, RTO expiries ${c('rtoExpirations')}, SACK recoveries ${c('sackRecoveries')}); drops at socat's UDP socket ${c('socatSocketDrops')}, at ours ${c('bridgeSocketDrops')}, TAP tx ${c('tapTxDropped')}, bridge send ${c('bridgeTxDropped')}; frames written into the TAP by the node's process ${c('tapWrites')} (failed ${c('tapWriteErrors')}; the helper's way out), packed datagrams out ${c('bridgePackedDatagramsOut')} for ${c('bridgeTxDatagrams')} frames, in ${c('bridgePackedDatagramsIn')} for ${c('bridgeRxDatagrams')}, rejected ${c('bridgeRxBadPacked')}`,
    );
  }
  notes.push(
    `tap part: memcaslap -B -T ${o.threads} -c ${o.connections}, ${o.keyBytes} B keys, 9:1 get:set, ${o.seconds} s per point, median of ${o.runs} interleaved rounds; variants: ${TAP_VARIANTS.map((v) => `${v.label} (socketBufferBytes ${v.socketBufferBytes}, mtu ${v.mtu}, relay ${v.relay})`).join('; ')}`,
  );
  return { results, ratios, notes, figures };
}

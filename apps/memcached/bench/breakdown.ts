/**
 * Per-request latency breakdown of the library OS: where a GET's time goes on the server node,
 * split into the virtio-net driver, the TCP/IP stack and the application (memcached), from the
 * simulation's Chrome trace.
 *
 * Method. The server runs with `ebbrt run --trace` and the realtime clock, so a span's duration is
 * the wall time its code ran. @ebbrt/network-manager-lwip records nested spans only when tracing
 * is on (src/phase-trace.ts): `driver` (interrupt handler / idle poll that found work, and
 * transmit), `stack` (NetInterface.input: Ethernet → IPv4 → TCP input; TcpConnection
 * send/sendQueued) and `app` (each TcpHandler callback: memcached's receive, which parses, looks
 * up and calls sendQueued). They nest: driver ⊃ stack ⊃ app ⊃ stack ⊃ driver, so each phase's
 * time is its spans' self time (duration minus the spans directly inside). The scheduler's
 * `slice` spans (a core running events) enclose them; the part of a slice that did request work
 * but is in no phase span is the event loop (Event Manager dispatch, timers), reported as
 * "event loop". Slices with no phase span inside (idle polls) are idle, not per-request cost.
 *
 * A small closed-loop client (one connection, binary protocol, one GET in flight, 16 B key, 32 B
 * value) makes requests one at a time, so the trace splits into requests: a request starts at a
 * top-level span (on either core) that contains an `app` span, and owns everything until the
 * next one. Per request we sum each phase's self time, then take the median over requests
 * (warm-up and the connection's close excluded). The client also times each round trip; what is
 * not on the node (Linux TCP, the TAP/socat/UDP bridge, the simulated NIC and switch, the client)
 * is the round trip minus the node's total.
 */
import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Endpoint } from './servers.js';

export type Phase = 'driver' | 'stack' | 'app' | 'event loop';
export const PHASES: readonly Phase[] = ['driver', 'stack', 'app', 'event loop'];

interface Span {
  name: string;
  tid: number;
  start: number; // ns
  dur: number; // ns
  self: number;
  parent: number; // index, -1 for top level
  hasApp: boolean;
}

export interface RequestBreakdown {
  /** Self time per phase, ns. */
  ns: Record<Phase, number>;
  framesIn: number;
  framesOut: number;
}

/** Reads the node's spans from a Chrome trace written by TraceRecorder (one event per line). */
export async function readNodeSpans(tracePath: string, machineName = 'node1'): Promise<Span[]> {
  const raw: { name: string; pid: number; tid: number; ts: number; dur: number }[] = [];
  let pid = -1;
  const rl = createInterface({ input: createReadStream(tracePath), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.startsWith('{"name"')) continue;
    const e = JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as {
      name: string;
      ph: string;
      pid: number;
      tid: number;
      ts: number;
      dur?: number;
      args?: { name?: string };
    };
    if (e.ph === 'M' && e.name === 'process_name' && e.args?.name === machineName) pid = e.pid;
    if (e.ph === 'X' && e.dur !== undefined && (e.name === 'slice' || e.name === 'driver' || e.name === 'stack' || e.name === 'app')) {
      raw.push({ name: e.name, pid: e.pid, tid: e.tid, ts: e.ts, dur: e.dur });
    }
  }
  if (pid < 0) throw new Error(`trace ${tracePath} has no machine named ${machineName}`);
  const spans: Span[] = raw
    .filter((e) => e.pid === pid)
    .map((e) => ({ name: e.name, tid: e.tid, start: Math.round(e.ts * 1000), dur: Math.round(e.dur * 1000), self: 0, parent: -1, hasApp: false }));
  // Parents first: by start, then the longer (enclosing) span, then slice before phase spans.
  spans.sort((a, b) => a.start - b.start || b.dur - a.dur || (a.name === 'slice' ? -1 : b.name === 'slice' ? 1 : 0));
  for (const tid of new Set(spans.map((s) => s.tid))) {
    const stack: number[] = [];
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      if (s.tid !== tid) continue;
      s.self = s.dur;
      while (stack.length > 0) {
        const top = spans[stack[stack.length - 1]!]!;
        if (s.start < top.start + top.dur) break;
        stack.pop();
      }
      if (stack.length > 0) {
        const p = stack[stack.length - 1]!;
        s.parent = p;
        spans[p]!.self -= s.dur;
      }
      stack.push(i);
    }
  }
  for (const s of spans) {
    if (s.name !== 'app') continue;
    for (let p = s.parent; p >= 0; p = spans[p]!.parent) spans[p]!.hasApp = true;
  }
  return spans;
}

/** Splits the node's spans into requests (see the module comment) and sums each phase's self time. */
export function perRequest(spans: readonly Span[]): RequestBreakdown[] {
  const out: RequestBreakdown[] = [];
  let cur: RequestBreakdown | undefined;
  const isPhase = (s: Span): boolean => s.name !== 'slice';
  // Which slices did phase work: any phase span directly inside.
  const busySlice = new Set<number>();
  spans.forEach((s) => {
    if (isPhase(s) && s.parent >= 0 && spans[s.parent]!.name === 'slice') busySlice.add(s.parent);
  });
  spans.forEach((s, i) => {
    const topPhase = isPhase(s) && (s.parent < 0 || spans[s.parent]!.name === 'slice');
    if (topPhase && s.hasApp) {
      cur = { ns: { driver: 0, stack: 0, app: 0, 'event loop': 0 }, framesIn: 0, framesOut: 0 };
      out.push(cur);
    }
    if (cur === undefined) return;
    if (s.name === 'slice') {
      if (busySlice.has(i)) cur.ns['event loop'] += Math.max(0, s.self);
      return;
    }
    cur.ns[s.name as Phase] += Math.max(0, s.self);
    const parentName = s.parent >= 0 ? spans[s.parent]!.name : '';
    if (s.name === 'stack' && parentName === 'driver') cur.framesIn++;
    if (s.name === 'driver' && parentName === 'stack') cur.framesOut++;
  });
  return out;
}

// ------------------------------------------------------------------ closed-loop client

function binaryRequest(opcode: number, key: Buffer, extras: Buffer, value: Buffer, opaque: number): Buffer {
  const b = Buffer.alloc(24 + extras.length + key.length + value.length);
  b[0] = 0x80;
  b[1] = opcode;
  b.writeUInt16BE(key.length, 2);
  b[4] = extras.length;
  b.writeUInt32BE(extras.length + key.length + value.length, 8);
  b.writeUInt32BE(opaque, 12);
  extras.copy(b, 24);
  key.copy(b, 24 + extras.length);
  value.copy(b, 24 + extras.length + key.length);
  return b;
}

/**
 * One connection, binary protocol: SET one 16 B key to a 32 B value, then `warmup + n` GETs one
 * at a time. Returns the wall round trip of each of the last `n` GETs (ns), or throws on a bad
 * reply or a stall.
 */
export async function closedLoopGets(at: Endpoint, warmup: number, n: number, timeoutMs = 60_000): Promise<number[]> {
  const key = Buffer.from('bench:key:000001'); // 16 bytes
  const value = Buffer.alloc(32, 0x61);
  const socket: Socket = connect({ host: at.host, port: at.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const rtts: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`closed-loop client: stalled after ${rtts.length} GETs`)), timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      let pending: Buffer = Buffer.alloc(0);
      let sent = 0; // 0 = the SET
      let t0 = 0;
      const extras = Buffer.alloc(8); // flags 0, expiry 0
      const get = binaryRequest(0x00, key, Buffer.alloc(0), Buffer.alloc(0), 1);
      const next = (): void => {
        t0 = performance.now();
        socket.write(get);
      };
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        while (pending.length >= 24) {
          const total = 24 + pending.readUInt32BE(8);
          if (pending.length < total) return;
          const rtt = (performance.now() - t0) * 1e6;
          const magic = pending[0]!;
          const status = pending.readUInt16BE(6);
          const opcode = pending[1]!;
          pending = pending.subarray(total);
          if (magic !== 0x81) {
            clearTimeout(timer);
            reject(new Error(`closed-loop client: response magic 0x${magic.toString(16)}`));
            return;
          }
          if (status !== 0) {
            clearTimeout(timer);
            reject(new Error(`closed-loop client: opcode ${opcode} status 0x${status.toString(16)}`));
            return;
          }
          if (opcode === 0x00 && total - 24 !== 4 + value.length) {
            clearTimeout(timer);
            reject(new Error(`closed-loop client: GET returned ${total - 24 - 4} bytes, expected ${value.length}`));
            return;
          }
          if (sent > warmup) rtts.push(rtt);
          if (sent === warmup + n) {
            clearTimeout(timer);
            resolve();
            return;
          }
          sent++;
          next();
        }
      });
      t0 = performance.now();
      socket.write(binaryRequest(0x01, key, extras, value, 0));
    });
  } finally {
    socket.end();
    socket.destroy();
  }
  return rtts;
}


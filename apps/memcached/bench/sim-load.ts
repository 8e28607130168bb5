/**
 * The simulated stack's own capacity: memcached (the app's `startMemcached`) on one simulated node,
 * and a closed-loop binary-protocol load generator on ANOTHER simulated node of the same
 * simulation (the lwIP package's `netFixture`: two native nodes, SLQB, virtio-net, one switch).
 * No TAP, no socat, no Linux: every frame on both sides goes through our stack and device model,
 * so ops per wall second is what one Node process can push through two library OSes, and ops per
 * virtual second is what the simulated machines would do (CPU work costs no virtual time: it is
 * bounded by the links' latency and the window of requests in flight).
 *
 * Load: CONNECTIONS connections, each with one request in flight (memcaslap's closed loop),
 * binary GET/SET at 9:1, 16 B keys from a key space of KEYS, 32 B values; the key space is filled
 * before timing starts so GETs hit. The PRNG is a seeded xorshift: the simulated run is
 * deterministic for a seed (only how long a wall second lasts varies).
 *
 * Run alone (for `node --cpu-prof`): `node --conditions=source --import tsx apps/memcached/bench/sim-load.ts [seconds]`.
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type MemoryAllocator, type NetworkManager, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { netFixture } from '@ebbrt/testkit/net';
import { startMemcached } from '../src/index.js';

export interface SimLoadOptions {
  /** Wall seconds of timed load (after warm-up). */
  seconds?: number;
  connections?: number;
  keyBytes?: number;
  valueBytes?: number;
  getRatio?: number;
  keys?: number;
  seed?: number;
  /** Wall seconds of untimed load before measuring (JIT warm-up). */
  warmupSeconds?: number;
  /** Both nodes' NIC MTU (default 1500; the app's own config runs 9000). */
  mtu?: number;
  /** Both nodes' TCP tail loss probe (the lwIP option `tcpTailLossProbe`; default off). */
  tailLossProbe?: boolean;
}

export interface SimLoadResult {
  ops: number;
  wallSeconds: number;
  virtualSeconds: number;
  opsPerWallSecond: number;
  opsPerVirtualSecond: number;
  gets: number;
  getMisses: number;
  sets: number;
  /** Frames each NIC sent during the timed window, per op. */
  framesPerOp: number;
  /** Frames both NICs dropped for want of a posted RX buffer (a burst larger than the ring and its host queue), whole run. */
  rxNoBuffer: number;
  /** Frames both NICs held in their host-side queue until RX buffers were posted (hw-x86sim `rxBacklogFrames`), whole run. */
  rxBacklogged: number;
  /** Retransmission timeouts on both nodes, whole run (a lost tail waits for one: 200 ms virtual). */
  rtoExpirations: number;
  errors: string[];
}

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
const HEADER = 24;
const OP_GET = 0x00;
const OP_SET = 0x01;
const SERVER = '10.0.0.2';
const PORT = 11211;

/** A binary request: header + extras + key + value. */
function request(op: number, key: Uint8Array, value: Uint8Array | undefined, opaque: number): Uint8Array {
  const extras = op === OP_SET ? 8 : 0;
  const vlen = value?.length ?? 0;
  const b = new Uint8Array(HEADER + extras + key.length + vlen);
  const dv = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = op;
  dv.setUint16(2, key.length);
  b[4] = extras;
  dv.setUint32(8, extras + key.length + vlen);
  dv.setUint32(12, opaque);
  // SET extras: flags 0, expiration 0.
  b.set(key, HEADER + extras);
  if (value !== undefined) b.set(value, HEADER + extras + key.length);
  return b;
}

export async function runSimLoad(o: SimLoadOptions = {}): Promise<SimLoadResult> {
  const seconds = o.seconds ?? 10;
  const warmupSeconds = o.warmupSeconds ?? 1;
  const conns = o.connections ?? 64;
  const keyBytes = o.keyBytes ?? 16;
  const valueBytes = o.valueBytes ?? 32;
  const getRatio = o.getRatio ?? 0.9;
  const nKeys = o.keys ?? 1024;
  const errors: string[] = [];

  // Node 1 (10.0.0.2) serves; node 0 (10.0.0.1) loads. 2 cores each, as the runtime's back-end.
  const mtu = o.mtu ?? 1500;
  // A receive buffer holds the virtio-net header, the Ethernet header and the frame (options.ts).
  const nic = { ...(mtu === 1500 ? {} : { mtu, rxBufferSize: mtu + 26 }), ...(o.tailLossProbe === true ? { tcpTailLossProbe: true } : {}) };
  const f = netFixture({ seed: o.seed ?? 1, nodes: 2, cores: 2, memoryBytes: 256 * 1024 * 1024, link: { latencyNs: 10_000 }, options: nic });
  const sim = f.sim;
  let serverUp = false;
  f.run(1, 0, async () => {
    await f.nodes[1]!.rep().whenReady();
    await startMemcached(nmRef.deref(), { port: PORT, threads: 2, nowMs: () => 1.7e12 + sim.now() / 1e6 });
    serverUp = true;
  });
  f.run(0, 0, () => f.nodes[0]!.rep().whenReady());
  await sim.run({ untilNs: sim.now() + 50e6 });
  if (!serverUp) throw new Error('sim memcached did not start');

  // Requests are prebuilt (one per key and op): the generator's own cost stays small.
  const value = new Uint8Array(valueBytes).fill(0x61);
  const keyOf = (k: number): Uint8Array => {
    const s = `key:${String(k).padStart(keyBytes - 4, '0')}`;
    return new TextEncoder().encode(s.slice(0, keyBytes));
  };
  // One GET and one SET per key, shared by the connections (the opaque field stays 0).
  const keys = Array.from({ length: nKeys }, (_, k) => keyOf(k));
  const getReqs = keys.map((key) => request(OP_GET, key, undefined, 0));
  const setReqs = keys.map((key) => request(OP_SET, key, value, 0));
  let counting = false;
  let ops = 0;
  let getCount = 0;
  let getMisses = 0;
  let setCount = 0;
  let fillNext = 0; // keys SET by the fill phase
  let filled = 0;
  let stopping = false;
  let closed = 0;
  let rng = ((o.seed ?? 1) * 2654435761) >>> 0 || 1;
  const rand = (): number => {
    rng ^= rng << 13;
    rng >>>= 0;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    rng >>>= 0;
    return rng / 4294967296;
  };

  const client = (c: number): TcpHandler => {
    // Response parse state: bytes still expected of the current response (-1: header not complete).
    const hdr = new Uint8Array(HEADER);
    let hdrHave = 0;
    let bodyLeft = -1;
    let status = 0;
    let lastOp = OP_GET;
    let filling = true;
    const next = (tcp: TcpConnection): void => {
      if (stopping) {
        tcp.close();
        return;
      }
      let op: number;
      let k: number;
      if (filling && fillNext < nKeys) {
        op = OP_SET;
        k = fillNext++;
      } else {
        filling = false;
        op = rand() < getRatio ? OP_GET : OP_SET;
        k = Math.floor(rand() * nKeys);
      }
      lastOp = op;
      // The request goes into the node's physical memory (the driver sends it without a copy),
      // as a library-OS client would: the generator should cost its node as little as it can.
      const req = op === OP_GET ? getReqs[k]! : setReqs[k]!;
      const buf = memRef.deref().allocIOBuf(req.length);
      buf.bytes.set(req, buf.offset);
      tcp.send(buf);
    };
    const done = (tcp: TcpConnection): void => {
      if (lastOp === OP_SET && status !== 0) errors.length < 5 && errors.push(`SET status ${status}`);
      if (filling) filled++;
      else if (counting) {
        ops++;
        if (lastOp === OP_GET) {
          getCount++;
          if (status !== 0) getMisses++;
        } else setCount++;
      }
      next(tcp);
    };
    return {
      connected: next,
      receive(tcp, data) {
        let e = data;
        do {
          let i = e.offset;
          const end = e.offset + e.length;
          const b = e.bytes;
          while (i < end) {
            if (bodyLeft < 0) {
              const k = Math.min(HEADER - hdrHave, end - i);
              hdr.set(b.subarray(i, i + k), hdrHave);
              hdrHave += k;
              i += k;
              if (hdrHave < HEADER) break;
              hdrHave = 0;
              status = (hdr[6]! << 8) | hdr[7]!;
              bodyLeft = ((hdr[8]! << 24) | (hdr[9]! << 16) | (hdr[10]! << 8) | hdr[11]!) >>> 0;
            }
            const k = Math.min(bodyLeft, end - i);
            i += k;
            bodyLeft -= k;
            if (bodyLeft === 0) {
              bodyLeft = -1;
              done(tcp);
            }
          }
          e = e.next;
        } while (e !== data);
        data.releaseChain();
      },
      closed: (tcp) => {
        closed++;
        tcp.close();
      },
      aborted: (_tcp, reason) => {
        if (errors.length < 5) errors.push(`connection ${c} aborted: ${reason.message}`);
      },
    };
  };
  // Connections from both cores of the client node, like memcaslap's two threads.
  for (let c = 0; c < conns; c++) {
    f.run(0, c % 2, () => {
      nmRef.deref().tcpConnect(SERVER, PORT, client(c));
    });
  }
  const runFor = async (wallMs: number): Promise<void> => {
    const t0 = performance.now();
    // Slices of virtual time short enough to look at the wall clock often.
    while (performance.now() - t0 < wallMs) await sim.run({ untilNs: sim.now() + 2e6 });
  };
  await runFor(warmupSeconds * 1000);
  if (filled < nKeys && errors.length === 0) errors.push(`fill incomplete: ${filled}/${nKeys} keys set during warm-up`);
  const framesBefore = f.nodes[0]!.nm.driver.device.stats.txFrames + f.nodes[1]!.nm.driver.device.stats.txFrames;
  counting = true;
  const w0 = performance.now();
  const v0 = sim.now();
  await runFor(seconds * 1000);
  counting = false;
  const wallSeconds = (performance.now() - w0) / 1000;
  const virtualSeconds = (sim.now() - v0) / 1e9;
  const frames = f.nodes[0]!.nm.driver.device.stats.txFrames + f.nodes[1]!.nm.driver.device.stats.txFrames - framesBefore;
  stopping = true;
  await sim.run({ untilNs: sim.now() + 1e9 });
  void closed;
  return {
    ops,
    wallSeconds,
    virtualSeconds,
    opsPerWallSecond: ops / wallSeconds,
    opsPerVirtualSecond: ops / virtualSeconds,
    gets: getCount,
    getMisses,
    sets: setCount,
    framesPerOp: frames / Math.max(1, ops),
    rxNoBuffer: f.nodes.reduce((a, n) => a + n.nm.driver.device.stats.rxDroppedNoBuffer, 0),
    rxBacklogged: f.nodes.reduce((a, n) => a + n.nm.driver.device.stats.rxBacklogged, 0),
    rtoExpirations: f.nodes.reduce((a, n) => a + n.nm.tcp.stats.rtoExpirations, 0),
    errors,
  };
}

// Standalone: print one run (for profiling).
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const seconds = Number(process.argv[2] ?? 10);
  const r = await runSimLoad({ seconds });
  console.log(JSON.stringify(r));
}

/**
 * Test bodies shared by the native (simulated) and hosted (loopback) clusters.
 */
import { IOBuf, NodeUnavailableError } from '@ebbrt/interfaces';
import { expect } from 'vitest';
import { payloadFor } from '@ebbrt/testkit/net';
import { jsonCodec, Messagable, MessagableType } from '../src/index.js';
import { messengerRef, type Cluster } from '@ebbrt/testkit/cluster';

/** Deterministic mixed sizes: a third up to `maxSize` (64 KiB), the rest small, some empty. */
export function sizes(count: number, seed: number, maxSize = 65536): number[] {
  let x = (seed * 2654435761) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const r = x % 1000;
    out.push(i === 0 ? 0 : i === 1 ? maxSize : r < 50 ? 0 : r < 350 ? x % (maxSize + 1) : x % 300);
  }
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export interface ExchangeResult {
  physViews: number;
  received: number;
}

/**
 * Node `a` sends `count` messages of mixed sizes to node `b`, from two cores at once and all
 * issued before any connection exists (core 0 sends 3 of 4 on one Ebb, core 1 the rest on
 * another); `b` checks exactly-once, per-core order and every byte.
 */
export async function exchange(c: Cluster, count: number, seed: number, a = 0, b = 1, maxSize = 65536): Promise<ExchangeResult> {
  const EBB = [0x8100 + seed * 2, 0x8101 + seed * 2];
  const sz = sizes(count, seed, maxSize);
  const expected: number[][] = [[], []];
  for (let i = 0; i < count; i++) expected[i % 4 === 3 ? 1 : 0]!.push(i);
  const got: { type: number; from: number; bytes: Uint8Array }[][] = [[], []];
  let physViews = 0;
  await c.run(b, 0, () => {
    for (const k of [0, 1]) {
      messengerRef.deref().register(EBB[k]!, (from, type, msg) => {
        if (msg.length > 0 && msg.physAddr() >= 0) physViews++;
        got[k]!.push({ type, from, bytes: msg.toUint8Array() });
        msg.releaseChain();
      });
    }
  });
  let resolved = 0;
  const rejected: unknown[] = [];
  for (const k of [0, 1]) {
    c.spawn(a, k, () => {
      for (const i of expected[k]!) {
        messengerRef
          .deref()
          .send(c.id(b), EBB[k]!, i, IOBuf.copyOf(payloadFor(i, sz[i]!)))
          .then(() => resolved++, (e: unknown) => rejected.push(e));
      }
    });
  }
  await c.until(() => got[0]!.length + got[1]!.length >= count || rejected.length > 0, `${count} messages delivered`);
  await c.idle(1e6);
  expect(rejected).toEqual([]);
  expect(resolved).toBe(count);
  for (const k of [0, 1]) {
    const g = got[k]!;
    expect(g.map((m) => m.type)).toEqual(expected[k]);
    expect(g.every((m) => m.from === c.id(a))).toBe(true);
    const bad = g.filter((m) => !same(m.bytes, payloadFor(m.type, sz[m.type]!))).map((m) => m.type);
    expect(bad).toEqual([]);
  }
  return { physViews, received: got[0]!.length + got[1]!.length };
}

/** Both nodes send to each other in the same instant: both connect at once. */
export async function simultaneous(c: Cluster, count = 100): Promise<void> {
  const EBB = 0x8200;
  const got: number[][] = [[], []];
  for (const i of [0, 1]) {
    await c.run(i, 0, () =>
      messengerRef.deref().register(EBB, (from, type, msg) => {
        msg.releaseChain();
        got[i]!.push(type);
        if (from !== c.id(1 - i)) got[i]!.push(-1);
      }),
    );
  }
  for (const i of [0, 1]) {
    c.spawn(i, 1, () => {
      for (let k = 0; k < count; k++) void messengerRef.deref().send(c.id(1 - i), EBB, k, IOBuf.copyOf(payloadFor(k, 100)));
    });
  }
  await c.until(() => got[0]!.length >= count && got[1]!.length >= count, 'both directions delivered');
  await c.idle(2e6);
  const seq = Array.from({ length: count }, (_, k) => k);
  expect(got[0]).toEqual(seq);
  expect(got[1]).toEqual(seq);
  for (const r of c.roots.slice(0, 2)) {
    const conns = r.connections();
    expect(conns.length).toBeGreaterThanOrEqual(1);
    expect(conns.length).toBeLessThanOrEqual(2);
  }
}

/** A Messagable ping-pong Ebb that nodes other than 0 have never heard of: faulted in by the first message. */
type Msg = { kind: 'ping'; n: number; note: string } | { kind: 'pong'; n: number; core: number };

export class PingPong extends Messagable<Msg> {
  static made = new Map<string, number>();
  pongs: number[] = [];
  pings: number[] = [];

  receive(from: number, msg: Msg): void {
    if (msg.kind === 'ping') {
      this.pings.push(msg.n);
      void this.sendTo(from, { kind: 'pong', n: msg.n, core: 0 });
    } else this.pongs.push(msg.n);
  }
}

export async function messagableFault(c: Cluster, nodes: number, perNode = 20): Promise<void> {
  const reps = new Map<number, PingPong[]>();
  const type = new MessagableType<Msg, PingPong>(0x7070, jsonCodec<Msg>(), (id, t, core) => {
    const rep = new PingPong(id, t as never);
    const list = reps.get(core.node.id) ?? [];
    list.push(rep);
    reps.set(core.node.id, list);
    return rep;
  });
  const ID = 0x8300;
  for (let i = 0; i < nodes; i++) await c.run(i, 0, () => type.install());
  await c.run(0, 0, async () => {
    const ref = type.create(ID);
    const sends: Promise<void>[] = [];
    for (let k = 0; k < perNode; k++) for (let i = 1; i < nodes; i++) sends.push(ref.deref().sendTo(c.id(i), { kind: 'ping', n: k, note: 'é'.repeat(k) }));
    await Promise.all(sends);
  });
  const node0 = (): PingPong[] => reps.get(c.id(0)) ?? [];
  await c.until(() => node0().reduce((s, r) => s + r.pongs.length, 0) >= perNode * (nodes - 1), 'pongs back on node 0');
  const seq = Array.from({ length: perNode }, (_, k) => k);
  for (let i = 1; i < nodes; i++) {
    // The type's fault handler built the Ebb's root once on this node; one rep per receiving core.
    const node = c.roots[i]!.node;
    expect(type.faults.get(node)).toBe(1);
    expect(c.roots[i]!.stats().typeFaults).toBe(1);
    const rs = reps.get(c.id(i)) ?? [];
    expect(rs.length).toBe(1);
    expect(rs[0]!.pings).toEqual(seq);
  }
  // Node 0 created the Ebb itself: no fault there.
  expect(type.faults.get(c.roots[0]!.node)).toBeUndefined();
  const pongs = node0().flatMap((r) => r.pongs).sort((x, y) => x - y);
  expect(pongs).toEqual(seq.flatMap((k) => Array(nodes - 1).fill(k)));
}

/** Unknown Ebb, no type: dropped, counted, logged once. */
export async function unknownDropped(c: Cluster): Promise<void> {
  for (let k = 0; k < 5; k++) await c.run(0, 0, () => messengerRef.deref().send(c.id(1), 0x8444, 0x4444, IOBuf.copyOf('lost')));
  await c.until(() => c.roots[1]!.stats().dropsNoHandler >= 5, 'drops counted');
  expect(c.logs[1]!.filter((l) => l.includes('0x8444')).length).toBe(1);
}

/** A peer whose address refuses connections: the send rejects naming the peer; a later send works. */
export async function refused(c: Cluster, address: string, port: number): Promise<void> {
  c.roots[0]!.setPeer(77, address, port);
  const err = await c.run(0, 0, () => messengerRef.deref().send(77, 0x8555, 1, IOBuf.copyOf('x')).then(() => undefined, (e: unknown) => e));
  expect(err).toBeInstanceOf(NodeUnavailableError);
  expect((err as NodeUnavailableError).nodeId).toBe(77);
  expect((err as Error).message).toMatch(/node 77/);
  expect(c.roots[0]!.stats().peers[77]!.sendsFailed).toBe(1);
}

/** close(peer) is graceful (everything sent arrives) and a later send reconnects. */
export async function closeAndReconnect(c: Cluster): Promise<void> {
  const EBB = 0x8600;
  const got: number[] = [];
  await c.run(1, 0, () => messengerRef.deref().register(EBB, (_f, t, m) => (m.releaseChain(), void got.push(t))));
  await c.run(0, 0, async () => {
    for (let k = 0; k < 10; k++) void messengerRef.deref().send(c.id(1), EBB, k, IOBuf.copyOf(payloadFor(k, 2000)));
    await messengerRef.deref().close(c.id(1));
  });
  expect(got).toEqual(Array.from({ length: 10 }, (_, k) => k));
  await c.until(() => c.roots[1]!.connections().length === 0, 'peer side closed');
  const opened = c.roots[0]!.stats().connectionsOpened;
  await c.run(0, 0, () => messengerRef.deref().send(c.id(1), EBB, 10, IOBuf.copyOf('again')));
  await c.until(() => got.length === 11, 'message after reconnect');
  expect(c.roots[0]!.stats().connectionsOpened).toBe(opened + 1);
}

import { cpu } from '@ebbrt/core-translation';
import { IOBuf, NodeUnavailableError, validateManifest } from '@ebbrt/interfaces';
import { afterEach, describe, expect, it } from 'vitest';
import { payloadFor, seeds } from '@ebbrt/testkit/net';
import { encodeHello, HELLO_MAGIC, manifest } from '../src/index.js';
import { closeAndReconnect, exchange, messagableFault, refused, simultaneous, unknownDropped } from './bodies.js';
import { hostedCluster, messengerRef, nativeCluster, nmRef, type Cluster } from '@ebbrt/testkit/cluster';

const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.dispose();
});
async function make(kind: 'native' | 'hosted', nodes = 2): Promise<Cluster> {
  const c = kind === 'native' ? await nativeCluster({ nodes }) : await hostedCluster({ nodes });
  clusters.push(c);
  return c;
}

describe('manifest', () => {
  it('is a valid Messenger manifest for both targets', () => {
    const m = validateManifest('@ebbrt/messenger', manifest);
    expect(m.implements).toBe('Messenger');
    expect([...m.targets].sort()).toEqual(['hosted', 'native']);
    expect(() => manifest.options!.parse({ peers: { x: '1.2.3.4:5' } })).toThrow();
    expect(() => manifest.options!.parse({ prot: 1 })).toThrow();
  });
});

describe.each(['native', 'hosted'] as const)('%s: the same test bodies', (kind) => {
  it('1000 messages of 0 B .. 64 KiB, all issued before the connection opens, from two cores: exactly once, in order, byte-exact', async () => {
    const c = await make(kind);
    const r = await exchange(c, 1000, 1);
    expect(r.received).toBe(1000);
    const a = c.roots[0]!.stats();
    const b = c.roots[1]!.stats();
    expect(a.peers[c.id(1)]).toMatchObject({ messagesSent: 1000, connectionsOpened: 1, sendsFailed: 0 });
    expect(b.peers[c.id(0)]).toMatchObject({ messagesReceived: 1000, connectionsAccepted: 1 });
    expect(b.peers[c.id(0)]!.bytesReceived).toBe(a.peers[c.id(1)]!.bytesSent);
    if (kind === 'native') expect(r.physViews).toBeGreaterThan(0); // payloads are views of the RX buffers
    expect(c.failures).toEqual([]);
  });

  it('both nodes connect to each other at once: every message exactly once, in order', async () => {
    const c = await make(kind);
    await simultaneous(c);
    expect(c.failures).toEqual([]);
  });

  it("a message for an Ebb a node never saw faults it in through the type's handler, once per node", async () => {
    const c = await make(kind, kind === 'native' ? 3 : 2);
    await messagableFault(c, kind === 'native' ? 3 : 2);
    expect(c.failures).toEqual([]);
  });

  it('a message for an unknown Ebb with no registered type is dropped, counted and logged once', async () => {
    const c = await make(kind);
    await unknownDropped(c);
  });

  it('a refused connection rejects the send with NodeUnavailableError naming the peer', async () => {
    const c = await make(kind);
    await refused(c, kind === 'native' ? '10.0.0.2' : '127.0.0.1', kind === 'native' ? 7999 : 1);
  });

  it('close(peer) flushes and closes gracefully; the next send reconnects', async () => {
    const c = await make(kind);
    await closeAndReconnect(c);
  });
});

describe('native only', () => {
  it('stays exact over 10 seeds with loss, duplication and reordering on every link', async () => {
    const impaired = { lost: 0, dup: 0, rtx: 0, virtS: 0 };
    for (const seed of seeds(10)) {
      const c = await nativeCluster({ seed, link: { loss: 0.02, duplicate: 0.02, reorder: 0.05 } });
      try {
        const r = await exchange(c, 300, seed, 0, 1);
        expect(r.received, `seed ${seed}`).toBe(300);
        const f = c.native!;
        const lost = f.nodes.reduce((n, x) => n + x.link.counters('aToB').lost + x.link.counters('bToA').lost, 0);
        const dup = f.nodes.reduce((n, x) => n + x.link.counters('aToB').duplicated + x.link.counters('bToA').duplicated, 0);
        const rtx = f.nodes.reduce((n, x) => n + x.nm.tcp.stats.retransmits + x.nm.tcp.stats.fastRetransmits, 0);
        impaired.lost += lost;
        impaired.dup += dup;
        impaired.rtx += rtx;
        impaired.virtS += f.sim.now() / 1e9;
      } catch (e) {
        throw new Error(`seed ${seed} (replay: EBBRT_SEED=${seed}): ${(e as Error).message}`);
      }
    }
    expect(impaired.lost).toBeGreaterThan(0);
    expect(impaired.dup).toBeGreaterThan(0);
    expect(impaired.rtx).toBeGreaterThan(0);
  });

  it('a partitioned peer rejects pending sends naming it while the other nodes keep talking; healed, it is reachable again', async () => {
    const c = await nativeCluster({ nodes: 3, netOptions: { tcpMaxRetries: 4, tcpMaxSynRetries: 2 } });
    const f = c.native!;
    const EBB = 0x8700;
    const got = new Map<number, number[]>([[2, []], [3, []]]);
    for (const i of [1, 2]) {
      await c.run(i, 0, () => messengerRef.deref().register(EBB, (_from, t, m) => (m.releaseChain(), void got.get(c.id(i))!.push(t))));
    }
    // Connections to both peers are up.
    await c.run(0, 0, () => Promise.all([2, 3].map((p) => messengerRef.deref().send(p, EBB, 0, IOBuf.copyOf('hi')))));
    await c.until(() => got.get(2)!.length === 1 && got.get(3)!.length === 1, 'first messages');

    f.nodes[2]!.link.setProps({ partitioned: true });
    const outcomes: unknown[] = [];
    await c.run(0, 1, () => {
      // Handed to TCP on the open connection: these resolve; TCP then gives up on the dead peer.
      for (let k = 1; k <= 3; k++) void messengerRef.deref().send(3, EBB, k, IOBuf.copyOf('into the void'));
    });
    const start = f.sim.now();
    let sent2 = 0;
    // Step the world in 50 ms slices; each slice node 1 also sends to node 2.
    await c.until(
      () => {
        if (c.roots[0]!.connections().filter((x) => x.peer === 3).length === 0) return true;
        sent2++;
        c.spawn(0, 0, () => void messengerRef.deref().send(2, EBB, sent2, IOBuf.copyOf(payloadFor(sent2, 500))));
        return false;
      },
      'the connection to the partitioned node is declared dead',
      600e9,
      50e6,
    );
    expect(c.logs[0]!.some((l) => /node 3/.test(l) && /lost/.test(l))).toBe(true);
    // A new send opens a new connection, whose SYNs go nowhere: pending sends reject naming node 3.
    c.spawn(0, 0, () => {
      for (let k = 0; k < 3; k++) messengerRef.deref().send(3, EBB, 100 + k, IOBuf.copyOf('pending')).then(() => outcomes.push('resolved'), (e: unknown) => outcomes.push(e));
    });
    await c.until(() => {
      sent2++;
      c.spawn(0, 0, () => void messengerRef.deref().send(2, EBB, sent2, IOBuf.copyOf(payloadFor(sent2, 500))));
      return outcomes.length === 3;
    }, 'pending sends to node 3 settle', 600e9, 50e6);
    for (const o of outcomes) {
      expect(o).toBeInstanceOf(NodeUnavailableError);
      expect((o as NodeUnavailableError).nodeId).toBe(3);
      expect((o as Error).message).toMatch(/node 3/);
    }
    expect(c.roots[0]!.stats().peers[3]!.sendsFailed).toBe(3);
    // Meanwhile node 2 got every message node 1 sent it, in order.
    await c.until(() => got.get(2)!.length === sent2 + 1, 'node 2 traffic');
    expect(got.get(2)).toEqual(Array.from({ length: sent2 + 1 }, (_, k) => k));
    expect(sent2).toBeGreaterThan(10);
    expect(f.sim.now() - start).toBeGreaterThan(1e9);
    // Healed: the next send reconnects.
    f.nodes[2]!.link.setProps({ partitioned: false });
    await c.run(0, 0, () => messengerRef.deref().send(3, EBB, 999, IOBuf.copyOf('back')));
    await c.until(() => got.get(3)!.includes(999), 'node 3 reachable again');
    expect(c.failures).toEqual([]);
  });

  it('bad input closes only that connection, with a logged error naming the peer', async () => {
    const c = await nativeCluster({ nodes: 3 });
    const EBB = 0x8800;
    const got: number[] = [];
    await c.run(1, 0, () => messengerRef.deref().register(EBB, (_f, t, m) => (m.releaseChain(), void got.push(t))));
    await c.run(0, 0, () => messengerRef.deref().send(2, EBB, 0, IOBuf.copyOf('ok')));
    const cases: { name: string; bytes: () => IOBuf; expect: RegExp }[] = [
      { name: 'bad magic', bytes: () => encodeHello(3, HELLO_MAGIC ^ 1), expect: /bad magic/ },
      {
        name: 'message before hello',
        bytes: () => {
          const b = IOBuf.allocate(16);
          b.storage.dataView.setUint32(0, 4);
          b.storage.dataView.setUint32(8, EBB);
          return b;
        },
        expect: /before HELLO/,
      },
      {
        name: 'absurd length',
        bytes: () => {
          const h = encodeHello(3);
          const b = IOBuf.allocate(12);
          b.storage.dataView.setUint32(0, 0xfffffff0);
          b.storage.dataView.setUint32(8, EBB);
          return h.appendChain(b);
        },
        expect: /exceeds maxMessageBytes/,
      },
    ];
    for (const [n, k] of cases.entries()) {
      let aborted = false;
      let closedByPeer = false;
      await c.run(2, 0, () => {
        nmRef.deref().tcpConnect('10.0.0.2', 7000, {
          connected: (conn) => conn.sendQueued(k.bytes()),
          receive: (_conn, d) => d.releaseChain(),
          aborted: () => (aborted = true),
          closed: () => (closedByPeer = true),
        });
      });
      await c.until(() => aborted || closedByPeer, `${k.name}: connection closed by node 2`);
      expect(c.logs[1]!.filter((l) => k.expect.test(l) && /10\.0\.0\.3/.test(l)).length, k.name).toBe(1);
      expect(c.roots[1]!.stats().protocolErrors).toBe(n + 1);
      // The good connection from node 1 still works.
      await c.run(0, 0, () => messengerRef.deref().send(2, EBB, n + 1, IOBuf.copyOf('still ok')));
      await c.until(() => got.length === n + 2, 'good connection still delivers');
    }
    expect(got).toEqual([0, 1, 2, 3]);
    expect(c.failures).toEqual([]);
  });

  it('a send from a core other than the connection\'s hops to it and resumes on the sending core', async () => {
    const c = await nativeCluster({ cores: 3 });
    const EBB = 0x8900;
    const got: number[] = [];
    await c.run(1, 0, () => messengerRef.deref().register(EBB, (_f, t, m) => (m.releaseChain(), void got.push(t))));
    await c.run(0, 2, () => messengerRef.deref().send(2, EBB, 0, IOBuf.copyOf('opens on core 2')));
    const resumedOn = await c.run(0, 1, async () => {
      await messengerRef.deref().send(2, EBB, 1, IOBuf.copyOf('from core 1'));
      return cpu.current?.index;
    });
    expect(resumedOn).toBe(1);
    expect(c.roots[0]!.connections().map((x) => x.core)).toEqual([2]);
    await c.until(() => got.length === 2, 'both delivered');
    expect(got).toEqual([0, 1]);
  });
});

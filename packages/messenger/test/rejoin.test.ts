/**
 * A node that crashed and restarted rejoins under its old id: its new life's HELLO says
 * incarnation 1, and a peer that still holds a connection to the dead life (it never heard the
 * crash: no FIN, no RST) replaces that stale connection instead of sending into it. Hosted nodes
 * on real loopback TCP; the "old life" is a node left running but never heard from again.
 */
import { IOBuf } from '@ebbrt/interfaces';
import { afterEach, describe, expect, it } from 'vitest';
import { hostedCluster, hostedNode, messengerRef, type Cluster, type HostedNode } from '@ebbrt/testkit/cluster';
import { encodeHello, FrameDecoder, HELLO_MAGIC, PROTOCOL_VERSION } from '../src/index.js';

const EBB = 0x8800;
const clusters: Cluster[] = [];
const extra: HostedNode[] = [];
afterEach(async () => {
  for (const x of extra.splice(0)) {
    x.root.stop();
    await new Promise((r) => setTimeout(r, 20));
    x.nm.closeAll();
    x.em.shutdown();
  }
  for (const c of clusters.splice(0)) await c.dispose();
});

const runOn = <T>(x: HostedNode, fn: () => T | Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => x.em.post(0, async () => {
    try {
      resolve(await fn());
    } catch (e) {
      reject(e);
    }
  }));

describe('a restarted peer rejoins under its old identity', () => {
  it('the HELLO carries the incarnation only when > 0 (a first life is byte-for-byte the old HELLO)', () => {
    const first = encodeHello(11).toUint8Array();
    expect(first.length).toBe(24);
    expect([...first.subarray(0, 4)]).toEqual([0, 0, 0, 12]);
    expect([...encodeHello(11, HELLO_MAGIC, PROTOCOL_VERSION, 0).toUint8Array()]).toEqual([...first]);
    const again = encodeHello(11, HELLO_MAGIC, PROTOCOL_VERSION, 3).toUint8Array();
    expect(again.length).toBe(28);
    expect([...again.subarray(0, 4)]).toEqual([0, 0, 0, 16]);
    const heard: [number, number][] = [];
    for (const bytes of [first, again]) {
      const d = new FrameDecoder(1024, { hello: (id, inc) => void heard.push([id, inc]), message: () => undefined });
      expect(d.push(IOBuf.copyOf(bytes))).toBeUndefined();
    }
    expect(heard).toEqual([[11, 0], [11, 3]]);
  });

  it('the peer drops the stale connection, sends on the new life’s, and refuses the old life afterwards', async () => {
    const c = await hostedCluster({ nodes: 2 });
    clusters.push(c);
    const [a, b] = [c.roots[0]!, c.roots[1]!];
    const B = c.id(1);
    const gotOld: string[] = [];
    const gotNew: string[] = [];
    await c.run(1, 0, () => messengerRef.deref().register(EBB, (_f, _t, m) => void gotOld.push(new TextDecoder().decode(m.toUint8Array()))));
    await c.run(0, 0, () => messengerRef.deref().send(B, EBB, 0, IOBuf.copyOf('to the first life')));
    await c.until(() => gotOld.length === 1, 'first message');
    expect(a.connections().filter((x) => x.peer === B && x.state === 'open')).toHaveLength(1);

    // B "crashes" silently (its old life stays connected but is never heard from) and comes back
    // as a fresh node with the same network id and incarnation 1, which messages A first.
    const reborn = await hostedNode(21, { messenger: { networkId: B, incarnation: 1 } });
    extra.push(reborn);
    await reborn.root.listening;
    reborn.root.setPeer(c.id(0), '127.0.0.1', a.port);
    await runOn(reborn, () => {
      messengerRef.deref().register(EBB, (_f, _t, m) => void gotNew.push(new TextDecoder().decode(m.toUint8Array())));
      return messengerRef.deref().send(c.id(0), EBB, 1, IOBuf.copyOf('hello from the new life'));
    });
    await c.until(() => a.stats().peers[B]!.staleConnections === 1, 'stale connection replaced');
    expect(c.logs[0]!.some((l) => l.includes(`node ${B} restarted (incarnation 0 -> 1): replacing its stale connections`))).toBe(true);
    // The connection dropped is named, with why (logged on the connection's core).
    await c.until(() => c.logs[0]!.some((l) => l.includes('dropping the connection')), 'the drop logged');
    expect(c.logs[0]!.filter((l) => l.includes(`dropping the connection to node ${B} (`))).toEqual([
      expect.stringMatching(new RegExp(`dropping the connection to node ${B} \\(.+\\): node ${B}: it restarted \\(incarnation 1\\): the connection to its previous life is stale$`)),
    ]);

    // A's next sends to B reach the new life, none the dead one.
    await c.run(0, 0, () => Promise.all([1, 2, 3].map((k) => messengerRef.deref().send(B, EBB, k, IOBuf.copyOf(`after rejoin ${k}`)))));
    await c.until(() => gotNew.length === 3, 'messages to the new life');
    expect(gotNew).toEqual(['after rejoin 1', 'after rejoin 2', 'after rejoin 3']);
    expect(gotOld).toEqual(['to the first life']);
    // The old life's connection was aborted by A: the old node sees it die.
    await c.until(() => b.connections().filter((x) => x.peer === c.id(0)).length === 0, 'old life disconnected');

    // The dead life speaking up again (a connection from incarnation 0) is refused, naming B.
    const errorsBefore = a.stats().protocolErrors;
    await c.run(1, 0, () => messengerRef.deref().send(c.id(0), EBB, 9, IOBuf.copyOf('from the grave')).catch(() => undefined));
    await c.until(() => a.stats().protocolErrors === errorsBefore + 1, 'old life refused');
    expect(c.logs[0]!.some((l) => new RegExp(`node ${B} restarted \\(incarnation 1 now\\); this connection is from its incarnation 0`).test(l))).toBe(true);
    await c.run(0, 0, () => messengerRef.deref().send(B, EBB, 4, IOBuf.copyOf('still the new life')));
    await c.until(() => gotNew.length === 4, 'new life still served');
    expect(c.failures).toEqual([]);
  });
});

/**
 * The same echo app (`startEcho`, written only against the NetworkManager interface) on both
 * implementations: the hosted stack over node:net with a plain node:net client, and the native
 * lwIP-style stack on a simulated node with a second simulated node as the client.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { EbbRef, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { SystemEbbIds, type EventManagerRoot, type NetworkManager, type TcpListener } from '@ebbrt/interfaces';
import { HostedNetworkManager, hostedNetworkOptionsSchema, manifest as hostedManifest } from '@ebbrt/network-manager-hosted';
import { describe, expect, it } from 'vitest';
import { newEchoStats, sendAndHash, startEcho } from './echo-app.js';
import { netFixture, payloadFor } from '@ebbrt/testkit/net';

const MB = 1 << 20;
const sha = (chunks: Iterable<Uint8Array>): string => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};
const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);

describe('echo app written against the NetworkManager interface', () => {
  it('runs on the hosted stack: 1 MB from a node:net client echoed byte-exact, closed on FIN', async () => {
    const node = new NodeContext({ id: 0, numCores: 2, target: 'hosted' });
    const log = (): void => {};
    const em = eventManagerManifest.create({ id: SystemEbbIds.EventManager, node, target: 'hosted', log }, eventManagerManifest.options!.parse({})) as EventManagerRoot;
    node.install(SystemEbbIds.EventManager, em);
    const root = hostedManifest.create({ id: SystemEbbIds.NetworkManager, node, target: 'hosted', log }, hostedNetworkOptionsSchema.parse({})) as HostedNetworkManager;
    node.install(SystemEbbIds.NetworkManager, root);
    const failures: unknown[] = [];
    em.onEventFailure((f) => failures.push(f));
    const stats = newEchoStats();
    try {
      const listener = await new Promise<TcpListener>((resolve, reject) => em.post(0, () => startEcho(nmRef.deref(), 0, stats).then(resolve, reject)));
      expect(listener.port).toBeGreaterThan(0);
      const payload = payloadFor(7, MB);
      const got: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = connect({ port: listener.port, host: '127.0.0.1', allowHalfOpen: true });
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error('hosted echo timed out'));
        }, 8000);
        s.on('data', (b: Buffer) => got.push(b));
        s.on('end', () => {
          clearTimeout(timer);
          s.end();
          resolve();
        });
        s.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        s.on('connect', () => {
          for (let off = 0; off < MB; off += 50_000) s.write(payload.subarray(off, Math.min(MB, off + 50_000)));
          s.end();
        });
      });
      expect(Buffer.concat(got).length).toBe(MB);
      expect(sha(got)).toBe(sha([payload]));
      const t0 = performance.now();
      while (stats.closed < 1 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 1));
      expect(stats).toMatchObject({ accepted: 1, closed: 1, aborted: [], bytes: MB });
      expect(failures).toEqual([]);
    } finally {
      root.closeAll();
      em.shutdown();
    }
  });

  it('runs on the native stack: 1 MB from a second simulated node (tcpConnect) echoed byte-exact', async () => {
    const f = netFixture({ seed: 3, options: { tcpMslUs: 100_000 } });
    const stats = newEchoStats();
    const listened = f.run(1, 0, () => startEcho(nmRef.deref(), 7, stats));
    await f.sim.run({ untilNs: f.sim.now() + 1e6 });
    expect(listened.error).toBeUndefined();
    expect(listened.value?.port).toBe(7);

    const payload = payloadFor(11, MB);
    const run = f.run(0, 0, async () => {
      await f.nodes[0]!.rep().whenReady(); // lwIP-specific: wait for the NIC before the first connect
      return sendAndHash(nmRef.deref(), '10.0.0.2', 7, payload);
    });
    await f.sim.run({ untilNs: f.sim.now() + 30e9 });
    const client = run.value!;
    expect(client.aborted).toBeUndefined();
    expect(client.received).toBe(MB);
    expect(client.digest()).toBe(sha([payload]));
    expect(client.closed).toBe(true);
    expect(stats).toMatchObject({ accepted: 1, closed: 1, aborted: [], bytes: MB });
    for (const n of f.nodes) {
      expect(n.nm.tcp.pcbs.size).toBe(0);
      expect(n.nm.tcp.stats.handlerErrors).toBe(0);
    }
  });
});

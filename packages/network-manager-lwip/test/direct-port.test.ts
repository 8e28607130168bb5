/**
 * The stack over the ring-less DirectNetPort (the runtime's gateway NIC) talking TCP to a node on
 * virtio-net: byte-exact under link faults, every frame accounted for between the link and the
 * port, no buffer leaked, deterministic by seed; and the driver's limits.
 */
import { createHash } from 'node:crypto';
import { EbbRef } from '@ebbrt/core-translation';
import { DirectNetPort, type FrameCapture } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type NetworkManager } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { DirectPortDriver, lwipOptionsSchema, manifest } from '../src/index.js';
import { bareNode, netFixture, payloadFor, seeds, liveIOBufs, type NetFixture } from '@ebbrt/testkit/net';
import { newEchoStats, sendAndHash, startEcho } from './echo-app.js';

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
const FAULTS = { loss: 0.03, duplicate: 0.03, reorder: 0.05, reorderDelayNs: 30_000, corrupt: 0.03 };
const SIZE = 256 * 1024;

/** Node 0 (direct port, the gateway's place) sends SIZE bytes to node 1's echo and hashes what comes back. */
async function echoThroughDirectPort(f: NetFixture) {
  const stats = newEchoStats();
  f.run(1, 0, () => startEcho(nmRef.deref(), 7, stats));
  await f.sim.run({ untilNs: f.sim.now() + 1e6 });
  const payload = payloadFor(5, SIZE);
  const client = f.run(0, 0, async () => {
    await f.nodes[0]!.rep().whenReady();
    return sendAndHash(nmRef.deref(), '10.0.0.2', 7, payload);
  });
  await f.sim.run({ untilNs: f.sim.now() + 120e9 });
  const { received, closed, aborted, digest } = client.value!;
  return { stats, received, closed, aborted, digest: digest(), want: createHash('sha256').update(payload).digest('hex') };
}

/** Every frame entering the switch, with its time, as one digest. */
function frameDigest(f: NetFixture): () => string {
  const h = createHash('sha256');
  const cap: FrameCapture = {
    record(t, frame) {
      h.update(`${t}:`);
      h.update(frame);
    },
  };
  f.fabric.capture(cap);
  return () => h.digest('hex');
}

describe('the stack over a DirectNetPort', () => {
  it('echoes byte-exact with a virtio-net node under loss, duplication, reordering, corruption (5 seeds); frames and buffers all accounted for', async () => {
    for (const seed of seeds(5)) {
      const f = netFixture({ seed, link: FAULTS, directPort: (i) => i === 0, options: { tcpMslUs: 100_000 } });
      const r = await echoThroughDirectPort(f);
      const ctx = `seed ${seed}`;
      expect(r.aborted, ctx).toBeUndefined();
      expect(r.received, ctx).toBe(SIZE);
      expect(r.digest, ctx).toBe(r.want);
      expect(r.closed, ctx).toBe(true);
      expect(r.stats, ctx).toMatchObject({ accepted: 1, closed: 1, aborted: [], bytes: SIZE });
      const gw = f.nodes[0]!;
      const driver = gw.nm.nic;
      expect(driver, ctx).toBeInstanceOf(DirectPortDriver);
      const port = driver.device as DirectNetPort;
      // Link ↔ port conservation: what the port sent is what its link was offered; what the link
      // delivered is what the port queued plus what it dropped (nothing, here).
      expect(port.stats.txFrames, ctx).toBe(gw.link.counters('aToB').sent);
      expect(port.stats.rxFrames + port.stats.rxDroppedNotReady + port.stats.rxDroppedQueueFull, ctx).toBe(gw.link.counters('bToA').delivered);
      expect(port.stats.rxDroppedQueueFull + port.stats.txDroppedNoLink, ctx).toBe(0);
      const ds = (driver as DirectPortDriver).stats;
      expect(ds.rxFrames, ctx).toBe(port.stats.rxFrames);
      expect(ds.txFrames, ctx).toBe(port.stats.txFrames);
      // One interrupt per burst, never per frame more than once.
      expect(ds.interrupts, ctx).toBe(port.stats.interrupts);
      expect(port.stats.interrupts, ctx).toBeLessThanOrEqual(port.stats.rxFrames);
      expect(gw.nm.tcp.stats.retransmits + f.nodes[1]!.nm.tcp.stats.retransmits, ctx).toBeGreaterThan(0);
      // No RX ring: once the connection is gone the gateway holds no buffer at all.
      for (const n of f.nodes) expect(n.nm.tcp.pcbs.size, ctx).toBe(0);
      expect(liveIOBufs(gw.node), ctx).toEqual([]);
      expect(gw.nm.iface.counters.internalErrors + gw.nm.tcp.stats.handlerErrors, ctx).toBe(0);
      expect(gw.nm.networkStats().drops['nic.rxDroppedNotReady'] ?? 0, ctx).toBe(port.stats.rxDroppedNotReady);
    }
  }, 120_000);

  it('is deterministic by seed: the same seed gives the same frames at the same times, another seed does not', async () => {
    const digests: string[] = [];
    for (const seed of [11, 11, 12]) {
      const f = netFixture({ seed, link: FAULTS, directPort: (i) => i === 0, options: { tcpMslUs: 100_000 } });
      const digest = frameDigest(f);
      const r = await echoThroughDirectPort(f);
      expect(r.digest).toBe(r.want);
      digests.push(digest());
    }
    expect(digests[0]).toBe(digests[1]);
    expect(digests[2]).not.toBe(digests[0]);
  }, 60_000);

  it('answers ping, and says it is not virtio-net when asked for the virtio driver', async () => {
    const f = netFixture({ seed: 2, directPort: (i) => i === 0 });
    const out = f.run(0, 0, () => f.nodes[0]!.rep().ping('10.0.0.2', { count: 3 }));
    await f.sim.run({ untilNs: f.sim.now() + 1e9 });
    expect(out.error).toBeUndefined();
    expect(out.value).toHaveLength(3);
    expect(() => f.nodes[0]!.nm.driver).toThrow(/direct port, not virtio-net/);
  });

  it('refuses a multi-core node, naming the limit', () => {
    const f = netFixture({ seed: 1, nodes: 0 });
    const { machine, node } = bareNode(f.sim, 0, 2, 32 * 1024 * 1024);
    machine.attachDevice(new DirectNetPort(f.sim, machine));
    const ctx = { id: SystemEbbIds.NetworkManager, node, target: 'native' as const, machine, simulation: f.sim, log: () => undefined };
    expect(() => manifest.create(ctx, lwipOptionsSchema.parse({ address: '10.0.0.1/24' }))).toThrow(/runs 2 cores; a direct port serves exactly 1/);
  });
});

/**
 * Faults below the network (issue 18 item 1): the virtio-net device runs out of posted RX
 * buffers, raises its used-ring interrupts late or never, and completes transmissions late. Each
 * is drawn from the simulation's seeded PRNG, so a seed replays exactly; TCP over the faulty NICs
 * still delivers every byte. A device that fails and needs a reset is recovered by the driver.
 */
import { createHash } from 'node:crypto';
import { PcapWriter, VIRTIO_STATUS, type VirtioNetFaults } from '@ebbrt/hw-x86sim';
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { netFixture, payloadFor, seeds, type NetFixture } from '@ebbrt/testkit/net';

const KB = 1024;

/** Hashes what arrives on a connection; `done` once the peer's FIN came. */
class Sink implements TcpHandler {
  readonly hash = createHash('sha256');
  bytes = 0;
  finished = false;
  error: Error | undefined;
  constructor(private readonly send?: Uint8Array) {}
  start(c: TcpConnection): void {
    if (this.send === undefined) return;
    for (let off = 0; off < this.send.length; off += 32 * KB) c.sendQueued(IOBuf.copyOf(this.send.subarray(off, off + 32 * KB)));
    c.shutdown();
  }
  connected(c: TcpConnection): void {
    this.start(c);
  }
  receive(_c: TcpConnection, buf: IOBuf): void {
    for (let e = buf, first = true; first || e !== buf; e = e.next, first = false) this.hash.update(e.data());
    this.bytes += buf.computeChainDataLength();
    buf.releaseChain();
  }
  closed(c: TcpConnection): void {
    this.finished = true;
    c.close();
  }
  aborted(_c: TcpConnection, e: Error): void {
    this.error = e;
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Node 1 sends `bytes` to node 2, which sends `bytes` back, both at once; both NICs get `faults`
 * once the drivers are up. Returns what each side got, and the run's capture (its trace of frames).
 */
async function exchange(
  seed: number,
  faults: VirtioNetFaults,
  bytes: number,
  opts: { untilNs?: number; cores?: number; options?: Record<string, unknown>; during?: (f: NetFixture) => void } = {},
) {
  const untilNs = opts.untilNs ?? 120e9;
  const f: NetFixture = netFixture({ seed, cores: opts.cores ?? 1, trace: true, options: { tcpMslUs: 100_000, ...opts.options } });
  const pcap = new PcapWriter();
  f.fabric.capture(pcap);
  const up = [0, 1].map((i) => f.run(i, 0, () => f.nodes[i]!.rep().whenReady()));
  await f.sim.run({ untilNs: 1e6 });
  expect(up.every((o) => o.done)).toBe(true);
  for (const n of f.nodes) n.nm.driver.device.setFaults(faults);
  const toB = payloadFor(seed, bytes);
  const toA = payloadFor(seed + 1000, bytes);
  const server = new Sink(toA);
  const client = new Sink(toB);
  f.run(1, 0, () => {
    f.nodes[1]!.rep().tcpListen(80, (c) => {
      server.start(c);
      return server;
    });
  });
  f.run(0, 0, () => {
    f.nodes[0]!.rep().tcpConnect('10.0.0.2', 80, client);
  });
  opts.during?.(f);
  const r = await f.sim.run({ untilNs: f.sim.now() + untilNs });
  const ok = (side: Sink, sent: Uint8Array): boolean => side.finished && side.error === undefined && side.bytes === sent.length && side.hash.digest('hex') === sha(sent);
  return {
    f,
    r,
    ok: ok(server, toB) && ok(client, toA),
    server,
    client,
    capture: Buffer.from(pcap.bytes()),
    trace: f.sim.trace.toJSON(),
    nic: f.nodes.map((n) => n.nm.driver.device.stats),
    retransmits: f.nodes.reduce((s, n) => s + n.nm.tcp.stats.retransmits, 0),
  };
}

/** Per node: the device's resets, the driver's recoveries, and the queue pairs' restarts (summed over cores). */
const resets = (x: Awaited<ReturnType<typeof exchange>>) =>
  x.f.nodes.map((n) => ({
    device: n.nm.driver.device.stats.faultDeviceResets,
    recovered: n.nm.driver.stats.resetsRecovered,
    restarts: n.nm.driver.cores.reduce((s, c) => s + (c?.queue.stats.resets ?? 0), 0),
  }));
/** Per node: resets the device needed (fault or ring error), config interrupts lost, and the driver's side. */
const account = (x: Awaited<ReturnType<typeof exchange>>) =>
  x.f.nodes.map((n) => ({
    resets: n.nm.driver.device.stats.faultDeviceResets,
    lost: n.nm.driver.device.stats.faultConfigInterruptsLost,
    configInterrupts: n.nm.driver.stats.configInterrupts,
    recovered: n.nm.driver.stats.resetsRecovered,
    polled: n.nm.driver.stats.resetsNoticedByPolling,
  }));

describe('virtio-net faults under TCP', () => {
  it('RX ring exhaustion: the NIC counts the drops and TCP recovers byte-exact (several seeds)', async () => {
    for (const seed of seeds(5)) {
      const x = await exchange(seed, { rxNoBuffer: { probability: 0.01, burst: 8 } }, 512 * KB);
      const ctx = `seed ${seed}`;
      expect(x.ok, ctx).toBe(true);
      const drops = x.nic[0]!.faultRxNoBuffer + x.nic[1]!.faultRxNoBuffer;
      expect(drops, ctx).toBeGreaterThan(0);
      expect(x.nic[0]!.rxDroppedNoBuffer + x.nic[1]!.rxDroppedNoBuffer, ctx).toBe(drops);
      expect(x.retransmits, ctx).toBeGreaterThan(0);
    }
  });

  it('late interrupts, late TX completions, lost interrupts, exhaustion: byte-exact; each changes the trace, and the same seed replays it', async () => {
    const clean = await exchange(7, {}, 256 * KB);
    expect(clean.ok).toBe(true);
    expect(clean.trace).not.toContain('fault: virtio-net');
    const faults: [VirtioNetFaults, string][] = [
      [{ interruptDelay: { probability: 0.2, maxNs: 300_000 } }, 'fault: virtio-net.interrupt-late'],
      [{ txCompletionDelay: { probability: 0.2, maxNs: 300_000 } }, 'fault: virtio-net.tx-completion-late'],
      [{ interruptLoss: 0.1 }, 'fault: virtio-net.interrupt-lost'],
      [{ rxNoBuffer: { probability: 0.01, burst: 4 } }, 'fault: virtio-net.rx-no-buffer'],
    ];
    for (const [fault, name] of faults) {
      const ctx = JSON.stringify(fault);
      const a = await exchange(7, fault, 256 * KB);
      expect(a.ok, ctx).toBe(true);
      expect(a.trace, ctx).toContain(name);
      expect(a.trace === clean.trace, ctx).toBe(false);
      // The simulation's fault account agrees with the NICs' own counters, kind for kind.
      const sum = (k: keyof (typeof a.nic)[number]) => a.nic[0]![k] + a.nic[1]![k];
      expect(a.f.sim.faults.count('virtio-net.rx-no-buffer'), ctx).toBe(sum('faultRxNoBuffer'));
      expect(a.f.sim.faults.count('virtio-net.interrupt-late'), ctx).toBe(sum('faultInterruptsDelayed'));
      expect(a.f.sim.faults.count('virtio-net.interrupt-lost'), ctx).toBe(sum('faultInterruptsLost'));
      expect(a.f.sim.faults.count('virtio-net.tx-completion-late'), ctx).toBe(sum('faultTxCompletionsDelayed'));
      expect(a.f.sim.faults.count(name.slice('fault: '.length)), ctx).toBeGreaterThan(0);
      const b = await exchange(7, fault, 256 * KB);
      expect(b.trace === a.trace, ctx).toBe(true); // byte for byte
      expect(b.capture.equals(a.capture), ctx).toBe(true);
      expect(b.nic, ctx).toEqual(a.nic);
    }
  });

  it('lost interrupts: later interrupts and polling recover some; a NIC that loses them all needs the driver watchdog', async () => {
    // Some lost: the next interrupt of the queue pair (RX and TX share its vector), or the idle
    // poll under load, finds the used entries the lost one announced.
    for (const p of [0.05, 0.3]) {
      const x = await exchange(3, { interruptLoss: p }, 256 * KB, { untilNs: 30e9 });
      expect(x.ok, `p ${p}`).toBe(true);
      expect(x.nic[0]!.faultInterruptsLost + x.nic[1]!.faultInterruptsLost, `p ${p}`).toBeGreaterThan(0);
    }
    // All lost: the driver enters polling only from its interrupt handler, so it never looks at
    // its rings. The SYN sits unread on node 2's used ring; nothing connects.
    const dead = await exchange(3, { interruptLoss: 1 }, 256 * KB, { untilNs: 30e9 });
    expect(dead.ok).toBe(false);
    expect(dead.client.bytes + dead.server.bytes).toBe(0);
    expect(dead.nic[1]!.rxFrames).toBeGreaterThan(0); // the device delivered the SYN
    const q = dead.f.nodes[1]!.nm.driver.on(0).queue;
    expect(q.stats.rxFrames).toBe(0); // ... the driver never took it
    expect(q.hasUsed()).toBe(true);
    // The watchdog (interruptWatchdogUs) services such rings: every byte arrives.
    const saved = await exchange(3, { interruptLoss: 1 }, 256 * KB, { untilNs: 60e9, options: { interruptWatchdogUs: 1000 } });
    expect(saved.ok).toBe(true);
    const recoveries = saved.f.nodes.reduce((s, n) => s + n.nm.driver.on(0).queue.stats.watchdogRecoveries, 0);
    expect(recoveries).toBeGreaterThan(0);
    expect(saved.nic[0]!.interrupts + saved.nic[1]!.interrupts).toBe(0);
  });
});

describe('virtio-net device reset under TCP', () => {
  it('the driver resets the device, sets its queues up again and TCP completes byte-exact (1 and 2 cores, several seeds)', async () => {
    for (const cores of [1, 2]) {
      for (const seed of seeds(3)) {
        const ctx = `cores ${cores} seed ${seed}`;
        const x = await exchange(seed, { deviceReset: 0.002 }, 512 * KB, { cores });
        expect(x.ok, ctx).toBe(true);
        const r = resets(x);
        const total = r[0]!.device + r[1]!.device;
        expect(total, ctx).toBeGreaterThan(0);
        // Every reset the device needed was recovered, each core's queue pair once per reset.
        for (const n of r) expect(n, ctx).toEqual({ device: n.device, recovered: n.device, restarts: n.device * cores });
        for (const n of x.f.nodes) expect(n.nm.driver.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET, ctx).toBe(0);
        // Each reset is one fault in the simulation's account and one instant in the trace.
        expect(x.f.sim.faults.count('virtio-net.device-reset'), ctx).toBe(total);
        expect(x.trace.split('fault: virtio-net.device-reset').length - 1, ctx).toBe(total);
        // What the failed device held was lost and TCP sent it again.
        expect(x.retransmits, ctx).toBeGreaterThan(0);
      }
    }
  });

  it('without the driver recovery a reset NIC stays dead and the transfer never completes', async () => {
    const x = await exchange(1, { deviceReset: 0.002 }, 512 * KB, { untilNs: 30e9, options: { deviceResetRecovery: false } });
    expect(x.ok).toBe(false);
    const failed = x.f.nodes.filter((n) => (n.nm.driver.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) !== 0);
    expect(failed.length).toBeGreaterThan(0);
    // The configuration interrupt reached the driver, which left the device as it was.
    for (const n of failed) {
      expect(n.nm.driver.stats.configInterrupts).toBeGreaterThan(0);
      expect(n.nm.driver.stats.resetsRecovered).toBe(0);
    }
  });
});

describe('virtio-net DEVICE_NEEDS_RESET without its interrupt', () => {
  it('every configuration interrupt lost: core 0 reads the status on its watchdog tick, resets the device, and TCP arrives byte-exact (1 and 2 cores, several seeds)', async () => {
    for (const cores of [1, 2]) {
      for (const seed of seeds(3)) {
        const ctx = `cores ${cores} seed ${seed}`;
        const x = await exchange(seed, { deviceReset: 0.003, configInterruptLoss: 1 }, 256 * KB, { cores, untilNs: 10e9, options: { interruptWatchdogUs: 1000 } });
        expect(x.ok, ctx).toBe(true);
        const a = account(x);
        const total = a[0]!.resets + a[1]!.resets;
        expect(total, ctx).toBeGreaterThan(0);
        // No interrupt ever came; every reset was found by the status poll and recovered.
        for (const n of a) expect(n, ctx).toEqual({ resets: n.resets, lost: n.resets, configInterrupts: 0, recovered: n.resets, polled: n.resets });
        for (const n of x.f.nodes) expect(n.nm.driver.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET, ctx).toBe(0);
        expect(x.f.sim.faults.count('virtio-net.config-interrupt-lost'), ctx).toBe(total);
        expect(x.trace.split('fault: virtio-net.config-interrupt-lost').length - 1, ctx).toBe(total);
      }
    }
  }, 300_000);

  it('without the status poll a lost configuration interrupt leaves the device dead: the transfer stalls', async () => {
    const x = await exchange(1, { deviceReset: 0.002, configInterruptLoss: 1 }, 512 * KB, {
      untilNs: 30e9,
      options: { interruptWatchdogUs: 1000, deviceStatusPolling: false },
    });
    expect(x.ok).toBe(false);
    const failed = x.f.nodes.filter((n) => (n.nm.driver.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) !== 0);
    expect(failed.length).toBeGreaterThan(0);
    for (const n of failed) expect(n.nm.driver.stats).toMatchObject({ configInterrupts: 0, resetsStarted: 0, resetsRecovered: 0 });
  });

  it('a ring error (an avail index corrupted in guest memory) now raises the configuration interrupt: the driver resets the device and TCP arrives byte-exact', async () => {
    for (const seed of seeds(3)) {
      const ctx = `seed ${seed}`;
      // Corrupt node 2's RX avail index every 20 µs until the device reads it once: the driver
      // rewrites the index whenever it posts, so only a write that lands between a post and the
      // next arriving frame is seen. Bounded: at most 5000 tries.
      const corrupt = (f: NetFixture): void => {
        const dev = f.nodes[1]!.nm.driver.device;
        let tries = 0;
        const tryOnce = (): void => {
          if (dev.stats.ringErrors > 0 || ++tries > 5000) return;
          const q = dev.queue(0);
          if (q !== undefined) f.nodes[1]!.machine.memory.writeU16(q.availAddr + 2, (q.lastAvailIdx + q.size + 1) & 0xffff);
          f.sim.scheduleAfter(20_000, tryOnce);
        };
        f.sim.scheduleAfter(20_000, tryOnce);
      };
      const x = await exchange(seed, {}, 256 * KB, { during: corrupt });
      expect(x.ok, ctx).toBe(true);
      const n = x.f.nodes[1]!.nm.driver;
      expect(n.device.stats.ringErrors, ctx).toBe(1);
      expect(n.device.stats.configInterrupts, ctx).toBe(1);
      expect(n.stats, ctx).toMatchObject({ configInterrupts: 1, resetsStarted: 1, resetsRecovered: 1, resetsNoticedByPolling: 0 });
      expect(n.device.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET, ctx).toBe(0);
    }
  });
});

describe('virtio-net reset faults replay', () => {
  // The watchdog is a periodic timer: a run with it never goes quiescent, so it is bounded.
  const watchdog = { cores: 2, untilNs: 10e9, options: { interruptWatchdogUs: 1000 } };

  it.each([
    ['the resets', { without: {}, faults: { deviceReset: 0.003 }, opts: { cores: 2 }, fault: 'virtio-net.device-reset', counters: resets }],
    [
      'the lost interrupts and the polled recoveries',
      { without: { deviceReset: 0.003 }, faults: { deviceReset: 0.003, configInterruptLoss: 0.5 }, opts: watchdog, fault: 'virtio-net.config-interrupt-lost', counters: account },
    ],
  ] as const)('the same seed replays %s byte for byte; the fault changes the trace', async (_, { without, faults, opts, fault, counters }) => {
    const off = await exchange(5, without, 256 * KB, opts);
    const a = await exchange(5, faults, 256 * KB, opts);
    const b = await exchange(5, faults, 256 * KB, opts);
    expect(off.ok && a.ok && b.ok).toBe(true);
    expect(a.f.sim.faults.count(fault)).toBeGreaterThan(0);
    expect(a.trace === off.trace).toBe(false);
    expect(b.trace === a.trace).toBe(true);
    expect(b.capture.equals(a.capture)).toBe(true);
    expect(counters(b)).toEqual(counters(a));
  }, 300_000);
});

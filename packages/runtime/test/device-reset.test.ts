/**
 * The virtio-net device reset fault (`network.nic.faults.deviceReset`) through the runtime: the
 * back-ends' NICs fail and need a reset mid-transfer, their drivers recover them, and a TCP
 * transfer between two nodes still arrives byte-exact. Each reset is counted in `sim.faults`, the
 * trace and `--stats`; a seed replays the run byte for byte; the seed runner swarms the fault as
 * `nic.deviceReset`; a bad value is refused naming the field.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatRunStats, runApp } from '../src/index.js';
import { faultCatalogue, withFaults } from '../src/seed-runner/faults.js';
import { parseAppConfig } from '@ebbrt/interfaces';
import { tempApp } from './temp-app.js';

const BYTES = 384 * 1024;

// Node 1 hashes (FNV-1a) what arrives on port 9 and answers the hash and length at the peer's FIN;
// node 2 sends BYTES of a fixed pattern and logs whether the answer matches its own hash.
const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
const fnv = (h, bytes) => { for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0; return h; };
export async function main(ctx) {
  const nm = new EbbRef(SystemEbbIds.NetworkManager).deref();
  if (ctx.node.id === 1) {
    const listener = nm.tcpListen(9, () => {
      let h = 2166136261, n = 0;
      return {
        receive(c, d) { const b = d.toUint8Array(); h = fnv(h, b); n += b.length; d.releaseChain(); },
        closed(c) { c.send(IOBuf.copyOf(h + ' ' + n)); c.shutdown(); c.close(); },
      };
    });
    await listener.listening;
    return;
  }
  await new EbbRef(SystemEbbIds.Timer).deref().sleep(2000);
  const data = new Uint8Array(${BYTES});
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 9)) & 0xff;
  const want = fnv(2166136261, data) + ' ' + data.length;
  await new Promise((resolve, reject) => {
    let got = '';
    nm.tcpConnect('10.0.0.2', 9, {
      connected(c) { for (let o = 0; o < data.length; o += 16384) c.sendQueued(IOBuf.copyOf(data.subarray(o, o + 16384))); c.shutdown(); },
      receive(c, d) { got += new TextDecoder().decode(d.toUint8Array()); d.releaseChain(); },
      closed(c) { c.close(); ctx.log(got === want ? 'exact ' + got : 'MISMATCH ' + got + ' want ' + want); resolve(); },
      aborted(c, e) { reject(e); },
    });
  });
}
`;

function config(seed: number, nicFaults: Record<string, unknown>, nm: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    entry: { backend: './node.mjs' },
    clock: 'virtual',
    seed,
    backend: {
      nodes: 2,
      machine: { cores: 2, memory: '32MiB' },
      ebbs: { NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000, ...nm } } },
    },
    network: { link: { latencyNs: 20_000 }, nic: { faults: nicFaults } },
  };
}

async function run(seed: number, nicFaults: Record<string, unknown>, nm: Record<string, unknown> = {}, untilNs?: number) {
  const app = tempApp(config(seed, nicFaults, nm), { 'node.mjs': nodeMain });
  const lines: string[] = [];
  try {
    const r = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], trace: true, ...(untilNs === undefined ? {} : { untilNs }) });
    const trace = r.simulation.trace.toJSON();
    const nics = [1, 2].map((id) => r.network!.simulated.nic(`node${id}`)!.stats);
    return {
      failures: r.failures,
      lines,
      digest: createHash('sha256').update(trace).update(lines.join('\n')).digest('hex'),
      instants: (trace.match(/"fault: virtio-net\.device-reset"/g) ?? []).length,
      count: r.simulation.faults.count('virtio-net.device-reset'),
      resets: nics.reduce((s, n) => s + n.faultDeviceResets, 0),
      lost: nics.reduce((s, n) => s + n.faultConfigInterruptsLost, 0),
      stats: formatRunStats(r),
    };
  } finally {
    app.remove();
  }
}

describe('network.nic.faults.deviceReset', () => {
  it('NICs that fail mid-transfer are reset by their drivers; TCP arrives byte-exact; counted in faults, trace and --stats; a seed replays', async () => {
    const a = await run(11, { deviceReset: 0.01 });
    expect(a.failures).toEqual([]);
    expect(a.lines.filter((l) => l.includes('exact ') || l.includes('MISMATCH'))).toEqual([expect.stringMatching(/^\[node 2 core 0\] exact \d+ 393216$/)]);
    expect(a.resets).toBeGreaterThan(0);
    expect(a.count).toBe(a.resets);
    expect(a.instants).toBe(a.resets);
    // Per node: the device's resets, each recovered by the driver; and the run's fault account.
    const perNode = [...a.stats.matchAll(/device resets (\d+) \(recovered by the driver (\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(perNode).toHaveLength(2);
    for (const [dev, recovered] of perNode) expect(recovered).toBe(dev);
    expect(perNode.reduce((s, [d]) => s + d!, 0)).toBe(a.resets);
    expect(a.stats).toContain(`virtio-net.device-reset ${a.resets}`);
    const b = await run(11, { deviceReset: 0.01 });
    expect(b.digest).toBe(a.digest);
    const clean = await run(11, {});
    expect(clean.failures).toEqual([]);
    expect(clean.resets).toBe(0);
    expect(clean.digest).not.toBe(a.digest);
  });

  it('network.nic.faults.configInterruptLoss: no reset is announced; with the watchdog on, the drivers read the status and recover; TCP arrives byte-exact; counted in faults and --stats', async () => {
    // The watchdog is a periodic timer, so the run never goes quiescent: it ends at 20 s virtual.
    const a = await run(11, { deviceReset: 0.01, configInterruptLoss: 1 }, { interruptWatchdogUs: 1000 }, 20e9);
    expect(a.failures).toEqual([]);
    expect(a.lines.filter((l) => l.includes('exact ') || l.includes('MISMATCH'))).toEqual([expect.stringMatching(/^\[node 2 core 0\] exact \d+ 393216$/)]);
    expect(a.resets).toBeGreaterThan(0);
    expect(a.lost).toBe(a.resets);
    const perNode = [...a.stats.matchAll(/device resets (\d+) \(recovered by the driver (\d+)\), config interrupts lost (\d+) \(found by the driver's status poll (\d+)\)/g)].map((m) => m.slice(1).map(Number));
    expect(perNode).toHaveLength(2);
    for (const [dev, recovered, lost, polled] of perNode) expect([recovered, lost, polled]).toEqual([dev, dev, dev]);
    expect(a.stats).toContain(`virtio-net.config-interrupt-lost ${a.resets}`);
    // Without the status poll the same run stalls: the sender never logs its answer.
    const dead = await run(11, { deviceReset: 0.01, configInterruptLoss: 1 }, { interruptWatchdogUs: 1000, deviceStatusPolling: false }, 20e9);
    expect(dead.lines.filter((l) => l.includes('exact ') || l.includes('MISMATCH'))).toEqual([]);
  });

  it('the seed runner swarms it as nic.deviceReset; a bad value is refused naming the field', async () => {
    const cfg = parseAppConfig({ name: 'r', ...config(1, { deviceReset: 0.01, interruptLoss: 0.1, configInterruptLoss: 0.5 }) });
    expect(faultCatalogue(cfg)).toEqual(['nic.configInterruptLoss', 'nic.deviceReset', 'nic.interruptLoss']);
    expect(withFaults(cfg, ['nic.deviceReset', 'nic.configInterruptLoss']).network?.nic.faults).toEqual({ deviceReset: 0.01, configInterruptLoss: 0.5 });
    expect(withFaults(cfg, ['nic.interruptLoss']).network?.nic.faults).toEqual({ interruptLoss: 0.1 });
    expect(withFaults(cfg, ['nic.deviceReset']).network?.nic.faults).toEqual({ deviceReset: 0.01 });
    for (const [field, bad] of [['deviceReset', 1.5], ['configInterruptLoss', 2]] as const) {
      const app = tempApp(config(1, { [field]: bad }), { 'node.mjs': nodeMain });
      try {
        await expect(runApp(app.dir, { output: () => undefined, resolveFrom: [process.cwd()] })).rejects.toThrow(
          new RegExp(`config\\.network\\.nic\\.faults\\.${field}: must be a probability in \\[0, 1\\], got ${String(bad).replace('.', '\\.')}`),
        );
      } finally {
        app.remove();
      }
    }
  });
});

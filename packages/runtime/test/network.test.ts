import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { tapUnavailableReason } from '@ebbrt/host-network';
import { baseConfig, tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

// Node 1 echoes on port 7; node 2 (if any) sends a greeting to node 1 by its implied address.
const echoApp = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main(ctx) {
  const nm = new EbbRef(SystemEbbIds.NetworkManager).deref();
  const me = nm.interfaces()[0].address;
  if (ctx.node.id === 1) {
    const listener = nm.tcpListen(7, () => ({
      receive(c, d) { c.sendQueued(d); },
      closed(c) { c.close(); },
    }));
    await listener.listening;
    ctx.log('echo at ' + me + ':7');
    return;
  }
  await new EbbRef(SystemEbbIds.Timer).deref().sleep(5000);
  await new Promise((resolve, reject) => {
    let got = '';
    nm.tcpConnect('10.0.0.2', 7, {
      connected(c) { c.send(IOBuf.copyOf('hello from ' + me)); c.shutdown(); },
      receive(c, d) { got += new TextDecoder().decode(d.toUint8Array()); d.releaseChain(); },
      closed(c) { c.close(); ctx.log('echoed: ' + got); resolve(); },
      aborted(c, e) { reject(e); },
    });
  });
}
`;

function app(config: Record<string, unknown>): string {
  const a = tempApp(baseConfig(config), { 'main.mjs': echoApp });
  cleanup.push(a.remove);
  return a.dir;
}

describe('network config', () => {
  it('gives every back-end a NIC on one switch and an address from the subnet; pcap records the frames', async () => {
    const lines: string[] = [];
    const dir = app({ backend: { nodes: 2, machine: { cores: 2, memory: '16MiB' } }, network: { link: { latencyNs: 20_000 }, pcap: 'net.pcap' } });
    const run = await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
    expect(run.failures).toEqual([]);
    expect(lines).toContain('[node 1 core 0] echo at 10.0.0.2:7');
    expect(lines).toContain('[node 2 core 0] echoed: hello from 10.0.0.3');
    expect(lines.some((l) => l.includes('NetworkManager=@ebbrt/network-manager-lwip'))).toBe(true);
    const pcap = readFileSync(join(dir, 'net.pcap'));
    // Global header + at least ARP request/reply and a TCP handshake, data and FINs.
    expect(pcap.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(run.network!.simulated.pcap!.records).toBeGreaterThanOrEqual(8);
    expect(run.network!.simulated.link('node1')!.counters('aToB').sent).toBeGreaterThan(0);
  });

  it('network.nic.faults reach every node\'s NIC: RX ring exhaustion drops frames, TCP still delivers', async () => {
    const lines: string[] = [];
    const dir = app({ backend: { nodes: 2, machine: { cores: 1, memory: '16MiB' } }, network: { nic: { faults: { rxNoBuffer: { probability: 0.2, burst: 2 } } } } });
    const run = await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
    expect(run.failures).toEqual([]);
    expect(lines).toContain('[node 2 core 0] echoed: hello from 10.0.0.3');
    const dropped = [1, 2].map((id) => run.network!.simulated.nic(`node${id}`)!.stats.faultRxNoBuffer);
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('rejects bad network sections, naming the field', async () => {
    const bad = async (config: Record<string, unknown>) =>
      runApp(app(config), { output: () => undefined, resolveFrom: [process.cwd()] }).then(
        () => 'no error',
        (e: Error) => e.message,
      );
    expect(await bad({ network: { subnet: '10.0.0.0/33' } })).toMatch(/config\.network\.subnet/);
    expect(await bad({ clock: 'realtime', network: { forwards: [{ listen: 11211, node: 2, port: 11211 }] } })).toMatch(
      /config\.network\.forwards\[0\]\.node: there is no back-end node 2/,
    );
    expect(await bad({ network: { forwards: [{ listen: 11211, node: 1, port: 11211 }] } })).toMatch(/forwards.*realtime/);
    expect(await bad({ clock: 'realtime', network: { forwards: [{ listen: 'x:99999', node: 1, port: 1 }] } })).toMatch(/config\.network\.forwards\[0\]\.listen: "x:99999" is not \[host:\]port/);
    expect(await bad({ backend: { nodes: 3, machine: { cores: 1, memory: '4MiB' } }, network: { subnet: '10.0.0.0/30' } })).toMatch(
      /10\.0\.0\.0\/30 has 2 host addresses/,
    );
    expect(await bad({ network: { link: { loss: 2 } } })).toMatch(/config\.network\.link\.loss/);
    expect(await bad({ network: { nic: { faults: { rxNoBuffer: { probability: 2 } } } } })).toMatch(/config\.network\.nic\.faults\.rxNoBuffer\.probability: must be a probability in \[0, 1\], got 2/);
    expect(await bad({ network: { nic: { faults: { cosmicRays: 1 } } } })).toMatch(/config\.network\.nic\.faults\.cosmicRays: must be absent/);
    expect(await bad({ clock: 'realtime', network: { hostAccess: true } })).toMatch(/config\.network\.hostAccess: is a list of host ports now/);
    expect(await bad({ clock: 'realtime', network: { hostAccess: [80, 0] } })).toMatch(/config\.network\.hostAccess\[1\]: must be a port in 1\.\.65535/);
    expect(await bad({ clock: 'realtime', network: { hostAccess: [80, 80] } })).toMatch(/config\.network\.hostAccess: lists a port twice/);
    expect(await bad({ network: { hostAccess: [80] } })).toMatch(/config\.network\.hostAccess: host access needs clock: 'realtime'/);
    expect(await bad({ network: { gateway: { nic: 'e1000' } } })).toMatch(/config\.network\.gateway\.nic/);
  });

  it.each(['direct', 'virtio'] as const)('forwards a host port into the simulated network through a gateway running our own stack (gateway NIC: %s)', async (nic) => {
    const lines: string[] = [];
    let announce: (line: string) => void = () => undefined;
    const announced = new Promise<string>((resolve) => (announce = resolve));
    const abort = new AbortController();
    const dir = app({
      clock: 'realtime',
      backend: { nodes: 1, machine: { cores: 2, memory: '32MiB' } },
      network: { gateway: { nic }, forwards: [{ listen: '127.0.0.1:0', node: 1, port: 7 }, { listen: '127.0.0.1:0', node: 1, port: 9 }] },
    });
    const running = runApp(dir, {
      output: (l) => {
        lines.push(l);
        if (l.includes('port forward')) announce(l);
      },
      signal: abort.signal,
      resolveFrom: [process.cwd()],
    });
    try {
      await announced;
      await new Promise((r) => setTimeout(r, 50));
      const forward = lines.filter((l) => l.includes('port forward'));
      const echoPort = Number(/127\.0\.0\.1:(\d+) → 10\.0\.0\.2:7 /.exec(forward.join('\n'))![1]);
      const closedPort = Number(/127\.0\.0\.1:(\d+) → 10\.0\.0\.2:9 /.exec(forward.join('\n'))![1]);
      // 1 MiB both ways through host socket → gateway stack → switch → node's stack, byte-exact.
      const data = Buffer.alloc(1 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 10)) & 255;
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const s = connect({ host: '127.0.0.1', port: echoPort, allowHalfOpen: true }, () => s.end(data));
        s.on('data', (c) => chunks.push(c));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', reject);
        setTimeout(() => reject(new Error('echo through the forward timed out')), 20_000).unref();
      });
      expect(echoed.length).toBe(data.length);
      expect(echoed.equals(data)).toBe(true);
      // Nothing listens on node 1 port 9: the node's RST closes the host connection.
      const refused = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: closedPort });
        s.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`));
        s.on('close', () => resolve('closed'));
        s.resume();
        setTimeout(() => resolve('still open'), 5_000).unref();
      });
      expect(refused).not.toBe('still open');
    } finally {
      abort.abort();
    }
    const run = await running;
    expect(run.failures).toEqual([]);
    const [echo, closed] = run.network!.forwards;
    expect(echo!.stats).toMatchObject({ accepted: 1, active: 0, bytesIn: 1 << 20, bytesOut: 1 << 20, failed: 0 });
    expect(closed!.stats).toMatchObject({ accepted: 1, active: 0, failed: 1 });
    // The gateway sat on the switch with the NIC the config named, and the bytes crossed it.
    const simulated = run.network!.simulated;
    const frames = nic === 'direct' ? simulated.port('gateway')?.stats.rxFrames : simulated.nic('gateway')?.stats.rxFrames;
    expect(frames).toBeGreaterThan(100);
    expect(nic === 'direct' ? simulated.nic('gateway') : simulated.port('gateway')).toBeUndefined();
  }, 60_000);

  it('hostAccess: a node reaches a listed host loopback port through the gateway address, and a refused port resets it', async () => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('end', () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const open = (server.address() as AddressInfo).port;
    const spare = createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', () => r()));
    const refused = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    const client = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
const ask = (nm, port) => new Promise((resolve) => {
  let got = '';
  nm.tcpConnect('10.0.0.1', port, {
    connected(c) { c.send(IOBuf.copyOf('shout ' + port)); c.shutdown(); },
    receive(c, d) { got += new TextDecoder().decode(d.toUint8Array()); d.releaseChain(); },
    closed(c) { c.close(); resolve('reply: ' + got); },
    aborted(c, e) { resolve('aborted: ' + e.message); },
  });
});
export async function main(ctx) {
  const nm = new EbbRef(SystemEbbIds.NetworkManager).deref();
  await new EbbRef(SystemEbbIds.Timer).deref().sleep(20000);
  for (const port of ctx.args) ctx.log(await ask(nm, Number(port)));
  ctx.exit(0);
}
`;
    const a = tempApp(
      baseConfig({ clock: 'realtime', args: [String(open), String(refused)], backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' } }, network: { hostAccess: [open, refused] } }),
      { 'main.mjs': client },
    );
    cleanup.push(a.remove);
    const lines: string[] = [];
    const abort = AbortSignal.timeout(20_000);
    try {
      const run = await runApp(a.dir, { output: (l) => lines.push(l), signal: abort, resolveFrom: [process.cwd()] });
      expect(run.failures).toEqual([]);
      expect(lines).toContain(`[node 1 core 0] reply: SHOUT ${open}`);
      expect(lines.find((l) => l.startsWith('[node 1 core 0] aborted:'))).toMatch(/refused|reset/i);
      expect(lines).toContain(`network: the nodes (only) reach the host's 127.0.0.1 at 10.0.0.1 on ports ${open}, ${refused}`);
      // Two connections of the app's, plus the node's Messenger reporting to the front-end.
      expect(run.network!.hostRelay!.stats).toMatchObject({ accepted: 3, failed: 1 });
    } finally {
      server.close();
    }
  }, 30_000);

  it('joins the switch to a Linux TAP device, so the host kernel reaches the nodes directly', async (ctx) => {
    const reason = await tapUnavailableReason();
    if (reason !== undefined) {
      if (process.env.CI) throw new Error(`TAP test cannot run under CI: ${reason}`);
      ctx.skip();
      return;
    }
    let tapUp: () => void = () => undefined;
    let echoUp: () => void = () => undefined;
    const announced = Promise.all([new Promise<void>((resolve) => (tapUp = resolve)), new Promise<void>((resolve) => (echoUp = resolve))]);
    const lines: string[] = [];
    const abort = new AbortController();
    const dir = app({
      clock: 'realtime',
      backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' } },
      network: { subnet: '10.213.57.0/24', tap: { name: 'ebbrt-rt-test', required: true } },
    });
    const running = runApp(dir, {
      output: (l) => {
        lines.push(l);
        if (l.includes('TAP ebbrt-rt-test')) tapUp();
        if (l.includes('echo at')) echoUp();
      },
      signal: abort.signal,
      resolveFrom: [process.cwd()],
    });
    try {
      await announced;
      expect(lines).toContain('network: TAP ebbrt-rt-test at 10.213.57.254/24: the host reaches the nodes directly');
      // Announced means routed: the host's route to a node goes through the TAP (while socat was
      // still configuring it, the subnet went out of the default route and off the machine).
      const route = await new Promise<string>((resolve) => {
        let out = '';
        const p = spawn('ip', ['-o', 'route', 'get', '10.213.57.2'], { stdio: ['ignore', 'pipe', 'ignore'] });
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', () => resolve(out));
      });
      expect(route).toMatch(/ dev ebbrt-rt-test /);
      const ping = await new Promise<number | null>((resolve) => {
        const p = spawn('ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.213.57.2'], { stdio: 'ignore' });
        p.on('close', resolve);
      });
      expect(ping).toBe(0);
      const reply = await new Promise<string>((resolve, reject) => {
        let got = '';
        const s = connect({ host: '10.213.57.2', port: 7, allowHalfOpen: true }, () => s.end('over the TAP'));
        s.on('data', (c) => (got += c.toString()));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      expect(reply).toBe('over the TAP');
    } finally {
      abort.abort();
    }
    const run = await running;
    expect(run.failures).toEqual([]);
    // The TAP is gone with socat.
    expect(existsSync('/sys/class/net/ebbrt-rt-test')).toBe(false);
  }, 60_000);
});

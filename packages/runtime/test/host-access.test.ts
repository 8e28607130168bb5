/**
 * Issue 11 item 2: host access is opt-in per port and relays only the app's own nodes. Before,
 * any realtime app with a network opened every loopback port of the host to anything that
 * reached the subnet (the gateway relayed any port, from any source).
 *
 * - simulation (no root needed): a foreign host on the app's switch, running our own stack at an
 *   address no node has, dials the gateway at a listed port and at the front-end Messenger's port:
 *   both are refused, while the app's node reaches the listed port and not an unlisted one;
 * - Linux interop: a process in a network namespace behind the TAP dials the gateway's address at a
 *   loopback listener's port and must be refused (it reaches the node itself, which is its business).
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NetworkManager } from '@ebbrt/interfaces';
import { bootNode, runApp, type StartedRun } from '../src/index.js';
import { tapUnavailableReason } from '@ebbrt/host-network';
import { tempApp } from './temp-app.js';

const RUNTIME_PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A loopback listener that writes `banner` to whoever connects, then closes. */
async function loopbackListener(banner: string): Promise<number> {
  const server: Server = createServer((s) => s.end(banner));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

// Node 1 echoes on port 7, then dials the gateway at each port in its args and logs what came back.
const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export const dial = (nm, address, port) => new Promise((resolve) => {
  let got = '';
  nm.tcpConnect(address, port, {
    receive(c, d) { got += new TextDecoder().decode(d.toUint8Array()); d.releaseChain(); },
    closed(c) { c.close(); resolve('got ' + JSON.stringify(got)); },
    aborted(c, e) { resolve('refused: ' + e.message); },
  });
});
export async function main(ctx) {
  const nm = new EbbRef(SystemEbbIds.NetworkManager).deref();
  await nm.tcpListen(7, () => ({ receive(c, d) { c.sendQueued(d); }, closed(c) { c.close(); } })).listening;
  ctx.log('echo up');
  for (const port of ctx.args) ctx.log('gateway:' + port + ' ' + await dial(nm, nm.interfaces()[0].gateway ?? '0.0.0.0', Number(port)));
}
`;

function waitFor(lines: string[], match: (line: string) => boolean, what: string, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const line = lines.find(match);
      if (line !== undefined) {
        clearInterval(poll);
        resolve(line);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`no ${what} within ${ms} ms; lines:\n${lines.join('\n')}`));
      }
    }, 20);
  });
}

describe('host access is opt-in per port and for the app nodes only', () => {
  it('simulation: a foreign host on the switch is refused at a listed port and at the Messenger port; the node gets only the listed port', async () => {
    const open = await loopbackListener('open to nodes');
    const secret = await loopbackListener('secret');
    const app = tempApp(
      {
        entry: { backend: './node.mjs' },
        clock: 'realtime',
        args: [String(open), String(secret)],
        backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' }, ebbs: { NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { gateway: '10.0.0.1' } } } },
        network: { hostAccess: [open] },
      },
      { 'node.mjs': nodeMain },
    );
    cleanup.push(app.remove);
    const lines: string[] = [];
    const abort = new AbortController();
    let started!: StartedRun;
    const running = runApp(app.dir, { output: (l) => lines.push(l), signal: abort.signal, resolveFrom: [process.cwd()], onStarted: (run) => (started = run) });
    try {
      expect(await waitFor(lines, (l) => l.includes(`gateway:${open} `), 'dial of the listed port')).toBe(`[node 1 core 0] gateway:${open} got "open to nodes"`);
      expect(await waitFor(lines, (l) => l.includes(`gateway:${secret} `), 'dial of the unlisted port')).toMatch(new RegExp(`gateway:${secret} refused: .*(refused|reset)`, 'i'));
      // A host on the segment that is not one of the app's nodes: our own stack at 10.0.0.200.
      const { simulation, network, frontend } = started;
      const machine = simulation.createMachine({ name: 'intruder', cores: 1, memoryBytes: 16 * 1024 * 1024 });
      network!.simulated.attach(machine, 'intruder');
      const intruder = await bootNode({
        id: 0x7000,
        label: 'intruder',
        target: 'native',
        numCores: 1,
        section: 'backend',
        choices: { NetworkManager: '@ebbrt/network-manager-lwip' },
        implied: { NetworkManager: { address: '10.0.0.200/24' } },
        machine,
        simulation,
        output: (l) => lines.push(l),
        resolve: { appDir: app.dir, bases: [RUNTIME_PACKAGE], preferSource: true, cache: new Map() },
      });
      const { dial } = (await import(join(app.dir, 'node.mjs'))) as { dial(nm: NetworkManager, address: string, port: number): Promise<string> };
      const messengerPort = frontend.root('Messenger')!.port;
      const refusedBefore = network!.hostRelay!.refused;
      for (const port of [open, messengerPort]) {
        const said = await intruder.runOn(0, () => dial(new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref(), '10.0.0.1', port));
        expect(said, `intruder at port ${port}`).toMatch(/^refused: .*(refused|reset)/i);
      }
      expect(network!.hostRelay!.refused - refusedBefore).toBe(2);
      // Only the node's two dials and its Messenger's report crossed the relay.
      expect(network!.hostRelay!.stats.accepted).toBe(2);
      intruder.events.shutdown();
    } finally {
      abort.abort();
    }
    const run = await running;
    expect(run.failures).toEqual([]);
  }, 60_000);

  it('Linux: a process in a netns behind the TAP cannot reach the host loopback through the gateway', async (ctx) => {
    const reason = (await tapUnavailableReason()) ?? (await missingTool('socat'));
    if (reason !== undefined) {
      if (process.env.CI === 'true') throw new Error(`the netns host-access test must run under CI: ${reason}`);
      console.log(`skipped: netns host-access test: ${reason}`);
      ctx.skip();
      return;
    }
    const open = await loopbackListener('open to nodes');
    const secret = await loopbackListener('secret');
    const tap = 'ebbrt-ha-tap';
    const ns = `ebbrt-ha-${process.pid}`;
    const app = tempApp(
      {
        entry: { backend: './node.mjs' },
        clock: 'realtime',
        backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' } },
        network: { subnet: '10.213.59.0/24', tap: { name: tap, required: true }, hostAccess: [open] },
      },
      { 'node.mjs': nodeMain },
    );
    cleanup.push(app.remove);
    const lines: string[] = [];
    const abort = new AbortController();
    const running = runApp(app.dir, { output: (l) => lines.push(l), signal: abort.signal, resolveFrom: [process.cwd()] });
    cleanup.push(() => run('ip', ['netns', 'del', ns]));
    try {
      await waitFor(lines, (l) => l.includes(`TAP ${tap}`), 'TAP');
      await waitFor(lines, (l) => l.includes('echo up'), 'echo');
      // The TAP moves into a namespace of its own: a stranger's box on the segment.
      for (const args of [
        ['netns', 'add', ns],
        ['link', 'set', tap, 'netns', ns],
        ['-n', ns, 'addr', 'add', '10.213.59.254/24', 'dev', tap],
        ['-n', ns, 'link', 'set', tap, 'up'],
        ['-n', ns, 'link', 'set', 'lo', 'up'],
      ]) expect((await run('ip', args)).code, `ip ${args.join(' ')}`).toBe(0);
      const dial = (address: string, port: number, input: string) =>
        run('ip', ['netns', 'exec', ns, 'socat', '-T', '3', '-', `TCP:${address}:${port},connect-timeout=3`], input);
      // Control: the namespace does reach the node over the TAP (so a refusal below is the gateway's).
      const echoed = await dial('10.213.59.2', 7, 'over the tap');
      expect(echoed.stdout, echoed.stderr).toBe('over the tap');
      for (const port of [secret, open]) {
        const got = await dial('10.213.59.1', port, '');
        expect(got.stdout, `port ${port}`).toBe('');
        expect(got.code).not.toBe(0);
        expect(got.stderr).toMatch(/refused|reset/i);
      }
    } finally {
      abort.abort();
    }
    const result = await running;
    expect(result.failures).toEqual([]);
    expect(result.network!.hostRelay!.refused).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => done({ code: -1, stdout, stderr: stderr + String(e) }));
    child.once('close', (code) => done({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

async function missingTool(tool: string): Promise<string | undefined> {
  return (await run('sh', ['-c', `command -v ${tool}`])).code === 0 ? undefined : `needs ${tool} on PATH`;
}

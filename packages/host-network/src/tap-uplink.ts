import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type NetworkFabric, type Simulation } from '@ebbrt/hw-x86sim';
import { UdpTapBridge } from '@ebbrt/hw-x86sim/node';

export interface TapUplinkOptions {
  /** Linux interface name. */
  name: string;
  /** The Linux side's address with prefix, e.g. '10.0.0.254/24'. */
  address: string;
}

/** Why this machine cannot create a TAP uplink, or undefined if it can. */
export async function tapUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  for (const tool of ['socat', 'ip']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) return `needs ${tool} on PATH (apt-get install ${tool === 'ip' ? 'iproute2' : tool})`;
  }
  return undefined;
}

/**
 * Joins the simulated switch to a Linux TAP device, so the host's own stack (and anything on
 * it: curl, memcached clients) reaches the nodes at L2. Frames cross as UDP datagrams between a
 * `UdpTapBridge` and socat, which owns the TAP; the TAP disappears when socat exits.
 */
export class TapUplink {
  private constructor(
    readonly options: TapUplinkOptions,
    private readonly bridge: UdpTapBridge,
    private readonly socat: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly log: () => string,
  ) {}

  static async open(simulation: Simulation, fabric: NetworkFabric, options: TapUplinkOptions): Promise<TapUplink> {
    if ((await run('ip', ['link', 'show', options.name])).code === 0) {
      throw new Error(`a network interface named ${options.name} already exists (another run? pick network.tap.name)`);
    }
    // The bridge listens before socat starts: socat exits on its first refused datagram.
    const bridge = await UdpTapBridge.open(simulation, { port: 0, host: '127.0.0.1' });
    fabric.connect(bridge, { name: 'tap' });
    let output = '';
    const socat = spawn(
      'socat',
      ['-d', `TUN:${options.address},tun-type=tap,tun-name=${options.name},iff-up,iff-no-pi`, `UDP:127.0.0.1:${bridge.port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((done) => socat.once('close', () => done()));
    socat.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    socat.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    socat.on('error', (e) => (output += String(e)));
    const uplink = new TapUplink(options, bridge, socat, exited, () => output.trim());
    const deadline = Date.now() + 5_000;
    for (;;) {
      if (socat.exitCode !== null || socat.signalCode !== null) {
        await uplink.close();
        throw new Error(`socat exited before the TAP came up: ${output.trim() || `code ${socat.exitCode}`}`);
      }
      // socat creates the device before it assigns the address and brings it up; until then the
      // host routes the subnet out of its default route (traffic would leave the machine), so
      // the uplink is open only once the address is on an UP device.
      if (await tapConfigured(options)) return uplink;
      if (Date.now() > deadline) {
        await uplink.close();
        throw new Error(`TAP ${options.name} did not appear within 5 s: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** socat's diagnostics so far. */
  get socatLog(): string {
    return this.log();
  }

  async close(): Promise<void> {
    if (this.socat.exitCode === null && this.socat.signalCode === null) this.socat.kill('SIGTERM');
    const force = setTimeout(() => this.socat.kill('SIGKILL'), 2_000);
    await this.exited;
    clearTimeout(force);
    await this.bridge.close();
  }
}

/** Whether the TAP exists, is UP and carries its address (the subnet route then goes through it). */
async function tapConfigured(options: TapUplinkOptions): Promise<boolean> {
  const link = await run('ip', ['-o', 'link', 'show', options.name]);
  if (link.code !== 0 || !/<[^>]*\bUP\b[^>]*>/.test(link.stdout)) return false;
  const addr = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', options.name]);
  return addr.code === 0 && addr.stdout.includes(` ${options.address} `);
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', () => done({ code: -1, stdout }));
    child.once('close', (code) => done({ code, stdout }));
  });
}

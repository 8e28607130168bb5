import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { type FramePort, type NetworkEndpoint, type NetworkFabric, type Simulation } from '@ebbrt/hw-x86sim';
import { UdpTapBridge } from '@ebbrt/hw-x86sim/node';
import { tapHelperBinary } from './tap-helper.js';

export interface TapUplinkOptions {
  /** Linux interface name. */
  name: string;
  /** The Linux side's address with prefix, e.g. '10.0.0.254/24'. */
  address: string;
  /**
   * SO_RCVBUF/SO_SNDBUF of both UDP sockets (the bridge's and socat's). Default 4 MiB; 0 = the
   * system default. See `network.tap.socketBufferBytes`.
   */
  socketBufferBytes?: number;
  /** The TAP's MTU (default 1500). */
  mtu?: number;
  /**
   * What joins the TAP to the bridge: 'socat' (default, one frame per datagram) or 'helper'
   * (host-network's ebbrt-tap-bridge, built with the C compiler on first use: several frames
   * per datagram each way). See `network.tap.relay`.
   */
  relay?: 'socat' | 'helper';
}

const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

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
  /** The counters as they were when the uplink closed (the sockets and the TAP are gone then). */
  private final: TapPathCounters | undefined;

  private constructor(
    readonly options: TapUplinkOptions,
    private readonly bridge: UdpTapBridge,
    private readonly relay: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly log: () => string,
    private readonly writer: TapWriter | undefined,
  ) {}

  static async open(simulation: Simulation, fabric: NetworkFabric, options: TapUplinkOptions): Promise<TapUplink> {
    if ((await run('ip', ['link', 'show', options.name])).code === 0) {
      throw new Error(`a network interface named ${options.name} already exists (another run? pick network.tap.name)`);
    }
    const helper = options.relay === 'helper' ? await tapHelperBinary() : undefined;
    // The bridge listens before the relay starts: socat exits on its first refused datagram.
    const buffer = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
    const mtu = options.mtu ?? 1500;
    const bridge = await UdpTapBridge.open(simulation, {
      port: 0,
      host: '127.0.0.1',
      recvBufferBytes: buffer,
      sendBufferBytes: buffer,
      framing: helper === undefined ? 'frame' : 'packed',
    });
    // With the helper, this process writes the nodes' frames into the TAP itself (TapWriter):
    // it opens /dev/net/tun and hands it to the helper as fd 3 to attach to the device.
    const writer = helper === undefined ? undefined : new TapWriter(openSync('/dev/net/tun', 'r+'), bridge);
    fabric.connect(writer ?? bridge, { name: 'tap' });
    let output = '';
    const relay =
      helper === undefined
        ? spawn(
            'socat',
            // -b: socat's transfer buffer (8192 by default) must hold a whole frame of the MTU.
            ['-d', '-b', String(Math.max(8192, mtu + 64)), `TUN:${options.address},tun-type=tap,tun-name=${options.name},iff-up,iff-no-pi`, `UDP:127.0.0.1:${bridge.port}${buffer > 0 ? `,rcvbuf=${buffer},sndbuf=${buffer}` : ''}`],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          )
        : // stdin a pipe: the helper exits when it closes, so it never outlives this process.
          spawn(helper, [options.name, String(bridge.port), String(buffer), 'inherit'], { stdio: ['pipe', 'pipe', 'pipe', writer!.fd] });
    const exited = new Promise<void>((done) => relay.once('close', () => done()));
    relay.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    relay.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    relay.on('error', (e) => (output += String(e)));
    const uplink = new TapUplink(options, bridge, relay, exited, () => output.trim(), writer);
    const what = helper === undefined ? 'socat' : 'the TAP helper';
    const deadline = Date.now() + 5_000;
    let configured = helper === undefined;
    for (;;) {
      if (relay.exitCode !== null || relay.signalCode !== null) {
        await uplink.close();
        throw new Error(`${what} exited before the TAP came up: ${output.trim() || `code ${relay.exitCode}`}`);
      }
      if (!configured) {
        // The helper only creates the device; the address, MTU and UP are ours to set, once it
        // said which port it sends from.
        const ready = /^ready (\S+) (\d+)$/m.exec(output);
        if (ready !== null) {
          bridge.setPeer({ address: '127.0.0.1', port: Number(ready[2]) });
          const steps = [
            ['addr', 'add', options.address, 'dev', options.name],
            ['link', 'set', 'dev', options.name, 'mtu', String(mtu), 'up'],
          ];
          for (const step of steps) {
            if ((await run('ip', step)).code !== 0) {
              await uplink.close();
              throw new Error(`ip ${step.join(' ')} failed for the helper's TAP`);
            }
          }
          configured = true;
        }
      }
      // socat creates the device before it assigns the address and brings it up; until then the
      // host routes the subnet out of its default route (traffic would leave the machine), so
      // the uplink is open only once the address is on an UP device.
      if (configured && (await tapConfigured(options))) {
        if (helper === undefined && mtu !== 1500 && (await run('ip', ['link', 'set', 'dev', options.name, 'mtu', String(mtu)])).code !== 0) {
          await uplink.close();
          throw new Error(`could not set the MTU of TAP ${options.name} to ${mtu}`);
        }
        return uplink;
      }
      if (Date.now() > deadline) {
        await uplink.close();
        throw new Error(`TAP ${options.name} did not appear within 5 s: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The relay's diagnostics so far (socat's, or the helper's counters once it exited). */
  get socatLog(): string {
    return this.log();
  }

  /**
   * Where frames were lost on the way, point by point: the bridge's own counters, the kernel's
   * drop counts of our UDP socket and of socat's (receive buffer full), and the TAP device's
   * counters (its tx queue overflows when socat reads too slowly). Read on demand from /proc and
   * /sys, never on the data path; after close, the last reading.
   */
  counters(): TapPathCounters {
    if (this.final !== undefined) return { ...this.final };
    const b = this.bridge.stats;
    const peer = this.bridge.peerAddress;
    const tap = (k: string): number => readNumber(`/sys/class/net/${this.options.name}/statistics/${k}`);
    return {
      bridgeTxDatagrams: b.txDatagrams,
      bridgeTxDropped: b.txDropped,
      bridgeRxDatagrams: b.rxDatagrams,
      bridgeRxIgnored: b.rxIgnored,
      bridgePackedDatagramsOut: b.txPackedDatagrams,
      bridgePackedDatagramsIn: b.rxPackedDatagrams,
      bridgeRxBadPacked: Object.values(b.rxBadPacked).reduce((x, y) => x + y, 0),
      bridgeSocketDrops: udpSocketDrops(this.bridge.port),
      socatSocketDrops: peer === null ? 0 : udpSocketDrops(peer.port),
      tapRxPackets: tap('rx_packets'),
      tapRxDropped: tap('rx_dropped'),
      tapTxPackets: tap('tx_packets'),
      tapTxDropped: tap('tx_dropped'),
      tapWrites: this.writer?.writes ?? 0,
      tapWriteErrors: this.writer?.errors ?? 0,
    };
  }

  async close(): Promise<void> {
    this.final ??= this.counters();
    if (this.relay.exitCode === null && this.relay.signalCode === null) this.relay.kill('SIGTERM');
    const force = setTimeout(() => this.relay.kill('SIGKILL'), 2_000);
    await this.exited;
    clearTimeout(force);
    this.writer?.close();
    await this.bridge.close();
  }
}

/**
 * The fabric's side of a helper-relayed TAP: frames from the nodes are written straight into the
 * TAP (one write per frame, as the TAP takes them), frames from Linux still arrive through the
 * helper and the bridge. Why: the TAP path is bound by wake-ups, not CPU (a profile of memcached
 * through the TAP under memcaslap had the node's process busy 21 % of the time). Writing here
 * takes the helper's wake-up and a datagram out of every reply's way. A TAP write never blocks
 * and copies the frame at once, so frames need no lifetime beyond the call; a failed write (the
 * device going away) is a frame lost, as on a wire, and counted.
 */
class TapWriter implements NetworkEndpoint {
  writes = 0;
  errors = 0;
  private closed = false;

  constructor(
    readonly fd: number,
    private readonly bridge: UdpTapBridge,
  ) {}

  attach(tx: FramePort | null): void {
    this.bridge.attach(tx);
  }

  receive(frame: Uint8Array): void {
    if (this.closed) {
      this.errors++;
      return;
    }
    try {
      writeSync(this.fd, frame, 0, frame.length);
      this.writes++;
    } catch {
      this.errors++;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Frames counted at each point of the TAP path (see `TapUplink.counters`). */
export interface TapPathCounters {
  /** Frames the bridge sent to socat as datagrams, and frames it could not send. */
  bridgeTxDatagrams: number;
  bridgeTxDropped: number;
  /** Datagrams from socat posted into the simulation, and ignored ones (runts, strangers). */
  bridgeRxDatagrams: number;
  bridgeRxIgnored: number;
  /**
   * With the helper (packed framing, `network.tap.relay: 'helper'`): datagrams each way (each
   * carries several frames), and malformed datagrams rejected whole (the bridge's
   * `stats.rxBadPacked` has them by reason). All 0 with socat.
   */
  bridgePackedDatagramsOut: number;
  bridgePackedDatagramsIn: number;
  bridgeRxBadPacked: number;
  /** Datagrams the kernel dropped at our socket (its receive buffer was full). */
  bridgeSocketDrops: number;
  /** Datagrams the kernel dropped at the relay's socket (socat's or the helper's): frames from the nodes that never reached the TAP. */
  socatSocketDrops: number;
  /** Frames socat wrote into the TAP (Linux received them), and those Linux dropped. */
  tapRxPackets: number;
  tapRxDropped: number;
  /** Frames Linux sent out of the TAP towards socat, and those dropped (its queue was full). */
  tapTxPackets: number;
  tapTxDropped: number;
  /**
   * With the helper: frames this process wrote into the TAP itself (the nodes' side; socat and
   * the helper then carry only Linux's frames as datagrams), and writes that failed. 0 with socat.
   */
  tapWrites: number;
  tapWriteErrors: number;
}

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** The kernel's drop count of the IPv4 UDP socket bound to 127.0.0.1:`port` (/proc/net/udp), 0 if none. */
function udpSocketDrops(port: number): number {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return 0;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f.length >= 13) return Number(f[12]) || 0;
  }
  return 0;
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

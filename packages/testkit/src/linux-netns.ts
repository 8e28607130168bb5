/**
 * Linux interop harness: one simulated native node (EventManager, Timer, SLQB MemoryAllocator,
 * this NetworkManager at 10.0.3.2/24) on a realtime-clock Simulation, joined through a
 * `UdpTapBridge` + socat to a Linux TAP device that lives in a fresh network namespace at
 * 10.0.3.1/24. The Linux kernel's own stack (ping, UDP sockets) then talks to our stack.
 *
 * Sequence (checked by hand first):
 *   ip netns add <NS>
 *   <bridge listening on 127.0.0.1:<port>>            (before socat: it exits on a refused datagram)
 *   socat TUN:10.0.3.1/24,tun-type=tap,tun-name=<T>,iff-up,iff-no-pi UDP:127.0.0.1:<port>
 *   ip link set <T> netns <NS>                          (drops the address)
 *   ip netns exec <NS> ip addr add 10.0.3.1/24 dev <T>
 *   ip netns exec <NS> ip link set <T> up
 * Cleanup: kill socat (by pid), wait for it, ip netns del <NS>, stop the simulation, close the bridge.
 *
 * Everything is asynchronous (child processes via spawn, never *Sync while the node must answer):
 * the simulation runs on this process's event loop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NodeContext, cpu } from '@ebbrt/core-translation';
import { NetworkFabric, Simulation, type Machine, type RunResult } from '@ebbrt/hw-x86sim';
import { UdpTapBridge } from '@ebbrt/hw-x86sim/node';
import { SystemEbbIds, type EventManagerRoot } from '@ebbrt/interfaces';
import { manifest as emManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { manifest as slqbManifest } from '@ebbrt/memory-allocator-slqb';
import { manifest as lwipManifest, type LwipNetworkManager, type LwipNetworkManagerRoot } from '@ebbrt/network-manager-lwip';
import { installEbb, type FixtureContext } from './install-ebb.js';
import { lwipRoot } from './net-fixture.js';

export const LINUX_ADDRESS = '10.0.3.1';
export const NODE_ADDRESS = '10.0.3.2';

/** Whether this machine can run the Linux interop tests (root, /dev/net/tun, ip, socat, ping, python3). */
export function linuxPrerequisites(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (platform is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: 'needs root (ip netns, TAP devices)' };
  }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'needs /dev/net/tun' };
  const missing = ['ip', 'socat', 'ping', 'python3'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length > 0) {
    return { ok: false, reason: `missing tools: ${missing.join(', ')} (apt-get install iproute2 socat iputils-ping python3)` };
  }
  return { ok: true };
}

/** Debian's python3 with scapy (python3-scapy), for crafted frames; not whatever python3 is first on PATH. */
export const SCAPY_PYTHON = '/usr/bin/python3';

/** `linuxPrerequisites` plus scapy, for the tests that craft frames. */
export function scapyPrerequisites(): { ok: true } | { ok: false; reason: string } {
  const base = linuxPrerequisites();
  if (!base.ok) return base;
  if (spawnSync(SCAPY_PYTHON, ['-c', 'import scapy.all'], { stdio: 'ignore' }).status !== 0) {
    return { ok: false, reason: `needs scapy for ${SCAPY_PYTHON} (apt-get install python3-scapy)` };
  }
  return { ok: true };
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command asynchronously, killed (SIGKILL) after `timeoutMs`. */
export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  const { timeoutMs = 10_000 } = opts;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    if (child.stdin) {
      // A child that exits without reading its input (or fails to start) must not surface EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await exec(cmd, args, { timeoutMs: 5_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
}

export interface LinuxNetns {
  ns: string;
  tap: string;
  sim: Simulation;
  fabric: NetworkFabric;
  bridge: UdpTapBridge;
  machine: Machine;
  node: NodeContext;
  em: EventManagerRoot;
  nm: LwipNetworkManagerRoot;
  /** Runs `fn` on the node's core `core` (with the rep of that core) and resolves with its result. */
  onNode<T>(core: number, fn: (rep: LwipNetworkManager) => T | Promise<T>): Promise<T>;
  /** `ip netns exec <ns> cmd args...` */
  inNs(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Anything socat printed (it runs with -d for errors). */
  socatLog(): string;
  /** socat's pid (e.g. to read its CPU time from /proc/<pid>/stat), undefined if it has none. */
  socatPid: number | undefined;
  close(): Promise<void>;
}

let counter = 0;

export interface LinuxNetnsOptions {
  cores?: number;
  /** Upper bound on the whole session (wall time): the simulation run ends by itself then. */
  maxRunMs?: number;
  /**
   * Receive buffer (bytes) of both UDP sockets of the tunnel: socat's (`rcvbuf=`) and the bridge's.
   * Default: the kernel's (net.core.rmem_default, ~208 KiB), which overflows when a TCP sender
   * bursts a full window while the node's event loop is busy: the host then drops datagrams
   * (UdpRcvbufErrors) and both TCPs see loss. Values above net.core.rmem_max are capped by the
   * kernel (root may raise it with SO_RCVBUFFORCE; socat and Node use SO_RCVBUF).
   */
  udpBufferBytes?: number;
  /** More options of the node's NetworkManager (its address is fixed: NODE_ADDRESS/24). */
  options?: Record<string, unknown>;
}

/**
 * Builds the namespace, TAP, bridge and node. On any failure everything made so far is undone
 * before the error propagates. Call `close()` (idempotent) when done, e.g. in afterAll.
 */
export async function startLinuxNetns(opts: LinuxNetnsOptions = {}): Promise<LinuxNetns> {
  const { cores = 2, maxRunMs = 60_000, udpBufferBytes, options = {} } = opts;
  const n = counter++;
  const ns = `ebt${process.pid}n${n}`.slice(0, 15);
  const tap = `ebt${process.pid}t${n}`.slice(0, 15);
  const undo: Array<() => Promise<void> | void> = [];
  let socat: ChildProcess | null = null;
  let socatOut = '';
  let runPromise: Promise<RunResult> | null = null;
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const errors: unknown[] = [];
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `linux-netns cleanup of ${ns} had errors`);
  };

  try {
    // 1. Simulation + node (realtime clock: the kernel's timers and ours see the same time).
    const sim = new Simulation({ clock: 'realtime' });
    const fabric = new NetworkFabric(sim);
    const machine = sim.createMachine({ name: 'linux-peer-node', cores, memoryBytes: 32 * 1024 * 1024 });
    const node = new NodeContext({ id: 1, numCores: cores, target: 'native', idSpace: 2 });
    const ctx: FixtureContext = { node, target: 'native', machine, simulation: sim, log: () => {} };
    const em = installEbb('EventManager', emManifest, ctx);
    installEbb('Timer', timerManifest, ctx);
    installEbb('MemoryAllocator', slqbManifest, ctx);
    const nm = lwipRoot(installEbb('NetworkManager', lwipManifest, ctx, { ...options, address: `${NODE_ADDRESS}/24` }));
    fabric.connect(nm.driver.device, { name: 'node-link' });

    const repOn = (): LwipNetworkManager => {
      const c = cpu.current;
      if (c === undefined) throw new Error('not on a core');
      const core = node.core(c.index);
      return (core.translation.get(SystemEbbIds.NetworkManager) ?? node.fault(SystemEbbIds.NetworkManager, core)) as LwipNetworkManager;
    };
    const onNode = <T>(core: number, fn: (rep: LwipNetworkManager) => T | Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        em.post(core, async () => {
          try {
            resolve(await fn(repOn()));
          } catch (e) {
            reject(e);
          }
        });
      });

    // 2. Run the simulation in the background, bounded in wall time.
    runPromise = sim.run({ stopWhenIdle: false, untilNs: sim.now() + maxRunMs * 1e6 });
    undo.push(async () => {
      sim.stop();
      await runPromise;
    });
    await onNode(0, (rep) => rep.whenReady());

    // 3. The bridge (listening before socat starts), on the switch.
    const bridge = await UdpTapBridge.open(sim, { port: 0, host: '127.0.0.1' });
    undo.push(() => bridge.close());
    fabric.connect(bridge, { name: 'tap-link' });
    if (udpBufferBytes !== undefined) {
      // UdpTapBridge has no option for it: reach its (private) dgram socket.
      const socket = (bridge as unknown as { socket?: { setRecvBufferSize?(n: number): void } }).socket;
      if (typeof socket?.setRecvBufferSize !== 'function') throw new Error('UdpTapBridge socket not reachable for udpBufferBytes');
      socket.setRecvBufferSize(udpBufferBytes);
    }

    // 4. Namespace.
    await must('ip', ['netns', 'add', ns]);
    undo.push(() => must('ip', ['netns', 'del', ns]));

    // 5. socat: TAP <-> UDP to the bridge.
    socat = spawn(
      'socat',
      ['-d', `TUN:${LINUX_ADDRESS}/24,tun-type=tap,tun-name=${tap},iff-up,iff-no-pi`, `UDP:127.0.0.1:${bridge.port}${udpBufferBytes === undefined ? '' : `,rcvbuf=${udpBufferBytes}`}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = socat;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdout!.on('data', (d: Buffer) => (socatOut += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (socatOut += d.toString()));
    undo.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(t);
    });

    // 6. Wait for socat to have *finished* setting the TAP up (its address and UP flag are the
    //    last things it does), then move it into the namespace and configure it there. Moving it
    //    as soon as it exists races socat's own ioctls by name: under load socat then fails, exits,
    //    and the TAP vanishes ("Cannot find device" in the namespace).
    const deadline = Date.now() + 5_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`socat exited early (${child.exitCode}): ${socatOut.trim()}`);
      const shown = await exec('ip', ['-o', 'addr', 'show', 'dev', tap], { timeoutMs: 2_000 });
      if (shown.code === 0 && shown.stdout.includes(`${LINUX_ADDRESS}/24`) && /[<,]UP[,>]/.test(shown.stdout + (await exec('ip', ['-o', 'link', 'show', tap], { timeoutMs: 2_000 })).stdout)) break;
      if (Date.now() > deadline) throw new Error(`TAP ${tap} was not set up by socat within 5 s: ${socatOut.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await must('ip', ['link', 'set', tap, 'netns', ns]);
    await must('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${LINUX_ADDRESS}/24`, 'dev', tap]);
    await must('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', tap, 'up']);
    await must('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);

    return {
      ns,
      tap,
      sim,
      fabric,
      bridge,
      machine,
      node,
      em,
      nm,
      onNode,
      inNs: (cmd, args, o) => exec('ip', ['netns', 'exec', ns, cmd, ...args], o),
      socatLog: () => socatOut,
      socatPid: child.pid,
      close,
    };
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
}

/** Parses iputils ping's summary: transmitted, received, time (ms), and the rtt line if any. */
export function parsePing(out: string): { transmitted: number; received: number; timeMs: number; avgMs: number | null } {
  const m = /(\d+) packets transmitted, (\d+) received.*?(?:time (\d+)ms)?$/m.exec(out);
  if (!m) throw new Error(`unparseable ping output:\n${out}`);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
  return { transmitted: Number(m[1]), received: Number(m[2]), timeMs: Number(m[3] ?? NaN), avgMs: rtt ? Number(rtt[1]) : null };
}

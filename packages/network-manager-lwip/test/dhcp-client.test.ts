// DHCP client (src/dhcp/) against a tiny DHCP server written here, running on a second simulated
// node through the stack's own udpBind (static 10.0.0.1/24). The client node has address 'dhcp'.
import { NodeContext, cpu } from '@ebbrt/core-translation';
import { NetworkFabric, Simulation, type Link, type LinkProps } from '@ebbrt/hw-x86sim';
import { IOBuf, SystemEbbIds, type EbbRoot, type EventManagerRoot, type Timer, type UdpSocket } from '@ebbrt/interfaces';
import { eventManagerOptionsSchema, manifest as emManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { manifest as slqbManifest, slqbOptionsSchema } from '@ebbrt/memory-allocator-slqb';
import { describe, expect, it } from 'vitest';
import {
  DhcpMessage,
  DhcpMessageType,
  dhcpLength,
  emitDhcp,
  ipv4,
  ipv4ToString,
  lwipOptionsSchema,
  manifest,
  type DhcpRepr,
  type LwipNetworkManager,
  type LwipNetworkManagerRoot,
} from '../src/index.js';
import { seeds } from '@ebbrt/testkit/net';

interface Node {
  nm: LwipNetworkManagerRoot;
  node: NodeContext;
  em: EventManagerRoot;
  link: Link;
}

function makeNodes(seed: number, options: Record<string, unknown>[], link: Partial<LinkProps>[] = []) {
  const sim = new Simulation({ seed });
  const fabric = new NetworkFabric(sim);
  const nodes: Node[] = options.map((o, i) => {
    const machine = sim.createMachine({ name: `n${i}`, cores: 1, memoryBytes: 32 * 1024 * 1024 });
    const node = new NodeContext({ id: i + 1, numCores: 1, target: 'native', idSpace: 2 });
    const ctx = (id: number) => ({ id, node, target: 'native' as const, machine, simulation: sim, log: () => {} });
    const em = emManifest.create(ctx(SystemEbbIds.EventManager), eventManagerOptionsSchema.parse({})) as EventManagerRoot;
    node.install(SystemEbbIds.EventManager, em);
    node.install(SystemEbbIds.Timer, timerManifest.create(ctx(SystemEbbIds.Timer), {}) as EbbRoot<Timer>);
    node.install(SystemEbbIds.MemoryAllocator, slqbManifest.create(ctx(SystemEbbIds.MemoryAllocator), slqbOptionsSchema.parse({})) as EbbRoot<unknown>);
    const nm = manifest.create(ctx(SystemEbbIds.NetworkManager), lwipOptionsSchema.parse(o)) as LwipNetworkManagerRoot;
    node.install(SystemEbbIds.NetworkManager, nm);
    const l = fabric.connect(nm.driver.device, { name: `link${i}`, latencyNs: 10_000, ...link[i] });
    return { nm, node, em, link: l };
  });
  const rep = (n: Node): LwipNetworkManager => {
    const core = n.node.core(cpu.current!.index);
    return (core.translation.get(SystemEbbIds.NetworkManager) ?? n.node.fault(SystemEbbIds.NetworkManager, core)) as LwipNetworkManager;
  };
  const run = <T>(n: Node, fn: (rep: LwipNetworkManager) => T | Promise<T>) => {
    const out: { done: boolean; value?: T; error?: unknown } = { done: false };
    n.em.post(0, async () => {
      try {
        out.value = await fn(rep(n));
      } catch (e) {
        out.error = e;
      }
      out.done = true;
    });
    return out;
  };
  return { sim, nodes, run };
}

interface Seen {
  type: number;
  xid: number;
  from: string;
  ciaddr: number;
  requestedIp: number | null;
  atNs: number;
}

interface ServerPolicy {
  /** NAK the first n REQUESTs. */
  nakFirst?: number;
  /** Before the real OFFER, send garbage and an OFFER with another xid. */
  junkFirst?: boolean;
  silent?: boolean;
}

/** A minimal DHCP server on port 67: offers 10.0.0.50, lease 3600 s, mask /24, router 10.0.0.1. */
function startServer(sim: Simulation, rep: LwipNetworkManager, policy: ServerPolicy = {}) {
  const seen: Seen[] = [];
  let naks = policy.nakFirst ?? 0;
  const reply = (sock: UdpSocket, req: DhcpRepr, type: DhcpMessageType, xid = req.transactionId): void => {
    const r: DhcpRepr = {
      ...req,
      op: 2,
      messageType: type,
      transactionId: xid,
      yourIp: type === DhcpMessageType.Nak ? 0 : ipv4('10.0.0.50'),
      subnetMask: type === DhcpMessageType.Nak ? null : ipv4('255.255.255.0'),
      routers: type === DhcpMessageType.Nak ? [] : [ipv4('10.0.0.1')],
      dnsServers: [],
      requestedIp: null,
      leaseTime: type === DhcpMessageType.Nak ? null : 3600,
      serverId: ipv4('10.0.0.1'),
      parameterRequestList: [],
      maxMessageSize: null,
    };
    const bytes = new Uint8Array(dhcpLength(r));
    emitDhcp(r, bytes, 0);
    // Renewal (ciaddr set): unicast to the client; otherwise broadcast (the client set the flag).
    const dst = req.clientIp !== 0 && type !== DhcpMessageType.Nak ? ipv4ToString(req.clientIp) : '255.255.255.255';
    sock.sendTo(dst, 68, IOBuf.wrap(bytes));
  };
  const sock: UdpSocket = rep.udpBind(67, (from, data) => {
    const flat = data.coalesce();
    data.releaseChain();
    const m = DhcpMessage.parse(flat.bytes, flat.offset, flat.length);
    if (!m.ok) return;
    const r = m.toRepr();
    if (!r.ok || r.value.op !== 1) return;
    const req = r.value;
    seen.push({ type: req.messageType, xid: req.transactionId, from: from.address, ciaddr: req.clientIp, requestedIp: req.requestedIp, atNs: sim.now() });
    if (policy.silent) return;
    if (req.messageType === DhcpMessageType.Discover) {
      if (policy.junkFirst) {
        sock.sendTo('255.255.255.255', 68, IOBuf.copyOf(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])));
        reply(sock, req, DhcpMessageType.Offer, (req.transactionId + 1) >>> 0);
        reply(sock, req, DhcpMessageType.Ack, (req.transactionId + 7) >>> 0);
      }
      reply(sock, req, DhcpMessageType.Offer);
    } else if (req.messageType === DhcpMessageType.Request) {
      if (naks > 0) {
        naks--;
        reply(sock, req, DhcpMessageType.Nak);
      } else {
        reply(sock, req, DhcpMessageType.Ack);
      }
    }
  });
  return { seen };
}

function setup(seed: number, policy: ServerPolicy = {}, clientLink: Partial<LinkProps> = {}, clientOptions: Record<string, unknown> = {}) {
  const t = makeNodes(seed, [{ address: '10.0.0.1/24' }, { address: 'dhcp', ...clientOptions }], [{}, clientLink]);
  const [server, client] = t.nodes as [Node, Node];
  let srv: { seen: Seen[] } | undefined;
  t.run(server, (rep) => {
    srv = startServer(t.sim, rep, policy);
  });
  const ready = t.run(client, async (rep) => {
    await rep.whenReady();
    return t.sim.now();
  });
  return { ...t, server, client, ready, seen: () => srv!.seen };
}

const S = 1e9;

describe('DHCP client', () => {
  it('starts unconfigured, runs DISCOVER/OFFER/REQUEST/ACK, applies the lease, then pings the server', async () => {
    const t = setup(1);
    const dhcp = t.client.nm.dhcp!;
    expect(t.client.nm.iface.config.address).toBe(0);
    expect(t.client.nm.ready).toBe(false);
    await t.sim.run({ untilNs: 1 * S });
    expect(t.ready.done).toBe(true);
    expect(t.ready.error).toBeUndefined();
    expect(dhcp.state).toBe('bound');
    const cfg = t.client.nm.iface.config;
    expect(ipv4ToString(cfg.address)).toBe('10.0.0.50');
    expect(ipv4ToString(cfg.netmask)).toBe('255.255.255.0');
    expect(cfg.gateway).toBe(ipv4('10.0.0.1'));
    expect(dhcp.lease!.leaseTimeS).toBe(3600);
    const seen = t.seen();
    expect(seen.map((s) => s.type)).toEqual([DhcpMessageType.Discover, DhcpMessageType.Request]);
    expect(seen.every((s) => s.from === '0.0.0.0')).toBe(true);
    expect(seen[0]!.xid).toBe(seen[1]!.xid);
    expect(seen[1]!.requestedIp).toBe(ipv4('10.0.0.50'));
    expect(dhcp.stats).toMatchObject({ discoversSent: 1, requestsSent: 1, offersReceived: 1, acksReceived: 1, leases: 1, retransmissions: 0 });
    const ping = t.run(t.client, (rep) => rep.ping('10.0.0.1', { count: 3 }));
    await t.sim.run({ untilNs: t.sim.now() + 1 * S });
    expect(ping.error).toBeUndefined();
    expect(ping.value).toHaveLength(3);
  });

  it('xids come from the seeded simulation: same seed, same xid; another seed, another xid', async () => {
    const xid = async (seed: number) => {
      const t = setup(seed);
      await t.sim.run({ untilNs: 1 * S });
      return t.seen()[0]!.xid;
    };
    expect(await xid(5)).toBe(await xid(5));
    expect(await xid(5)).not.toBe(await xid(6));
  });

  it('retransmits with backoff 4 s, 8 s, 16 s ... and gives up after dhcpMaxAttempts with an error', async () => {
    const t = setup(1, { silent: true }, {}, { dhcpMaxAttempts: 4 });
    await t.sim.run({ untilNs: 200 * S });
    const times = t.seen().map((s) => s.atNs);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((x, i) => Math.round((x - times[i]!) / S));
    expect(gaps).toEqual([4, 8, 16]);
    const dhcp = t.client.nm.dhcp!;
    expect(dhcp.state).toBe('failed');
    expect(dhcp.stats.failures).toBe(1);
    expect(dhcp.stats.retransmissions).toBe(3);
    expect(t.ready.done).toBe(true);
    expect(String(t.ready.error)).toMatch(/no DHCPOFFER after 4 DISCOVERs/);
  });

  it('gets a lease through 40% loss on the client link (over several seeds)', async () => {
    let retransmitted = 0;
    for (const seed of seeds(8)) {
      const t = setup(seed, {}, { loss: 0.4 }, { dhcpMaxAttempts: 10 });
      await t.sim.run({ untilNs: 600 * S });
      const dhcp = t.client.nm.dhcp!;
      expect(dhcp.state, `seed ${seed}`).toBe('bound');
      expect(ipv4ToString(t.client.nm.iface.config.address)).toBe('10.0.0.50');
      expect(t.ready.error).toBeUndefined();
      retransmitted += dhcp.stats.retransmissions;
    }
    expect(retransmitted).toBeGreaterThan(0);
  });

  it('restarts with a new DISCOVER after a NAK', async () => {
    const t = setup(2, { nakFirst: 1 });
    await t.sim.run({ untilNs: 1 * S });
    const dhcp = t.client.nm.dhcp!;
    expect(dhcp.state).toBe('bound');
    expect(dhcp.stats).toMatchObject({ naksReceived: 1, restarts: 1, discoversSent: 2, leases: 1 });
    const types = t.seen().map((s) => s.type);
    expect(types).toEqual([DhcpMessageType.Discover, DhcpMessageType.Request, DhcpMessageType.Discover, DhcpMessageType.Request]);
    expect(t.seen()[2]!.xid).not.toBe(t.seen()[0]!.xid);
  });

  it('renews at T1 (lease/2) with a unicast REQUEST and extends the lease, in virtual time', async () => {
    const t = setup(3);
    await t.sim.run({ untilNs: 1 * S });
    const dhcp = t.client.nm.dhcp!;
    const first = dhcp.lease!;
    expect(first.t1Ns - first.expiresNs + 3600 * S).toBeCloseTo(1800 * S, -3);
    await t.sim.run({ untilNs: first.t1Ns - 1 });
    expect(t.seen()).toHaveLength(2);
    await t.sim.run({ untilNs: first.t1Ns + 1 * S });
    const renew = t.seen()[2]!;
    expect(renew.type).toBe(DhcpMessageType.Request);
    expect(renew.from).toBe('10.0.0.50'); // unicast from our address
    expect(renew.ciaddr).toBe(ipv4('10.0.0.50'));
    expect(renew.requestedIp).toBeNull();
    expect(renew.atNs).toBeGreaterThanOrEqual(first.t1Ns);
    expect(dhcp.stats.renewals).toBe(1);
    expect(dhcp.state).toBe('bound');
    expect(dhcp.lease!.expiresNs).toBeGreaterThan(first.expiresNs + 1700 * S);
    expect(ipv4ToString(t.client.nm.iface.config.address)).toBe('10.0.0.50');
    // And again at the next T1.
    await t.sim.run({ untilNs: dhcp.lease!.t1Ns + 1 * S });
    expect(dhcp.stats.renewals).toBe(2);
  });

  it('ignores garbage and replies with a mismatched xid, counting them', async () => {
    const t = setup(4, { junkFirst: true });
    await t.sim.run({ untilNs: 1 * S });
    const dhcp = t.client.nm.dhcp!;
    expect(dhcp.state).toBe('bound');
    expect(dhcp.stats.malformed).toBe(1);
    expect(dhcp.stats.ignored).toBe(2);
    expect(dhcp.stats.offersReceived).toBe(1);
    expect(dhcp.stats.leases).toBe(1);
  });
});

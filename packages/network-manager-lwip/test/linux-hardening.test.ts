/**
 * Issue 11 items 1 and 4 against the Linux kernel: frames crafted with scapy in the namespace
 * behind the TAP (see linux-netns.ts), and Linux's own ping and UDP sockets. Needs root, socat and
 * Debian's python3-scapy: skipped with the reason printed, but FAILS under CI (CI installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { macToString } from '../src/index.js';
import { LINUX_ADDRESS, NODE_ADDRESS, SCAPY_PYTHON, parsePing, scapyPrerequisites, startLinuxNetns, type LinuxNetns } from '@ebbrt/testkit/linux-netns';

const pre = scapyPrerequisites();
const reason = pre.ok ? '' : pre.reason;
if (!pre.ok) console.log(`linux-hardening: skipped: ${reason}`);

if (!pre.ok && process.env.CI) {
  describe('Linux hardening interop', () => {
    it('has its prerequisites (CI installs them in .ci/run)', () => {
      expect.fail(`Linux hardening tests cannot run under CI: ${reason}`);
    });
  });
}

// Each script gets argv: tap, node MAC, node address, then its own arguments; prints one JSON line.
const PRELUDE = `
import sys, json, time
from scapy.all import Ether, IP, ICMP, TCP, UDP, Raw, sendp, AsyncSniffer, conf
conf.verb = 0
tap, node_mac, node = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
`;

/** Incomplete trains: a first fragment (MF, offset 0) of N datagrams per source, never the rest. */
const TRAINS = `${PRELUDE}
srcs, per = args[0].split(','), int(args[1])
frames, i = [], 0
for s in srcs:
    for k in range(per):
        i += 1
        frames.append(Ether(dst=node_mac)/IP(src=s, dst=node, id=0x4000 + i, flags='MF', frag=0, proto=1)/Raw(b'x' * 1480))
sendp(frames, iface=tap)
print(json.dumps({'sent': len(frames)}))
`;

/** Sends crafted frames (built by \`args[0]\`, a Python expression list), sniffs what the node sends back for 1.5 s. */
const PROBE = `${PRELUDE}
sniffer = AsyncSniffer(iface=tap, lfilter=lambda p: IP in p and p[IP].src == node)
sniffer.start()
time.sleep(0.3)
frames = eval(args[0])
t0 = time.time()
sendp(frames, iface=tap)
elapsed = time.time() - t0
time.sleep(1.5)
got = sniffer.stop()
out = []
for p in got:
    d = {'dst': p[IP].dst, 'proto': p[IP].proto}
    if ICMP in p: d['icmp'] = [p[ICMP].type, p[ICMP].code]
    if TCP in p: d['tcp'] = str(p[TCP].flags)
    out.append(d)
print(json.dumps({'sent': len(frames), 'elapsed': elapsed, 'got': out}))
`;

/** A connected Linux UDP socket to a closed port on the node: the kernel reports ICMP port unreachable as ECONNREFUSED. */
const UDP_REFUSED = `
import socket, sys, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
res = 'timeout'
try:
    s.send(b'hello')
    s.recv(100)
    res = 'data'
except ConnectionRefusedError:
    res = 'refused'
except socket.timeout:
    res = 'timeout'
print(json.dumps({'result': res}))
`;

describe.skipIf(!pre.ok)(`Linux hardening interop (scapy through the TAP)${pre.ok ? '' : ` — skipped: ${reason}`}`, () => {
  let env: LinuxNetns;
  let mac: string;

  beforeAll(async () => {
    env = await startLinuxNetns({
      maxRunMs: 90_000,
      // A gateway, so a reply to an off-subnet (multicast/loopback) source would have a route
      // and show on the TAP; a short reassembly timeout and a small ICMP error bucket, so the
      // test sees both within seconds.
      // (The per-peer limit is opened up: this checks the global bucket; simulation checks both.)
      options: { gateway: LINUX_ADDRESS, ipReassemblyTimeoutUs: 2_000_000, icmpErrorRatePerSec: 10, icmpErrorBurst: 5, icmpErrorPeerIntervalUs: 1, icmpErrorPeerBurst: 1_000_000 },
    });
    mac = macToString(env.nm.iface.config.mac);
    // A listener, so a SYN from a forbidden source would get a SYN-ACK.
    await env.onNode(0, (rep) => rep.tcpListen(8080, () => ({ receive: (_c, d) => d.releaseChain() })));
  }, 20_000);

  afterAll(async () => {
    await env?.close();
  }, 15_000);

  const scapy = async (script: string, args: string[]): Promise<Record<string, unknown>> => {
    const r = await env.inNs(SCAPY_PYTHON, ['-c', script, env.tap, mac, NODE_ADDRESS, ...args], { timeoutMs: 30_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };
  const ping3000 = async (): Promise<ReturnType<typeof parsePing>> => {
    const r = await env.inNs('ping', ['-c', '1', '-s', '3000', '-W', '3', NODE_ADDRESS], { timeoutMs: 10_000 });
    return parsePing(r.stdout);
  };

  it('ping -s 3000 works (fragments both ways)', async () => {
    expect(await ping3000()).toMatchObject({ transmitted: 1, received: 1 });
    expect(env.nm.iface.counters.ipFragmentsSent).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('20 incomplete fragment trains from the pinging host, then ping -s 3000 is answered at once', async () => {
    expect(await scapy(TRAINS, [LINUX_ADDRESS, '20'])).toMatchObject({ sent: 20 });
    // Before the fix the 16-entry table stayed full for good and this ping went unanswered.
    expect(await ping3000()).toMatchObject({ transmitted: 1, received: 1 });
    expect(env.nm.iface.counters.ipReassemblyEvicted).toBeGreaterThanOrEqual(16);
  }, 40_000);

  it('20 incomplete trains from 20 spoofed sources: the expiry timer frees the table and ping -s 3000 is answered', async () => {
    const srcs = Array.from({ length: 20 }, (_, i) => `10.0.3.${100 + i}`).join(',');
    const t0 = env.nm.iface.counters.ipReassemblyTimeouts;
    expect(await scapy(TRAINS, [srcs, '1'])).toMatchObject({ sent: 20 });
    await new Promise((r) => setTimeout(r, 3_000)); // the node's reassembly timeout is 2 s here
    expect(env.nm.iface.counters.ipReassemblyTimeouts - t0).toBeGreaterThanOrEqual(16);
    expect(env.nm.iface.reassemblyPending).toBe(0);
    expect(await ping3000()).toMatchObject({ transmitted: 1, received: 1 });
  }, 40_000);

  it('a ping and a SYN from broadcast, subnet-broadcast, multicast and loopback sources get no answer; a unicast control does', async () => {
    const c = env.nm.iface.counters;
    const [b0, m0, l0] = [c.ipSourceBroadcast, c.ipSourceMulticast, c.ipSourceLoopback];
    const bad = ['255.255.255.255', '10.0.3.255', '224.0.0.1', '127.0.0.1'];
    const frames = bad
      .flatMap((s) => [
        `Ether(dst=node_mac)/IP(src='${s}', dst=node)/ICMP(id=77, seq=1)`,
        `Ether(dst=node_mac)/IP(src='${s}', dst=node)/TCP(sport=4444, dport=8080, flags='S', seq=1000)`,
      ])
      .join(', ');
    const r = (await scapy(PROBE, [`[${frames}]`])) as { sent: number; got: Array<{ dst: string; icmp?: number[]; tcp?: string }> };
    expect(r.sent).toBe(8);
    expect(r.got).toEqual([]); // before the fix: 4 echo replies and SYN-ACKs, two of them to the whole segment
    expect(c.ipSourceBroadcast - b0).toBe(4);
    expect(c.ipSourceMulticast - m0).toBe(2);
    expect(c.ipSourceLoopback - l0).toBe(2);
    // The sniffer and the node do work: the same probes from Linux's own address are answered.
    const ok = (await scapy(PROBE, [
      `[Ether(dst=node_mac)/IP(src='${LINUX_ADDRESS}', dst=node)/ICMP(id=78, seq=1), Ether(dst=node_mac)/IP(src='${LINUX_ADDRESS}', dst=node)/TCP(sport=4445, dport=8080, flags='S', seq=1000)]`,
    ])) as { got: Array<{ icmp?: number[]; tcp?: string }> };
    expect(ok.got.some((p) => p.icmp?.[0] === 0)).toBe(true);
    expect(ok.got.some((p) => p.tcp === 'SA')).toBe(true);
  }, 40_000);

  it('a ping to the subnet broadcast or 255.255.255.255 is ignored (no smurf amplifier), and counted', async () => {
    const c = env.nm.iface.counters;
    const i0 = c.icmpEchoBroadcastIgnored;
    const r = (await scapy(PROBE, [
      `[Ether(dst='ff:ff:ff:ff:ff:ff')/IP(src='${LINUX_ADDRESS}', dst='10.0.3.255')/ICMP(id=90, seq=1), Ether(dst='ff:ff:ff:ff:ff:ff')/IP(src='${LINUX_ADDRESS}', dst='255.255.255.255')/ICMP(id=91, seq=1)]`,
    ])) as { got: unknown[] };
    expect(r.got).toEqual([]); // before: two echo replies
    expect(c.icmpEchoBroadcastIgnored - i0).toBe(2);
  }, 20_000);

  it('UDP to a closed port: the Linux socket gets ECONNREFUSED (ICMP port unreachable)', async () => {
    await new Promise((r) => setTimeout(r, 600)); // let the small bucket refill after the probes above
    const r = await env.inNs(SCAPY_PYTHON, ['-c', UDP_REFUSED, NODE_ADDRESS, '9999'], { timeoutMs: 10_000 });
    expect(JSON.parse(r.stdout.trim()), r.stderr).toEqual({ result: 'refused' }); // before the fix: 'timeout'
  }, 20_000);

  it('port unreachables are rate-limited (burst 5, 10/s here), and none answer a broadcast datagram', async () => {
    await new Promise((r) => setTimeout(r, 600)); // refill the bucket (burst 5 at 10/s)
    const c = env.nm.iface.counters;
    const [sent0, limited0, suppressed0] = [c.icmpUnreachableSent, c.icmpErrorsRateLimited, c.icmpErrorsSuppressed];
    const r = (await scapy(PROBE, [
      `[Ether(dst=node_mac)/IP(src='${LINUX_ADDRESS}', dst=node)/UDP(sport=5000, dport=20000 + i)/Raw(b'x') for i in range(200)]`,
    ])) as { sent: number; elapsed: number; got: Array<{ icmp?: number[] }> };
    const unreach = r.got.filter((p) => p.icmp?.[0] === 3 && p.icmp[1] === 3).length;
    expect(unreach).toBeGreaterThanOrEqual(5);
    // The burst, plus what 10/s refills while the 200 frames arrive (their sending time, with slack).
    expect(unreach).toBeLessThanOrEqual(5 + Math.ceil(10 * (r.elapsed + 0.5)));
    expect(c.icmpUnreachableSent - sent0).toBe(unreach);
    expect(c.icmpErrorsRateLimited - limited0).toBe(200 - unreach);
    await new Promise((r) => setTimeout(r, 600));
    const b = (await scapy(PROBE, [
      `[Ether(dst='ff:ff:ff:ff:ff:ff')/IP(src='${LINUX_ADDRESS}', dst='10.0.3.255')/UDP(sport=5000, dport=9999), Ether(dst='ff:ff:ff:ff:ff:ff')/IP(src='${LINUX_ADDRESS}', dst='255.255.255.255')/UDP(sport=5000, dport=9999), Ether(dst='ff:ff:ff:ff:ff:ff')/IP(src='${LINUX_ADDRESS}', dst=node)/UDP(sport=5000, dport=9999)]`,
    ])) as { got: unknown[] };
    expect(b.got).toEqual([]);
    expect(c.icmpErrorsSuppressed - suppressed0).toBe(3);
  }, 40_000);
});

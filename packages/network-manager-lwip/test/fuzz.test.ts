// Arbitrary and corrupted bytes never throw out of any parser: a parser returns a view or a
// reason, and toRepr on an accepted view returns a repr or a reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArpPacket,
  DhcpMessage,
  EthernetFrame,
  Icmpv4Packet,
  Ipv4Packet,
  TcpSegment,
  UdpPacket,
  emitDhcp,
  emitIpv4,
  emitTcp,
  emptyTcpOptions,
  readTcpOptions,
  tcpHeaderLength,
} from '../src/index.js';
import { dhcpRepr, ipv4Repr, tcpRepr } from './arbitraries.js';
import { u32 } from './helpers.js';

function parseAll(b: Uint8Array, off: number, len: number): void {
  const e = EthernetFrame.parse(b, off, len);
  if (e.ok) e.toRepr();
  const a = ArpPacket.parse(b, off, len);
  if (a.ok) a.toRepr();
  for (const verify of [true, false]) {
    const ip = Ipv4Packet.parse(b, off, len, verify);
    if (ip.ok) ip.toRepr();
    const ic = Icmpv4Packet.parse(b, off, len, verify);
    if (ic.ok) ic.toRepr();
    const u = UdpPacket.parse(b, off, len, 1, 2, verify);
    if (u.ok) u.toRepr();
    const t = TcpSegment.parse(b, off, len, 1, 2, verify);
    if (t.ok) t.toRepr();
  }
  const d = DhcpMessage.parse(b, off, len);
  if (d.ok) {
    d.toRepr();
    void d.messageType;
  }
  readTcpOptions(b, Math.max(0, Math.min(off, b.length)), Math.max(0, Math.min(len, b.length - Math.max(0, off))), emptyTcpOptions());
}

describe('parsers never throw', () => {
  it('on random bytes at random (even invalid) offsets and lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: -4, max: 410 }), fc.integer({ min: -4, max: 410 }), (b, off, len) => {
        expect(() => parseAll(b, off, len)).not.toThrow();
        expect(() => parseAll(b, 0, b.length)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('on non-integer offsets and lengths', () => {
    const b = new Uint8Array(64);
    for (const [o, l] of [[0.5, 20], [0, 20.5], [NaN, 20], [0, Infinity], [Infinity, 0]]) {
      expect(() => parseAll(b, o, l)).not.toThrow();
      expect(EthernetFrame.parse(b, o, l).ok).toBe(false);
      expect(Ipv4Packet.parse(b, o, l).ok).toBe(false);
    }
  });

  it('on random bytes behind a valid IPv4 header (so TCP/UDP/ICMP parsers see hostile payloads)', () => {
    fc.assert(
      fc.property(ipv4Repr, fc.uint8Array({ maxLength: 200 }), (repr, junk) => {
        const r = { ...repr, payloadLength: junk.length };
        const hl = 20 + r.options.length;
        const b = new Uint8Array(hl + junk.length);
        emitIpv4(r, b, 0);
        b.set(junk, hl);
        const ip = Ipv4Packet.parse(b);
        if (!ip.ok) throw new Error(ip.reason);
        expect(() => {
          TcpSegment.parse(b, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst, false);
          const t = TcpSegment.parse(b, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst, false);
          if (t.ok) t.toRepr();
          const u = UdpPacket.parse(b, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst, false);
          if (u.ok) u.toRepr();
          const i = Icmpv4Packet.parse(b, ip.payloadOffset, ip.payloadLength, false);
          if (i.ok) i.toRepr();
        }).not.toThrow();
      }),
    );
  });

  it('on single-bit flips of valid TCP segments and DHCP messages', () => {
    fc.assert(
      fc.property(tcpRepr, u32, u32, fc.nat(), (repr, src, dst, bit) => {
        const len = tcpHeaderLength(repr) + repr.payloadLength;
        const b = new Uint8Array(len);
        emitTcp(repr, b, 0, src, dst);
        const i = bit % (len * 8);
        b[i >> 3] ^= 1 << (i & 7);
        const t = TcpSegment.parse(b, 0, len, src, dst, false); // structure only
        if (t.ok) expect(() => t.toRepr()).not.toThrow();
        expect(TcpSegment.parse(b, 0, len, src, dst, true).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(dhcpRepr, fc.nat(), (repr, bit) => {
        const b = new Uint8Array(600);
        const n = emitDhcp(repr, b, 0);
        const i = bit % (n * 8);
        b[i >> 3] ^= 1 << (i & 7);
        const d = DhcpMessage.parse(b, 0, n);
        if (d.ok) expect(() => d.toRepr()).not.toThrow();
      }),
    );
  });
});

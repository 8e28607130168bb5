import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitIcmpv4, emitIpv4, Icmpv4Packet, Ipv4Packet, ipv4, type Icmpv4Repr, type Ipv4Repr } from '../src/index.js';
import { icmpRepr, ipv4Repr } from './arbitraries.js';
import { hex, naiveChecksum, toHex } from './helpers.js';

const baseIp: Ipv4Repr = {
  src: ipv4('10.0.2.15'),
  dst: ipv4('10.0.2.2'),
  protocol: 17,
  ttl: 64,
  payloadLength: 8,
  identification: 0x1234,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  dscp: 0,
  ecn: 0,
  options: new Uint8Array(0),
};

describe('IPv4 (RFC 791)', () => {
  it('emit then parse gives the repr back and the checksum verifies (also against a naive reference)', () => {
    fc.assert(
      fc.property(ipv4Repr, fc.nat(6), fc.nat(10), (repr, off, pad) => {
        const hl = 20 + repr.options.length;
        const b = new Uint8Array(off + hl + repr.payloadLength + pad);
        expect(emitIpv4(repr, b, off)).toBe(hl);
        expect(naiveChecksum(b.subarray(off, off + hl))).toBe(0);
        const p = Ipv4Packet.parse(b, off);
        if (!p.ok) throw new Error(p.reason);
        expect(p.verifyChecksum()).toBe(true);
        expect(p.length).toBe(hl + repr.payloadLength); // trailing padding excluded
        const got = p.toRepr();
        expect({ ...got, options: toHex(got.options) }).toEqual({ ...repr, options: toHex(repr.options) });
        const again = new Uint8Array(hl);
        emitIpv4(got, again, 0);
        expect(toHex(again)).toBe(toHex(b.subarray(off, off + hl)));
      }),
    );
  });

  it('every single-bit flip in the header is rejected', () => {
    fc.assert(
      fc.property(ipv4Repr, fc.nat(), (repr, bit) => {
        const hl = 20 + repr.options.length;
        const b = new Uint8Array(hl + repr.payloadLength);
        emitIpv4(repr, b, 0);
        const i = bit % (hl * 8);
        b[i >> 3] ^= 1 << (i & 7);
        const r = Ipv4Packet.parse(b);
        expect(r.ok).toBe(false);
      }),
    );
  });

  it('names each malformation', () => {
    const b = new Uint8Array(28);
    emitIpv4(baseIp, b, 0);
    const reason = (mut: (x: Uint8Array) => void, len = 28, verify = true) => {
      const c = b.slice();
      mut(c);
      const r = Ipv4Packet.parse(c, 0, len, verify);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(() => {}, 19)).toBe('truncated');
    expect(reason((c) => (c[0] = 0x65))).toBe('bad-version');
    expect(reason((c) => (c[0] = 0x44))).toBe('bad-header-length');
    expect(reason((c) => (c[0] = 0x4f))).toBe('truncated'); // 60-byte header in 28 bytes
    expect(reason((c) => (c[3] = 19), 28, false)).toBe('bad-total-length');
    expect(reason((c) => (c[3] = 29), 28, false)).toBe('truncated');
    expect(reason((c) => (c[8] = 1))).toBe('bad-checksum');
    expect(reason((c) => (c[8] = 1), 28, false)).toBe('ok');
  });

  it('exposes fragment fields and setters keep the checksum right after fillChecksum', () => {
    const b = new Uint8Array(28);
    emitIpv4({ ...baseIp, dontFragment: false, moreFragments: true, fragmentOffset: 1480 }, b, 0);
    const p = Ipv4Packet.parse(b);
    if (!p.ok) throw new Error(p.reason);
    expect(p.isFragment).toBe(true);
    expect(p.moreFragments).toBe(true);
    expect(p.fragmentOffset).toBe(1480);
    p.ttl = p.ttl - 1;
    expect(p.verifyChecksum()).toBe(false);
    p.fillChecksum();
    expect(p.verifyChecksum()).toBe(true);
  });

  it('emit names the bad field', () => {
    const b = new Uint8Array(100);
    expect(() => emitIpv4({ ...baseIp, ttl: 256 }, b, 0)).toThrow(/ttl/);
    expect(() => emitIpv4({ ...baseIp, fragmentOffset: 7 }, b, 0)).toThrow(/fragmentOffset/);
    expect(() => emitIpv4({ ...baseIp, options: new Uint8Array(3) }, b, 0)).toThrow(/options/);
    expect(() => emitIpv4({ ...baseIp, options: new Uint8Array(44) }, b, 0)).toThrow(/options/);
    expect(() => emitIpv4({ ...baseIp, payloadLength: 65516 }, b, 0)).toThrow(/payloadLength/);
    expect(() => emitIpv4({ ...baseIp, src: 2 ** 32 }, b, 0)).toThrow(/src/);
    expect(() => emitIpv4(baseIp, b, 90)).toThrow(/offset/);
  });
});

describe('ICMPv4 (RFC 792)', () => {
  it('emit then parse gives the repr back; parse then emit reproduces the bytes', () => {
    fc.assert(
      fc.property(icmpRepr, (repr) => {
        const b = new Uint8Array(8 + repr.data.length);
        expect(emitIcmpv4(repr, b, 0)).toBe(b.length);
        expect(naiveChecksum(b)).toBe(0);
        const p = Icmpv4Packet.parse(b);
        if (!p.ok) throw new Error(p.reason);
        const r = p.toRepr();
        if (!r.ok) throw new Error(r.reason);
        expect({ ...r.value, data: toHex(r.value.data) }).toEqual({ ...repr, data: toHex(repr.data) });
        const again = new Uint8Array(b.length);
        emitIcmpv4(r.value, again, 0);
        expect(toHex(again)).toBe(toHex(b));
      }),
    );
  });

  it('known answer: echo request (id 0x1234, seq 1, 16 data bytes) and its reply built in place', () => {
    const pkt = hex('0800 2d0a 1234 0001 101112131415161718191a1b1c1d1e1f');
    expect(naiveChecksum(pkt)).toBe(0);
    const p = Icmpv4Packet.parse(pkt);
    if (!p.ok) throw new Error(p.reason);
    const r = p.toRepr();
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.kind).toBe('echo-request');
    if (r.value.kind !== 'echo-request') return;
    expect([r.value.identifier, r.value.sequence, r.value.data.length]).toEqual([0x1234, 1, 16]);
    // Reply in the same buffer: the data aliases the destination, which emit must tolerate.
    emitIcmpv4({ kind: 'echo-reply', identifier: 0x1234, sequence: 1, data: r.value.data }, pkt, 0);
    expect(toHex(pkt)).toBe('0000350a12340001101112131415161718191a1b1c1d1e1f');
    expect(naiveChecksum(pkt)).toBe(0);
  });

  it('detects any single-bit flip; names malformations', () => {
    fc.assert(
      fc.property(icmpRepr, fc.nat(), (repr, bit) => {
        const b = new Uint8Array(8 + repr.data.length);
        emitIcmpv4(repr, b, 0);
        const i = bit % (b.length * 8);
        b[i >> 3] ^= 1 << (i & 7);
        expect(Icmpv4Packet.parse(b)).toEqual({ ok: false, reason: 'bad-checksum' });
      }),
    );
    expect(Icmpv4Packet.parse(new Uint8Array(7))).toEqual({ ok: false, reason: 'truncated' });
    const odd = new Uint8Array(8);
    odd[0] = 13; // timestamp request: not supported at repr level
    odd[2] = 0xf2;
    odd[3] = 0xff;
    const p = Icmpv4Packet.parse(odd);
    if (!p.ok) throw new Error(p.reason);
    expect(p.toRepr()).toEqual({ ok: false, reason: 'unsupported-type' });
  });

  it('emit names the bad field', () => {
    const b = new Uint8Array(100);
    const bad: Icmpv4Repr = { kind: 'dest-unreachable', code: 3, nextHopMtu: 1500, data: new Uint8Array(0) };
    expect(() => emitIcmpv4(bad, b, 0)).toThrow(/nextHopMtu/);
    expect(() => emitIcmpv4({ kind: 'echo-request', identifier: 70000, sequence: 0, data: new Uint8Array(0) }, b, 0)).toThrow(/identifier/);
    expect(() => emitIcmpv4({ kind: 'echo-request', identifier: 0, sequence: 0, data: new Uint8Array(100) }, b, 0)).toThrow(/offset/);
  });
});

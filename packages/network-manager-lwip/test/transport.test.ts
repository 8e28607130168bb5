import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emitTcp,
  emitTcpOptions,
  emitUdp,
  emptyTcpOptions,
  EthernetFrame,
  EtherType,
  IpProtocol,
  Ipv4Packet,
  ipv4,
  mac,
  readTcpOptions,
  TcpFlags,
  TcpSegment,
  tcpHeaderLength,
  UdpPacket,
  type TcpRepr,
} from '../src/index.js';
import { tcpOptions, tcpRepr, udpRepr } from './arbitraries.js';
import { hex, naiveChecksum, pseudoHeader, toHex, u32 } from './helpers.js';

// A Linux 6.x SYN (192.168.0.2:54321 -> 192.168.0.1:80), options MSS 1460, SACK-permitted,
// timestamps, NOP, window scale 7: the layout every Linux connect() produces.
const LINUX_SYN = hex(
  '525400123456 0242ac110002 0800' +
    '4500 003c 1c46 4000 4006 9d22 c0a80002 c0a80001' +
    'd431 0050 3a2b1c0d 00000000 a002 faf0 523b 0000' +
    '020405b4 0402080a 009c4e2a 00000000 01030307',
);

describe('TCP (RFC 9293) known answer: a Linux SYN', () => {
  it('parses, its checksums match a naive reference, and emit reproduces the bytes', () => {
    const eth = EthernetFrame.parse(LINUX_SYN);
    if (!eth.ok) throw new Error(eth.reason);
    expect(eth.src).toBe(mac('02:42:ac:11:00:02'));
    expect(eth.ethertype).toBe(EtherType.Ipv4);
    const ip = Ipv4Packet.parse(LINUX_SYN, eth.payloadOffset, eth.payloadLength);
    if (!ip.ok) throw new Error(ip.reason);
    expect(naiveChecksum(LINUX_SYN.subarray(14, 34))).toBe(0);
    expect([ip.src, ip.dst, ip.protocol, ip.ttl, ip.dontFragment, ip.identification]).toEqual([
      ipv4('192.168.0.2'),
      ipv4('192.168.0.1'),
      IpProtocol.Tcp,
      64,
      true,
      0x1c46,
    ]);
    const tcpBytes = LINUX_SYN.subarray(34);
    expect(naiveChecksum([...pseudoHeader(ip.src, ip.dst, 6, tcpBytes.length), ...tcpBytes])).toBe(0);
    const seg = TcpSegment.parse(LINUX_SYN, ip.payloadOffset, ip.payloadLength, ip.src, ip.dst);
    if (!seg.ok) throw new Error(seg.reason);
    expect([seg.srcPort, seg.dstPort, seg.seq, seg.ack, seg.syn, seg.ackFlag, seg.window, seg.headerLength, seg.payloadLength, seg.segmentLength]).toEqual([
      54321, 80, 0x3a2b1c0d, 0, true, false, 64240, 40, 0, 1,
    ]);
    const r = seg.toRepr();
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.options).toEqual({
      mss: 1460,
      windowScale: 7,
      sackPermitted: true,
      hasTimestamp: true,
      tsVal: 0x009c4e2a,
      tsEcr: 0,
      sackBlocks: [],
    });
    const out = new Uint8Array(LINUX_SYN.length);
    out.set(LINUX_SYN.subarray(0, 34));
    expect(emitTcp(r.value, out, 34, ip.src, ip.dst)).toBe(40);
    expect(toHex(out)).toBe(toHex(LINUX_SYN));
  });
});

describe('TCP segments', () => {
  it('emit then parse gives the repr back; checksum verifies; parse then emit reproduces bytes', () => {
    fc.assert(
      fc.property(tcpRepr, u32, u32, fc.nat(7), (repr, src, dst, off) => {
        const hl = tcpHeaderLength(repr);
        const len = hl + repr.payloadLength;
        const b = new Uint8Array(off + len);
        for (let i = 0; i < repr.payloadLength; i++) b[off + hl + i] = (i * 31 + 7) & 0xff;
        expect(emitTcp(repr, b, off, src, dst)).toBe(hl);
        const seg = b.subarray(off);
        expect(naiveChecksum([...pseudoHeader(src, dst, 6, len), ...seg])).toBe(0);
        const p = TcpSegment.parse(b, off, len, src, dst);
        if (!p.ok) throw new Error(p.reason);
        const r = p.toRepr();
        if (!r.ok) throw new Error(r.reason);
        expect(r.value).toEqual(repr);
        const again = b.slice();
        again.fill(0, off, off + hl);
        emitTcp(r.value, again, off, src, dst);
        expect(toHex(again)).toBe(toHex(b));
      }),
    );
  });

  it('any single-bit flip of the segment is caught by the checksum', () => {
    fc.assert(
      fc.property(tcpRepr, u32, u32, fc.nat(), (repr, src, dst, bit) => {
        const len = tcpHeaderLength(repr) + repr.payloadLength;
        const b = new Uint8Array(len);
        emitTcp(repr, b, 0, src, dst);
        const i = bit % (len * 8);
        b[i >> 3] ^= 1 << (i & 7);
        const r = TcpSegment.parse(b, 0, len, src, dst);
        expect(r.ok).toBe(false);
        // ...and a wrong pseudo-header (wrong address) is caught too.
        b[i >> 3] ^= 1 << (i & 7);
        expect(TcpSegment.parse(b, 0, len, src ^ 1, dst).ok).toBe(false);
      }),
    );
  });

  it('names malformations', () => {
    const b = new Uint8Array(20);
    const repr: TcpRepr = { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TcpFlags.ACK, window: 5, urgent: 0, options: emptyTcpOptions(), payloadLength: 0 };
    emitTcp(repr, b, 0, 1, 2);
    expect(TcpSegment.parse(b, 0, 19, 1, 2)).toEqual({ ok: false, reason: 'truncated' });
    const c = b.slice();
    c[12] = 0x40;
    expect(TcpSegment.parse(c, 0, 20, 1, 2, false)).toEqual({ ok: false, reason: 'bad-data-offset' });
    c[12] = 0x60;
    expect(TcpSegment.parse(c, 0, 20, 1, 2, false)).toEqual({ ok: false, reason: 'bad-data-offset' });
    expect(TcpSegment.parse(b, 0, 20, 1, 3)).toEqual({ ok: false, reason: 'bad-checksum' });
    expect(() => emitTcp({ ...repr, seq: 2 ** 32 }, b, 0, 1, 2)).toThrow(/seq/);
    expect(() => emitTcp({ ...repr, options: { ...emptyTcpOptions(), windowScale: 15 } }, new Uint8Array(40), 0, 1, 2)).toThrow(/windowScale/);
    expect(() => emitTcp({ ...repr, payloadLength: 1 }, b, 0, 1, 2)).toThrow(/offset/);
  });
});

describe('TCP options (RFC 9293, 7323, 2018)', () => {
  it('round-trip through emit/read', () => {
    fc.assert(
      fc.property(tcpOptions, (o) => {
        const b = new Uint8Array(40);
        const n = emitTcpOptions(o, b, 0);
        expect(n % 4).toBe(0);
        const out = emptyTcpOptions();
        expect(readTcpOptions(b, 0, n, out)).toBeNull();
        expect(out).toEqual(o);
      }),
    );
  });

  it('skips unknown options, stops at EOL, rejects bad lengths', () => {
    const out = emptyTcpOptions();
    // unknown kind 30 (MPTCP) len 4, NOP, MSS 536, EOL, then garbage that must be ignored
    expect(readTcpOptions(hex('1e04abcd 01 020402 18 00 ff ff ff'), 0, 13, out)).toBeNull();
    expect(out.mss).toBe(536);
    const bad = (h: string) => readTcpOptions(hex(h), 0, hex(h).length, emptyTcpOptions());
    expect(bad('0203 0000')).toEqual({ ok: false, reason: 'bad-option-length' }); // MSS len 3
    expect(bad('1e01 0000')).toEqual({ ok: false, reason: 'bad-option-length' }); // len < 2
    expect(bad('1e08 0000')).toEqual({ ok: false, reason: 'bad-option-length' }); // runs past the end
    expect(bad('0101 0102')).toEqual({ ok: false, reason: 'bad-option-length' }); // kind with no length byte
    expect(bad('0506 00000000')).toEqual({ ok: false, reason: 'bad-option-length' }); // SACK block not 8 bytes
    expect(bad('080a 0000 0000 0000 0000')).toBeNull();
  });

  it('reading options reuses the caller struct', () => {
    const out = emptyTcpOptions();
    const blocks = out.sackBlocks;
    readTcpOptions(hex('0101050a 00000001 00000002'), 0, 12, out);
    expect(out.sackBlocks).toEqual([1, 2]);
    readTcpOptions(hex('01010101'), 0, 4, out);
    expect(out.sackBlocks).toBe(blocks);
    expect(out.sackBlocks).toEqual([]);
  });
});

describe('UDP (RFC 768)', () => {
  it('emit then parse gives the repr back; checksum verifies against a naive reference', () => {
    fc.assert(
      fc.property(udpRepr, u32, u32, fc.uint8Array({ maxLength: 16 }), (repr, src, dst, trailer) => {
        const len = 8 + repr.payloadLength;
        const b = new Uint8Array(len + trailer.length);
        for (let i = 0; i < repr.payloadLength; i++) b[8 + i] = (i * 13) & 0xff;
        b.set(trailer, len); // bytes beyond the UDP length (e.g. link padding) are ignored
        expect(emitUdp(repr, b, 0, src, dst)).toBe(8);
        expect(naiveChecksum([...pseudoHeader(src, dst, 17, len), ...b.subarray(0, len)])).toBe(0);
        expect(b[6] | b[7]).not.toBe(0); // 0 is reserved for "no checksum"
        const p = UdpPacket.parse(b, 0, b.length, src, dst);
        if (!p.ok) throw new Error(p.reason);
        expect(p.toRepr()).toEqual(repr);
        const again = b.slice();
        again.fill(0, 0, 8);
        emitUdp(p.toRepr(), again, 0, src, dst);
        expect(toHex(again)).toBe(toHex(b));
      }),
    );
  });

  it('a computed checksum of zero is sent as 0xffff and still verifies', () => {
    // Find a payload whose checksum computes to 0 by choosing its last word.
    const src = ipv4('10.0.0.1');
    const dst = ipv4('10.0.0.2');
    const b = new Uint8Array(10);
    emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 2 }, b, 0, src, dst);
    const c = (b[6] << 8) | b[7];
    // Adding c into the payload word makes the sum 0xffff, i.e. checksum 0.
    b[8] = c >> 8;
    b[9] = c & 0xff;
    emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 2 }, b, 0, src, dst);
    expect((b[6] << 8) | b[7]).toBe(0xffff);
    expect(UdpPacket.parse(b, 0, 10, src, dst).ok).toBe(true);
  });

  it('checksum 0 means none (RFC 768); flips are caught otherwise; malformations named', () => {
    fc.assert(
      fc.property(udpRepr, u32, u32, fc.nat(), (repr, src, dst, bit) => {
        const len = 8 + repr.payloadLength;
        const b = new Uint8Array(len);
        emitUdp(repr, b, 0, src, dst);
        const i = bit % (len * 8);
        b[i >> 3] ^= 1 << (i & 7);
        const r = UdpPacket.parse(b, 0, len, src, dst);
        const checksumNowZero = b[6] === 0 && b[7] === 0;
        const lengthShrunk = ((b[4] << 8) | b[5]) < len && ((b[4] << 8) | b[5]) >= 8 && i >> 3 >= ((b[4] << 8) | b[5]);
        if (!checksumNowZero && !lengthShrunk) expect(r.ok).toBe(false);
      }),
    );
    const b = new Uint8Array(8);
    emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 0 }, b, 0, 1, 2, false);
    expect((b[6] << 8) | b[7]).toBe(0);
    expect(UdpPacket.parse(b, 0, 8, 99, 99).ok).toBe(true);
    expect(UdpPacket.parse(b, 0, 7, 1, 2)).toEqual({ ok: false, reason: 'truncated' });
    b[5] = 7;
    expect(UdpPacket.parse(b, 0, 8, 1, 2)).toEqual({ ok: false, reason: 'bad-length' });
    b[5] = 9;
    expect(UdpPacket.parse(b, 0, 8, 1, 2)).toEqual({ ok: false, reason: 'truncated' });
    expect(() => emitUdp({ srcPort: 65536, dstPort: 2, payloadLength: 0 }, b, 0, 1, 2)).toThrow(/srcPort/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArpPacket, EthernetFrame, emitArp, emitEthernet, EtherType, ipv4, mac, type ArpRepr } from '../src/index.js';
import { arpRepr, ethernetRepr } from './arbitraries.js';
import { hex, toHex } from './helpers.js';

describe('Ethernet II', () => {
  it('emit then parse gives the repr back; parse then emit reproduces the bytes', () => {
    fc.assert(
      fc.property(ethernetRepr, fc.nat(8), fc.uint8Array({ maxLength: 64 }), (repr, off, payload) => {
        const b = new Uint8Array(off + 14 + payload.length);
        expect(emitEthernet(repr, b, off)).toBe(14);
        b.set(payload, off + 14);
        const f = EthernetFrame.parse(b, off);
        expect(f.ok).toBe(true);
        if (!f.ok) return;
        expect(f.toRepr()).toEqual(repr);
        expect(f.payloadLength).toBe(payload.length);
        const again = new Uint8Array(b.length);
        emitEthernet(f.toRepr(), again, off);
        expect(toHex(again.subarray(off, off + 14))).toBe(toHex(b.subarray(off, off + 14)));
      }),
    );
  });

  it('rejects short frames and 802.3 length fields', () => {
    expect(EthernetFrame.parse(new Uint8Array(13))).toEqual({ ok: false, reason: 'truncated' });
    const b = new Uint8Array(60);
    b[12] = 0x05;
    b[13] = 0xdc; // 1500: an 802.3 length
    expect(EthernetFrame.parse(b)).toEqual({ ok: false, reason: 'not-ethernet-ii' });
    expect(EthernetFrame.parse(b, 50, 20)).toEqual({ ok: false, reason: 'truncated' });
    expect(EthernetFrame.parse(b, -1, 20)).toEqual({ ok: false, reason: 'truncated' });
  });

  it('wrap re-points a view without allocating a new one', () => {
    const a = new Uint8Array(20);
    emitEthernet({ dst: 1, src: 2, ethertype: 0x0800 }, a, 0);
    const v = EthernetFrame.parse(a);
    if (!v.ok) throw new Error('parse');
    const b = new Uint8Array(30);
    emitEthernet({ dst: 3, src: 4, ethertype: 0x0806 }, b, 4);
    expect(v.wrap(b, 4, 26)).toBeNull();
    expect(v.dst).toBe(3);
    expect(v.ethertype).toBe(EtherType.Arp);
    expect(v.wrap(b, 20, 10)).toEqual({ ok: false, reason: 'truncated' });
    expect(v.dst).toBe(3); // a failed wrap leaves the view as it was
  });

  it('emit names the bad field', () => {
    const b = new Uint8Array(14);
    expect(() => emitEthernet({ dst: -1, src: 0, ethertype: 0x800 }, b, 0)).toThrow(/dst/);
    expect(() => emitEthernet({ dst: 0, src: 2 ** 48, ethertype: 0x800 }, b, 0)).toThrow(/src/);
    expect(() => emitEthernet({ dst: 0, src: 0, ethertype: 0x5dc }, b, 0)).toThrow(/ethertype/);
    expect(() => emitEthernet({ dst: 0, src: 0, ethertype: 0x800 }, b, 1)).toThrow(/offset/);
  });
});

describe('ARP (RFC 826)', () => {
  it('round-trips any valid repr, with Ethernet padding after it', () => {
    fc.assert(
      fc.property(arpRepr, fc.nat(32), (repr, pad) => {
        const b = new Uint8Array(28 + pad);
        expect(emitArp(repr, b, 0)).toBe(28);
        const p = ArpPacket.parse(b);
        expect(p.ok).toBe(true);
        if (!p.ok) return;
        expect(p.toRepr()).toEqual(repr);
        const again = new Uint8Array(28);
        emitArp(p.toRepr(), again, 0);
        expect(toHex(again)).toBe(toHex(b.subarray(0, 28)));
      }),
    );
  });

  it('known answer: a who-has request as Linux sends it', () => {
    // Ethernet broadcast from 52:54:00:12:34:56: who has 10.0.2.2? tell 10.0.2.15
    const frame = hex(
      'ffffffffffff 525400123456 0806' +
        '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202' +
        '000000000000000000000000000000000000', // padding to 60 bytes
    );
    expect(frame.length).toBe(60);
    const eth = EthernetFrame.parse(frame);
    if (!eth.ok) throw new Error(eth.reason);
    expect(eth.ethertype).toBe(EtherType.Arp);
    const arp = ArpPacket.parse(frame, eth.payloadOffset, eth.payloadLength);
    if (!arp.ok) throw new Error(arp.reason);
    const expected: ArpRepr = {
      operation: 1,
      senderMac: mac('52:54:00:12:34:56'),
      senderIp: ipv4('10.0.2.15'),
      targetMac: 0,
      targetIp: ipv4('10.0.2.2'),
    };
    expect(arp.toRepr()).toEqual(expected);
    const out = new Uint8Array(60);
    emitEthernet({ dst: 0xffffffffffff, src: expected.senderMac, ethertype: EtherType.Arp }, out, 0);
    emitArp(expected, out, 14);
    expect(toHex(out)).toBe(toHex(frame));
  });

  it('names each malformation', () => {
    const good = new Uint8Array(28);
    emitArp({ operation: 1, senderMac: 1, senderIp: 2, targetMac: 3, targetIp: 4 }, good, 0);
    const bad = (i: number, v: number) => {
      const b = good.slice();
      b[i] = v;
      const r = ArpPacket.parse(b);
      return r.ok ? 'ok' : r.reason;
    };
    expect(bad(1, 6)).toBe('unsupported-hardware');
    expect(bad(2, 0x86)).toBe('unsupported-protocol');
    expect(bad(4, 8)).toBe('bad-address-length');
    expect(bad(7, 3)).toBe('bad-operation');
    expect(ArpPacket.parse(good, 0, 27)).toEqual({ ok: false, reason: 'truncated' });
    expect(() => emitArp({ operation: 3 as 1, senderMac: 1, senderIp: 2, targetMac: 3, targetIp: 4 }, good, 0)).toThrow(/operation/);
    expect(() => emitArp({ operation: 1, senderMac: 1, senderIp: -2, targetMac: 3, targetIp: 4 }, good, 0)).toThrow(/senderIp/);
  });
});

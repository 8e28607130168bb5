import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inSubnet,
  ipv4,
  ipv4ToString,
  isIpv4Broadcast,
  isIpv4Multicast,
  isMacBroadcast,
  isMacLocal,
  isMacMulticast,
  mac,
  macToString,
  maskToPrefix,
  parseIpv4Address,
  parseMacAddress,
  prefixToMask,
  readMac,
  writeMac,
} from '../src/index.js';
import { mac48, u32 } from './helpers.js';

describe('IPv4 addresses', () => {
  it('round-trips u32 <-> dotted quad', () => {
    fc.assert(
      fc.property(u32, (a) => {
        expect(ipv4(ipv4ToString(a))).toBe(a);
      }),
    );
    expect(ipv4('192.168.0.1')).toBe(0xc0a80001);
    expect(ipv4('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToString(0x0a000002)).toBe('10.0.0.2');
  });

  it('names the reason for bad input', () => {
    const cases: [string, string][] = [
      ['', 'not-four-parts'],
      ['1.2.3', 'not-four-parts'],
      ['1.2.3.4.5', 'not-four-parts'],
      ['1..3.4', 'empty-part'],
      ['1.2.3.', 'empty-part'],
      ['.1.2.3', 'empty-part'],
      ['1.2.3.x', 'not-decimal'],
      [' 1.2.3.4', 'not-decimal'],
      ['1.2.3.-4', 'not-decimal'],
      ['01.2.3.4', 'leading-zero'],
      ['1.2.3.256', 'out-of-range'],
      ['1.2.3.99999999999999999999', 'out-of-range'],
    ];
    for (const [s, reason] of cases) {
      const r = parseIpv4Address(s);
      expect(r.ok, s).toBe(false);
      if (!r.ok) expect(r.reason, s).toBe(reason);
    }
    expect(() => ipv4('10.0.0')).toThrow(/invalid IPv4 address "10.0.0": not-four-parts/);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseIpv4Address(s)));
  });

  it('masks, prefixes, subnets, classes', () => {
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
    expect(prefixToMask(24)).toBe(ipv4('255.255.255.0'));
    expect(maskToPrefix(ipv4('255.0.255.0'))).toBe(-1);
    expect(inSubnet(ipv4('10.0.2.15'), ipv4('10.0.2.0'), prefixToMask(24))).toBe(true);
    expect(inSubnet(ipv4('10.0.3.15'), ipv4('10.0.2.0'), prefixToMask(24))).toBe(false);
    expect(isIpv4Multicast(ipv4('224.0.0.251'))).toBe(true);
    expect(isIpv4Multicast(ipv4('223.0.0.1'))).toBe(false);
    expect(isIpv4Broadcast(ipv4('10.0.2.255'), prefixToMask(24))).toBe(true);
    expect(isIpv4Broadcast(ipv4('10.0.2.254'), prefixToMask(24))).toBe(false);
    expect(() => prefixToMask(33)).toThrow(RangeError);
  });
});

describe('MAC addresses', () => {
  it('round-trips number <-> string <-> bytes', () => {
    fc.assert(
      fc.property(mac48, (m) => {
        expect(mac(macToString(m))).toBe(m);
        const b = new Uint8Array(8);
        writeMac(b, 1, m);
        expect(readMac(b, 1)).toBe(m);
      }),
    );
    expect(macToString(0x525400123456)).toBe('52:54:00:12:34:56');
    expect(mac('52-54-00-AB-cd-EF')).toBe(0x525400abcdef);
  });

  it('classifies group/local bits', () => {
    expect(isMacBroadcast(mac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isMacMulticast(mac('01:00:5e:00:00:fb'))).toBe(true);
    expect(isMacMulticast(mac('52:54:00:12:34:56'))).toBe(false);
    expect(isMacLocal(mac('02:42:ac:11:00:02'))).toBe(true);
    expect(isMacLocal(mac('00:1b:21:00:00:01'))).toBe(false);
  });

  it('names the reason for bad input and never throws on strings', () => {
    expect(parseMacAddress('52:54:00:12:34')).toEqual({ ok: false, reason: 'bad-format' });
    expect(parseMacAddress('52:54:00-12:34:56')).toEqual({ ok: false, reason: 'bad-format' });
    expect(parseMacAddress('52:54:00:12:34:5g')).toEqual({ ok: false, reason: 'not-hex' });
    expect(() => mac('nope')).toThrow(/invalid MAC address "nope": bad-format/);
    fc.assert(fc.property(fc.string(), (s) => void parseMacAddress(s)));
  });
});

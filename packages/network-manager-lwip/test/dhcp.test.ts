import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DhcpMessage, DhcpMessageType, emitDhcp, ipv4, mac, type DhcpRepr } from '../src/index.js';
import { dhcpRepr } from './arbitraries.js';
import { hex, toHex } from './helpers.js';

const discover: DhcpRepr = {
  op: 1,
  messageType: DhcpMessageType.Discover,
  transactionId: 0x3903f326,
  secs: 0,
  broadcast: true,
  clientIp: 0,
  yourIp: 0,
  serverIp: 0,
  relayIp: 0,
  clientMac: mac('52:54:00:12:34:56'),
  subnetMask: null,
  routers: [],
  dnsServers: [],
  requestedIp: null,
  leaseTime: null,
  serverId: null,
  parameterRequestList: [1, 3, 6, 51],
  maxMessageSize: 1500,
};

describe('DHCP (RFC 2131/2132)', () => {
  it('emit then parse gives the repr back; parse then emit reproduces the bytes', () => {
    fc.assert(
      fc.property(dhcpRepr, (repr) => {
        const b = new Uint8Array(600);
        const n = emitDhcp(repr, b, 0);
        expect(n).toBeGreaterThanOrEqual(300);
        const m = DhcpMessage.parse(b, 0, n);
        if (!m.ok) throw new Error(m.reason);
        const r = m.toRepr();
        if (!r.ok) throw new Error(r.reason);
        expect(r.value).toEqual(repr);
        const again = new Uint8Array(n);
        emitDhcp(r.value, again, 0);
        expect(toHex(again)).toBe(toHex(b.subarray(0, n)));
      }),
    );
  });

  it('known answer: a DISCOVER, byte for byte', () => {
    const expected = hex(
      '01 01 06 00 3903f326 0000 8000 00000000 00000000 00000000 00000000' +
        '525400123456 00000000000000000000' +
        '00'.repeat(64) + // sname
        '00'.repeat(128) + // file
        '63825363' +
        '350101' + // message type DISCOVER
        '3902 05dc' + // max message size 1500
        '3704 01 03 06 33' + // parameter request list: mask, router, DNS, lease
        'ff' +
        '00'.repeat(300 - 240 - 3 - 4 - 6 - 1),
    );
    expect(expected.length).toBe(300);
    const b = new Uint8Array(300);
    expect(emitDhcp(discover, b, 0)).toBe(300);
    expect(toHex(b)).toBe(toHex(expected));
    const m = DhcpMessage.parse(expected);
    if (!m.ok) throw new Error(m.reason);
    expect(m.messageType).toBe(DhcpMessageType.Discover);
    const r = m.toRepr();
    expect(r.ok && r.value).toEqual(discover);
  });

  it('an OFFER/ACK carries lease, mask, router, DNS and server id', () => {
    const ack: DhcpRepr = {
      ...discover,
      op: 2,
      messageType: DhcpMessageType.Ack,
      broadcast: false,
      yourIp: ipv4('10.0.2.15'),
      serverIp: ipv4('10.0.2.2'),
      subnetMask: ipv4('255.255.255.0'),
      routers: [ipv4('10.0.2.2')],
      dnsServers: [ipv4('10.0.2.3'), ipv4('8.8.8.8')],
      leaseTime: 86400,
      serverId: ipv4('10.0.2.2'),
      parameterRequestList: [],
      maxMessageSize: null,
    };
    const b = new Uint8Array(400);
    const n = emitDhcp(ack, b, 0);
    const m = DhcpMessage.parse(b, 0, n);
    if (!m.ok) throw new Error(m.reason);
    const r = m.toRepr();
    expect(r.ok && r.value).toEqual(ack);
  });

  it('names malformations', () => {
    const b = new Uint8Array(300);
    emitDhcp(discover, b, 0);
    const reason = (mut: (x: Uint8Array) => void, len = 300) => {
      const c = b.slice();
      mut(c);
      const m = DhcpMessage.parse(c, 0, len);
      if (!m.ok) return m.reason;
      const r = m.toRepr();
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(() => {}, 239)).toBe('truncated');
    expect(reason((c) => (c[0] = 3))).toBe('bad-op');
    expect(reason((c) => (c[2] = 16))).toBe('unsupported-hardware');
    expect(reason((c) => (c[236] = 0))).toBe('bad-magic-cookie');
    expect(reason((c) => (c[240] = 12))).toBe('missing-message-type'); // type option became a host name
    expect(reason((c) => c.fill(0, 240))).toBe('missing-message-type');
    expect(reason((c) => (c[242] = 9))).toBe('bad-message-type');
    expect(reason((c) => (c[244] = 250))).toBe('bad-option-length'); // option runs past the end
    expect(reason((c) => (c[243] = 0x33), 300)).toBe('bad-option-length'); // max-size option is now 'lease' with 2 bytes
    expect(() => emitDhcp({ ...discover, maxMessageSize: 100 }, b, 0)).toThrow(/maxMessageSize/);
    expect(() => emitDhcp({ ...discover, messageType: 9 as 1 }, b, 0)).toThrow(/messageType/);
    expect(() => emitDhcp(discover, b, 10)).toThrow(/offset/);
  });
});

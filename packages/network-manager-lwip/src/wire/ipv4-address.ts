// IPv4 addresses are carried as unsigned 32-bit numbers (0 ..= 0xffffffff), never objects:
// comparing is `===`, storing in a typed array or a Map key costs nothing, and reading one from a
// packet allocates nothing. Strings exist only at the edges (config, logs).

import { failure, readU32, writeU32, type ReprResult } from './result.js';

export type Ipv4Address = number;

export const IPV4_UNSPECIFIED: Ipv4Address = 0;
export const IPV4_BROADCAST: Ipv4Address = 0xffffffff;

export type Ipv4AddressParseReason = 'not-four-parts' | 'empty-part' | 'not-decimal' | 'leading-zero' | 'out-of-range';

const F_PARTS = failure('not-four-parts');
const F_EMPTY = failure('empty-part');
const F_DEC = failure('not-decimal');
const F_ZERO = failure('leading-zero');
const F_RANGE = failure('out-of-range');

/**
 * Parses strict dotted-quad notation "a.b.c.d" (each 0-255, decimal). Rejects the historical
 * inet_aton forms ("10.1", "0x7f.1", "010.0.0.1") because a leading zero means octal to some
 * tools and decimal to others; ambiguity in a config is worse than an error.
 */
export function parseIpv4Address(text: string): ReprResult<Ipv4Address, Ipv4AddressParseReason> {
  let value = 0;
  let parts = 0;
  let i = 0;
  const n = text.length;
  while (true) {
    const start = i;
    let part = 0;
    while (i < n && text.charCodeAt(i) !== 0x2e) {
      const c = text.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) return F_DEC;
      part = part * 10 + c;
      if (part > 255) return F_RANGE;
      i++;
    }
    if (i === start) return n === 0 ? F_PARTS : F_EMPTY;
    if (i - start > 1 && text.charCodeAt(start) === 0x30) return F_ZERO;
    value = value * 256 + part;
    parts++;
    if (i === n) break;
    if (parts === 4) return F_PARTS;
    i++; // skip '.'
  }
  if (parts !== 4) return F_PARTS;
  return { ok: true, value };
}

/** Like parseIpv4Address but throws a RangeError quoting the input and the reason. */
export function ipv4(text: string): Ipv4Address {
  const r = parseIpv4Address(text);
  if (!r.ok) throw new RangeError(`invalid IPv4 address ${JSON.stringify(text)}: ${r.reason}`);
  return r.value;
}

export function ipv4ToString(addr: Ipv4Address): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

export function isIpv4Address(value: unknown): value is Ipv4Address {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export const readIpv4 = readU32;
export const writeIpv4 = writeU32;

/** Netmask for a prefix length 0..32 (e.g. 24 -> 255.255.255.0). */
export function prefixToMask(prefix: number): Ipv4Address {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`invalid prefix length ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask, or -1 if the mask has holes. */
export function maskToPrefix(mask: Ipv4Address): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1; // inverse must be 2^k - 1
  return Math.clz32(inv);
}

export function inSubnet(addr: Ipv4Address, network: Ipv4Address, mask: Ipv4Address): boolean {
  return ((addr & mask) >>> 0) === ((network & mask) >>> 0);
}

/** 224.0.0.0/4 (RFC 1112). */
export function isIpv4Multicast(addr: Ipv4Address): boolean {
  return addr >>> 28 === 0xe;
}
/** 127.0.0.0/8. */
export function isIpv4Loopback(addr: Ipv4Address): boolean {
  return addr >>> 24 === 127;
}
/** Limited broadcast, or the directed broadcast of the subnet `mask` when given. */
export function isIpv4Broadcast(addr: Ipv4Address, mask?: Ipv4Address): boolean {
  if (addr === IPV4_BROADCAST) return true;
  if (mask === undefined || mask === 0xffffffff) return false;
  const host = ~mask >>> 0;
  return (addr & host) >>> 0 === host;
}

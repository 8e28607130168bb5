// MAC addresses are carried as unsigned 48-bit integers in a JS number (exact below 2^53):
// `===` comparison, usable as a Map key for the ARP cache, no allocation to read from a frame.

import { failure, type ReprResult } from './result.js';

export type MacAddress = number;

export const MAC_BROADCAST: MacAddress = 0xffffffffffff;
export const MAC_ZERO: MacAddress = 0;

const TWO32 = 0x1_0000_0000;

export function readMac(b: Uint8Array, o: number): MacAddress {
  return ((b[o] << 8) | b[o + 1]) * TWO32 + (((b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) >>> 0);
}

export function writeMac(b: Uint8Array, o: number, mac: MacAddress): void {
  const hi = Math.floor(mac / TWO32);
  const lo = mac >>> 0;
  b[o] = (hi >>> 8) & 0xff;
  b[o + 1] = hi & 0xff;
  b[o + 2] = lo >>> 24;
  b[o + 3] = (lo >>> 16) & 0xff;
  b[o + 4] = (lo >>> 8) & 0xff;
  b[o + 5] = lo & 0xff;
}

export function isMacAddress(value: unknown): value is MacAddress {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAC_BROADCAST;
}

/** Group bit: least significant bit of the first octet (IEEE 802). Broadcast is multicast too. */
export function isMacMulticast(mac: MacAddress): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}
export function isMacBroadcast(mac: MacAddress): boolean {
  return mac === MAC_BROADCAST;
}
/** Locally administered bit: second least significant bit of the first octet. */
export function isMacLocal(mac: MacAddress): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 2) === 2;
}

/** Lower-case colon form "52:54:00:12:34:56", as `ip link` prints it. */
export function macToString(mac: MacAddress): string {
  let s = '';
  for (let shift = 40; shift >= 0; shift -= 8) {
    const octet = Math.floor(mac / 2 ** shift) & 0xff;
    s += (s ? ':' : '') + (octet < 16 ? '0' : '') + octet.toString(16);
  }
  return s;
}

export type MacAddressParseReason = 'bad-format' | 'not-hex';
const F_FORMAT = failure('bad-format');
const F_HEX = failure('not-hex');

/** Parses six two-digit hex octets separated by ':' or '-' (one separator style throughout). */
export function parseMacAddress(text: string): ReprResult<MacAddress, MacAddressParseReason> {
  if (text.length !== 17) return F_FORMAT;
  const sep = text[2];
  if (sep !== ':' && sep !== '-') return F_FORMAT;
  let value = 0;
  for (let i = 0; i < 6; i++) {
    if (i > 0 && text[i * 3 - 1] !== sep) return F_FORMAT;
    const hi = hexDigit(text.charCodeAt(i * 3));
    const lo = hexDigit(text.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0) return F_HEX;
    value = value * 256 + hi * 16 + lo;
  }
  return { ok: true, value };
}

/** Like parseMacAddress but throws a RangeError quoting the input and the reason. */
export function mac(text: string): MacAddress {
  const r = parseMacAddress(text);
  if (!r.ok) throw new RangeError(`invalid MAC address ${JSON.stringify(text)}: ${r.reason}`);
  return r.value;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

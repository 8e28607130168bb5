// DHCP (RFC 2131) messages: the BOOTP header (RFC 951) followed by the magic cookie
// 99.130.83.99 and options (RFC 2132). Only Ethernet client hardware addresses (htype 1,
// hlen 6) are accepted, the only kind this stack has. Option overload (option 52, which moves
// options into `sname`/`file`) is not supported: such messages parse, but options placed in
// those fields are not seen (lwIP does the same unless LWIP_DHCP_BOOTP_FILE is set).

import { PacketView } from './packet-view.js';
import { isIpv4Address, type Ipv4Address } from './ipv4-address.js';
import { isMacAddress, readMac, writeMac, type MacAddress } from './mac-address.js';
import { badField, checkSpace, checkUint, failure, rangeOk, readU16, readU32, writeU16, writeU32, type ParseFailure, type ReprResult } from './result.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** Fixed BOOTP part (236) + magic cookie (4). */
export const DHCP_OPTIONS_OFFSET = 240;
/** RFC 1542 3.2: BOOTP messages are at least 300 bytes; some relays drop shorter ones. */
export const DHCP_MIN_MESSAGE_LEN = 300;
export const DHCP_MAGIC_COOKIE = 0x63825363;

export const BootpOp = { Request: 1, Reply: 2 } as const;

export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type DhcpMessageType = (typeof DhcpMessageType)[keyof typeof DhcpMessageType];

/** Option codes (RFC 2132). */
export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DnsServer: 6,
  HostName: 12,
  RequestedIp: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientId: 61,
  End: 255,
} as const;

export type DhcpParseReason =
  | 'truncated'
  | 'bad-op'
  | 'unsupported-hardware'
  | 'bad-magic-cookie'
  | 'bad-option-length'
  | 'missing-message-type'
  | 'bad-message-type';
const F_TRUNC = failure('truncated');
const F_OP = failure('bad-op');
const F_HW = failure('unsupported-hardware');
const F_COOKIE = failure('bad-magic-cookie');
const F_OPTLEN = failure('bad-option-length');
const F_NOTYPE = failure('missing-message-type');
const F_TYPE = failure('bad-message-type');

export interface DhcpRepr {
  /** BOOTREQUEST for client messages, BOOTREPLY for server messages. */
  op: 1 | 2;
  messageType: DhcpMessageType;
  transactionId: number;
  secs: number;
  /** The broadcast flag (RFC 2131 4.1): ask the server to broadcast its reply. */
  broadcast: boolean;
  clientIp: Ipv4Address;
  yourIp: Ipv4Address;
  serverIp: Ipv4Address;
  relayIp: Ipv4Address;
  clientMac: MacAddress;
  /** Options; null/empty means absent. */
  subnetMask: Ipv4Address | null;
  routers: Ipv4Address[];
  dnsServers: Ipv4Address[];
  requestedIp: Ipv4Address | null;
  /** Lease time in seconds (0xffffffff = infinite). */
  leaseTime: number | null;
  serverId: Ipv4Address | null;
  parameterRequestList: number[];
  maxMessageSize: number | null;
}

export class DhcpMessage extends PacketView {
  /** `length` is the UDP payload length. Checks the fixed part and the option framing. Never throws. */
  static parse(bytes: Uint8Array, offset = 0, length = bytes.length - offset): DhcpMessage | ParseFailure<DhcpParseReason> {
    return DhcpMessage.check(bytes, offset, length) ?? new DhcpMessage(bytes, offset, length);
  }

  static check(b: Uint8Array, o: number, length: number): ParseFailure<DhcpParseReason> | null {
    if (!rangeOk(b, o, length) || length < DHCP_OPTIONS_OFFSET) return F_TRUNC;
    if (b[o] !== 1 && b[o] !== 2) return F_OP;
    if (b[o + 1] !== 1 || b[o + 2] !== 6) return F_HW;
    if (readU32(b, o + 236) !== DHCP_MAGIC_COOKIE) return F_COOKIE;
    // Walk the option framing once so later lookups can trust it.
    let i = o + DHCP_OPTIONS_OFFSET;
    const end = o + length;
    while (i < end) {
      const code = b[i];
      if (code === DhcpOption.Pad) {
        i++;
        continue;
      }
      if (code === DhcpOption.End) return null;
      if (i + 1 >= end || i + 2 + b[i + 1] > end) return F_OPTLEN;
      i += 2 + b[i + 1];
    }
    // RFC 2131 4.1: options end with End; tolerate a missing End at the buffer end (lwIP does).
    return null;
  }

  get op(): number {
    return this.bytes[this.offset];
  }
  get hops(): number {
    return this.bytes[this.offset + 3];
  }
  get transactionId(): number {
    return readU32(this.bytes, this.offset + 4);
  }
  get secs(): number {
    return readU16(this.bytes, this.offset + 8);
  }
  get broadcast(): boolean {
    return (this.bytes[this.offset + 10] & 0x80) !== 0;
  }
  get clientIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 12);
  }
  get yourIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 16);
  }
  get serverIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 20);
  }
  get relayIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 24);
  }
  get clientMac(): MacAddress {
    return readMac(this.bytes, this.offset + 28);
  }

  /**
   * Offset of the first occurrence of option `code`'s value, or -1. Its length is the byte
   * before the returned offset. (RFC 3396 concatenation of split options is not done: none of
   * the options we use exceed 255 bytes.)
   */
  findOption(code: number): number {
    const b = this.bytes;
    let i = this.offset + DHCP_OPTIONS_OFFSET;
    const end = this.offset + this.length;
    while (i < end) {
      const c = b[i];
      if (c === DhcpOption.Pad) {
        i++;
        continue;
      }
      if (c === DhcpOption.End) return -1;
      if (c === code) return i + 2;
      i += 2 + b[i + 1];
    }
    return -1;
  }

  /** Message type (option 53), or -1 when absent or malformed. */
  get messageType(): number {
    const at = this.findOption(DhcpOption.MessageType);
    return at < 0 || this.bytes[at - 1] !== 1 ? -1 : this.bytes[at];
  }

  toRepr(): ReprResult<DhcpRepr, DhcpParseReason> {
    const b = this.bytes;
    const addr = (code: number): Ipv4Address | null | undefined => {
      const at = this.findOption(code);
      if (at < 0) return null;
      return b[at - 1] === 4 ? readU32(b, at) : undefined;
    };
    const addrList = (code: number): Ipv4Address[] | undefined => {
      const at = this.findOption(code);
      if (at < 0) return [];
      const len = b[at - 1];
      if (len === 0 || len % 4 !== 0) return undefined;
      const out: Ipv4Address[] = [];
      for (let j = 0; j < len; j += 4) out.push(readU32(b, at + j));
      return out;
    };
    const mt = this.findOption(DhcpOption.MessageType);
    if (mt < 0) return F_NOTYPE;
    if (b[mt - 1] !== 1 || b[mt] < 1 || b[mt] > 8) return F_TYPE;
    const subnetMask = addr(DhcpOption.SubnetMask);
    const requestedIp = addr(DhcpOption.RequestedIp);
    const serverId = addr(DhcpOption.ServerId);
    const lease = addr(DhcpOption.LeaseTime); // also a 4-byte value
    const routers = addrList(DhcpOption.Router);
    const dnsServers = addrList(DhcpOption.DnsServer);
    if (
      subnetMask === undefined ||
      requestedIp === undefined ||
      serverId === undefined ||
      lease === undefined ||
      routers === undefined ||
      dnsServers === undefined
    ) {
      return F_OPTLEN;
    }
    let maxMessageSize: number | null = null;
    const mms = this.findOption(DhcpOption.MaxMessageSize);
    if (mms >= 0) {
      if (b[mms - 1] !== 2) return F_OPTLEN;
      maxMessageSize = readU16(b, mms);
    }
    const parameterRequestList: number[] = [];
    const prl = this.findOption(DhcpOption.ParameterRequestList);
    if (prl >= 0) for (let j = 0; j < b[prl - 1]; j++) parameterRequestList.push(b[prl + j]);
    return {
      ok: true,
      value: {
        op: this.op as 1 | 2,
        messageType: b[mt] as DhcpMessageType,
        transactionId: this.transactionId,
        secs: this.secs,
        broadcast: this.broadcast,
        clientIp: this.clientIp,
        yourIp: this.yourIp,
        serverIp: this.serverIp,
        relayIp: this.relayIp,
        clientMac: this.clientMac,
        subnetMask,
        routers,
        dnsServers,
        requestedIp,
        leaseTime: lease,
        serverId,
        parameterRequestList,
        maxMessageSize,
      },
    };
  }
}

/** Length `emitDhcp` writes: options, End, then zero padding up to 300 bytes. */
export function dhcpLength(repr: DhcpRepr): number {
  let n = DHCP_OPTIONS_OFFSET + 3; // message type
  if (repr.subnetMask !== null) n += 6;
  if (repr.routers.length > 0) n += 2 + 4 * repr.routers.length;
  if (repr.dnsServers.length > 0) n += 2 + 4 * repr.dnsServers.length;
  if (repr.requestedIp !== null) n += 6;
  if (repr.leaseTime !== null) n += 6;
  if (repr.serverId !== null) n += 6;
  if (repr.parameterRequestList.length > 0) n += 2 + repr.parameterRequestList.length;
  if (repr.maxMessageSize !== null) n += 4;
  n += 1; // End
  return Math.max(n, DHCP_MIN_MESSAGE_LEN);
}

/**
 * Writes a whole DHCP message (fixed part, cookie, options in RFC 2132 order of importance:
 * message type first, End, padding to 300 bytes). Returns its length. Throws RangeError naming
 * a bad field.
 */
export function emitDhcp(repr: DhcpRepr, bytes: Uint8Array, offset: number): number {
  if (repr.op !== 1 && repr.op !== 2) badField('op', repr.op, 'must be 1 (BOOTREQUEST) or 2 (BOOTREPLY)');
  if (!Number.isInteger(repr.messageType) || repr.messageType < 1 || repr.messageType > 8) {
    badField('messageType', repr.messageType, 'must be 1-8 (RFC 2132 9.6)');
  }
  checkUint('transactionId', repr.transactionId, 32);
  checkUint('secs', repr.secs, 16);
  for (const f of ['clientIp', 'yourIp', 'serverIp', 'relayIp'] as const) {
    if (!isIpv4Address(repr[f])) badField(f, repr[f], 'not a 32-bit IPv4 address');
  }
  if (!isMacAddress(repr.clientMac)) badField('clientMac', repr.clientMac, 'not a 48-bit MAC address');
  for (const f of ['subnetMask', 'requestedIp', 'serverId'] as const) {
    const v = repr[f];
    if (v !== null && !isIpv4Address(v)) badField(f, v, 'not a 32-bit IPv4 address');
  }
  if (repr.leaseTime !== null) checkUint('leaseTime', repr.leaseTime, 32);
  if (repr.maxMessageSize !== null) {
    checkUint('maxMessageSize', repr.maxMessageSize, 16);
    if (repr.maxMessageSize < 576) badField('maxMessageSize', repr.maxMessageSize, 'RFC 2132 9.10 minimum is 576');
  }
  for (const f of ['routers', 'dnsServers'] as const) {
    if (repr[f].length > 63) badField(f, repr[f].length, 'at most 63 addresses fit one option');
    for (const a of repr[f]) if (!isIpv4Address(a)) badField(f, a, 'not a 32-bit IPv4 address');
  }
  if (repr.parameterRequestList.length > 255) badField('parameterRequestList', repr.parameterRequestList.length, 'at most 255 codes');
  for (const c of repr.parameterRequestList) checkUint('parameterRequestList', c, 8);

  const len = dhcpLength(repr);
  checkSpace(bytes, offset, len);
  bytes.fill(0, offset, offset + len);
  const b = bytes;
  const o = offset;
  b[o] = repr.op;
  b[o + 1] = 1; // htype Ethernet
  b[o + 2] = 6; // hlen
  b[o + 3] = 0; // hops
  writeU32(b, o + 4, repr.transactionId);
  writeU16(b, o + 8, repr.secs);
  writeU16(b, o + 10, repr.broadcast ? 0x8000 : 0);
  writeU32(b, o + 12, repr.clientIp);
  writeU32(b, o + 16, repr.yourIp);
  writeU32(b, o + 20, repr.serverIp);
  writeU32(b, o + 24, repr.relayIp);
  writeMac(b, o + 28, repr.clientMac);
  writeU32(b, o + 236, DHCP_MAGIC_COOKIE);
  let i = o + DHCP_OPTIONS_OFFSET;
  b[i++] = DhcpOption.MessageType;
  b[i++] = 1;
  b[i++] = repr.messageType;
  const putAddr = (code: number, v: number): void => {
    b[i++] = code;
    b[i++] = 4;
    writeU32(b, i, v);
    i += 4;
  };
  const putList = (code: number, list: number[]): void => {
    if (list.length === 0) return;
    b[i++] = code;
    b[i++] = 4 * list.length;
    for (const a of list) {
      writeU32(b, i, a);
      i += 4;
    }
  };
  if (repr.requestedIp !== null) putAddr(DhcpOption.RequestedIp, repr.requestedIp);
  if (repr.serverId !== null) putAddr(DhcpOption.ServerId, repr.serverId);
  if (repr.leaseTime !== null) putAddr(DhcpOption.LeaseTime, repr.leaseTime);
  if (repr.subnetMask !== null) putAddr(DhcpOption.SubnetMask, repr.subnetMask);
  putList(DhcpOption.Router, repr.routers);
  putList(DhcpOption.DnsServer, repr.dnsServers);
  if (repr.maxMessageSize !== null) {
    b[i++] = DhcpOption.MaxMessageSize;
    b[i++] = 2;
    writeU16(b, i, repr.maxMessageSize);
    i += 2;
  }
  if (repr.parameterRequestList.length > 0) {
    b[i++] = DhcpOption.ParameterRequestList;
    b[i++] = repr.parameterRequestList.length;
    for (const c of repr.parameterRequestList) b[i++] = c;
  }
  b[i++] = DhcpOption.End;
  return len;
}

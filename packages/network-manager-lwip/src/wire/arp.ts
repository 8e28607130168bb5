// ARP for IPv4 over Ethernet (RFC 826). Only hardware type 1 (Ethernet) with protocol 0x0800
// and address lengths 6/4 is accepted: that is the only combination the stack resolves.

import { PacketView } from './packet-view.js';
import { badField, checkSpace, failure, rangeOk, readU16, readU32, writeU16, writeU32, type ParseFailure } from './result.js';
import { isMacAddress, readMac, writeMac, type MacAddress } from './mac-address.js';
import { isIpv4Address, type Ipv4Address } from './ipv4-address.js';

export const ARP_PACKET_LEN = 28;

export const ArpOperation = { Request: 1, Reply: 2 } as const;
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

export type ArpParseReason =
  | 'truncated'
  | 'unsupported-hardware'
  | 'unsupported-protocol'
  | 'bad-address-length'
  | 'bad-operation';
const F_TRUNC = failure('truncated');
const F_HW = failure('unsupported-hardware');
const F_PROTO = failure('unsupported-protocol');
const F_ALEN = failure('bad-address-length');
const F_OP = failure('bad-operation');

export interface ArpRepr {
  operation: ArpOperation;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

export class ArpPacket extends PacketView {
  /** Validates and wraps. `length` may exceed 28 (Ethernet padding); trailing bytes are ignored. */
  static parse(bytes: Uint8Array, offset = 0, length = bytes.length - offset): ArpPacket | ParseFailure<ArpParseReason> {
    return ArpPacket.check(bytes, offset, length) ?? new ArpPacket(bytes, offset, length);
  }

  wrap(bytes: Uint8Array, offset: number, length: number): ParseFailure<ArpParseReason> | null {
    const f = ArpPacket.check(bytes, offset, length);
    return f ?? this.rebind(bytes, offset, length);
  }

  static check(b: Uint8Array, o: number, length: number): ParseFailure<ArpParseReason> | null {
    if (!rangeOk(b, o, length) || length < ARP_PACKET_LEN) return F_TRUNC;
    if (readU16(b, o) !== 1) return F_HW;
    if (readU16(b, o + 2) !== 0x0800) return F_PROTO;
    if (b[o + 4] !== 6 || b[o + 5] !== 4) return F_ALEN;
    const op = readU16(b, o + 6);
    if (op !== 1 && op !== 2) return F_OP;
    return null;
  }

  get hardwareType(): number {
    return readU16(this.bytes, this.offset);
  }
  get protocolType(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get operation(): ArpOperation {
    return readU16(this.bytes, this.offset + 6) as ArpOperation;
  }
  set operation(v: ArpOperation) {
    writeU16(this.bytes, this.offset + 6, v);
  }
  get senderMac(): MacAddress {
    return readMac(this.bytes, this.offset + 8);
  }
  set senderMac(v: MacAddress) {
    writeMac(this.bytes, this.offset + 8, v);
  }
  get senderIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 14);
  }
  set senderIp(v: Ipv4Address) {
    writeU32(this.bytes, this.offset + 14, v);
  }
  get targetMac(): MacAddress {
    return readMac(this.bytes, this.offset + 18);
  }
  set targetMac(v: MacAddress) {
    writeMac(this.bytes, this.offset + 18, v);
  }
  get targetIp(): Ipv4Address {
    return readU32(this.bytes, this.offset + 24);
  }
  set targetIp(v: Ipv4Address) {
    writeU32(this.bytes, this.offset + 24, v);
  }

  toRepr(): ArpRepr {
    return {
      operation: this.operation,
      senderMac: this.senderMac,
      senderIp: this.senderIp,
      targetMac: this.targetMac,
      targetIp: this.targetIp,
    };
  }
}

/** Writes a 28-byte ARP packet; returns 28. Throws RangeError naming a bad field. */
export function emitArp(repr: ArpRepr, bytes: Uint8Array, offset: number): number {
  if (repr.operation !== 1 && repr.operation !== 2) badField('operation', repr.operation, 'must be 1 (request) or 2 (reply)');
  if (!isMacAddress(repr.senderMac)) badField('senderMac', repr.senderMac, 'not a 48-bit MAC address');
  if (!isMacAddress(repr.targetMac)) badField('targetMac', repr.targetMac, 'not a 48-bit MAC address');
  if (!isIpv4Address(repr.senderIp)) badField('senderIp', repr.senderIp, 'not a 32-bit IPv4 address');
  if (!isIpv4Address(repr.targetIp)) badField('targetIp', repr.targetIp, 'not a 32-bit IPv4 address');
  checkSpace(bytes, offset, ARP_PACKET_LEN);
  writeU16(bytes, offset, 1);
  writeU16(bytes, offset + 2, 0x0800);
  bytes[offset + 4] = 6;
  bytes[offset + 5] = 4;
  writeU16(bytes, offset + 6, repr.operation);
  writeMac(bytes, offset + 8, repr.senderMac);
  writeU32(bytes, offset + 14, repr.senderIp);
  writeMac(bytes, offset + 18, repr.targetMac);
  writeU32(bytes, offset + 24, repr.targetIp);
  return ARP_PACKET_LEN;
}

// ICMPv4 (RFC 792): echo request/reply, destination unreachable, time exceeded. The checksum
// covers the whole ICMP message (header and data), with no pseudo-header.

import { PacketView } from './packet-view.js';
import { checksumAdd, checksumFold, internetChecksum } from './checksum.js';
import { badField, checkSpace, checkUint, failure, rangeOk, readU16, readU32, writeU16, writeU32, type ParseFailure, type ReprResult } from './result.js';

export const ICMPV4_HEADER_LEN = 8;

export const Icmpv4Type = {
  EchoReply: 0,
  DestUnreachable: 3,
  EchoRequest: 8,
  TimeExceeded: 11,
} as const;

/** Destination-unreachable codes (RFC 792; 4 carries the next-hop MTU per RFC 1191). */
export const Icmpv4Unreachable = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  FragNeeded: 4,
  SourceRouteFailed: 5,
} as const;

export type Icmpv4ParseReason = 'truncated' | 'bad-checksum' | 'unsupported-type';
const F_TRUNC = failure('truncated');
const F_CSUM = failure('bad-checksum');
const F_TYPE = failure('unsupported-type');

/**
 * `data` for echo is the echoed payload; for errors it is the offending datagram's IP header
 * plus at least its first 8 bytes (RFC 792), which the stack uses to find the socket.
 * Parsed reprs alias the packet bytes.
 */
export type Icmpv4Repr =
  | { kind: 'echo-request'; identifier: number; sequence: number; data: Uint8Array }
  | { kind: 'echo-reply'; identifier: number; sequence: number; data: Uint8Array }
  | { kind: 'dest-unreachable'; code: number; nextHopMtu: number; data: Uint8Array }
  | { kind: 'time-exceeded'; code: number; data: Uint8Array };

export class Icmpv4Packet extends PacketView {
  /** `length` is the ICMP message length (the IPv4 payload length). Never throws. */
  static parse(
    bytes: Uint8Array,
    offset = 0,
    length = bytes.length - offset,
    verifyChecksum = true,
  ): Icmpv4Packet | ParseFailure<Icmpv4ParseReason> {
    return Icmpv4Packet.check(bytes, offset, length, verifyChecksum) ?? new Icmpv4Packet(bytes, offset, length);
  }

  wrap(bytes: Uint8Array, offset: number, length: number, verifyChecksum = true): ParseFailure<Icmpv4ParseReason> | null {
    const f = Icmpv4Packet.check(bytes, offset, length, verifyChecksum);
    return f ?? this.rebind(bytes, offset, length);
  }

  static check(b: Uint8Array, o: number, length: number, verifyChecksum: boolean): ParseFailure<Icmpv4ParseReason> | null {
    if (!rangeOk(b, o, length) || length < ICMPV4_HEADER_LEN) return F_TRUNC;
    if (verifyChecksum && checksumFold(checksumAdd(0, b, o, length)) !== 0xffff) return F_CSUM;
    return null;
  }

  get type(): number {
    return this.bytes[this.offset];
  }
  get code(): number {
    return this.bytes[this.offset + 1];
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  /** Echo identifier (bytes 4-5). */
  get identifier(): number {
    return readU16(this.bytes, this.offset + 4);
  }
  /** Echo sequence number (bytes 6-7). */
  get sequence(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  /** Next-hop MTU of a "fragmentation needed" message (RFC 1191 section 4). */
  get nextHopMtu(): number {
    return readU16(this.bytes, this.offset + 6);
  }
  /** The 32-bit "rest of header" word, whatever the type. */
  get restOfHeader(): number {
    return readU32(this.bytes, this.offset + 4);
  }
  get dataOffset(): number {
    return this.offset + ICMPV4_HEADER_LEN;
  }
  get dataLength(): number {
    return this.length - ICMPV4_HEADER_LEN;
  }
  verifyChecksum(): boolean {
    return checksumFold(checksumAdd(0, this.bytes, this.offset, this.length)) === 0xffff;
  }

  toRepr(): ReprResult<Icmpv4Repr, Icmpv4ParseReason> {
    const data = this.bytes.subarray(this.dataOffset, this.offset + this.length);
    switch (this.type) {
      case Icmpv4Type.EchoRequest:
      case Icmpv4Type.EchoReply:
        // RFC 792: code 0 for echo; other codes are not defined, so refuse rather than guess.
        if (this.code !== 0) return F_TYPE;
        return {
          ok: true,
          value: {
            kind: this.type === Icmpv4Type.EchoRequest ? 'echo-request' : 'echo-reply',
            identifier: this.identifier,
            sequence: this.sequence,
            data,
          },
        };
      case Icmpv4Type.DestUnreachable:
        return {
          ok: true,
          value: {
            kind: 'dest-unreachable',
            code: this.code,
            nextHopMtu: this.code === Icmpv4Unreachable.FragNeeded ? this.nextHopMtu : 0,
            data,
          },
        };
      case Icmpv4Type.TimeExceeded:
        return { ok: true, value: { kind: 'time-exceeded', code: this.code, data } };
      default:
        return F_TYPE;
    }
  }
}

export function icmpv4Length(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN + repr.data.length;
}

/** Writes the whole message (header, copied data, checksum); returns its length. */
export function emitIcmpv4(repr: Icmpv4Repr, bytes: Uint8Array, offset: number): number {
  if (!(repr.data instanceof Uint8Array)) badField('data', repr.data, 'must be a Uint8Array');
  const len = ICMPV4_HEADER_LEN + repr.data.length;
  if (len > 65535 - 20) badField('data', repr.data.length, 'message exceeds an IPv4 payload');
  let type: number;
  let code: number;
  let rest: number;
  switch (repr.kind) {
    case 'echo-request':
    case 'echo-reply':
      checkUint('identifier', repr.identifier, 16);
      checkUint('sequence', repr.sequence, 16);
      type = repr.kind === 'echo-request' ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
      code = 0;
      rest = ((repr.identifier << 16) | repr.sequence) >>> 0;
      break;
    case 'dest-unreachable':
      checkUint('code', repr.code, 8);
      checkUint('nextHopMtu', repr.nextHopMtu, 16);
      if (repr.nextHopMtu !== 0 && repr.code !== Icmpv4Unreachable.FragNeeded) {
        badField('nextHopMtu', repr.nextHopMtu, 'only "fragmentation needed" (code 4) carries an MTU');
      }
      type = Icmpv4Type.DestUnreachable;
      code = repr.code;
      rest = repr.nextHopMtu;
      break;
    case 'time-exceeded':
      checkUint('code', repr.code, 8);
      type = Icmpv4Type.TimeExceeded;
      code = repr.code;
      rest = 0;
      break;
    default:
      badField('kind', (repr as { kind: unknown }).kind, 'unknown ICMPv4 message kind');
  }
  checkSpace(bytes, offset, len);
  // Copy data first: it may alias the region being written (an echo reply built in place).
  bytes.set(repr.data, offset + ICMPV4_HEADER_LEN);
  bytes[offset] = type;
  bytes[offset + 1] = code;
  writeU16(bytes, offset + 2, 0);
  writeU32(bytes, offset + 4, rest);
  writeU16(bytes, offset + 2, internetChecksum(bytes, offset, len));
  return len;
}

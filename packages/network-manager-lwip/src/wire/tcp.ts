// TCP header (RFC 9293 section 3.1). The checksum covers the IPv4 pseudo-header (source,
// destination, zero, protocol 6, TCP length), the header, options and data.

import { PacketView } from './packet-view.js';
import { ChecksumWords, transportChecksum, transportChecksumValid } from './checksum.js';
import { IpProtocol } from './ipv4.js';
import { isIpv4Address, type Ipv4Address } from './ipv4-address.js';
import { badField, checkSpace, checkUint, failure, rangeOk, readU16, readU32, writeU16, writeU32, type ParseFailure, type ReprResult } from './result.js';
import { emitTcpOptions, emptyTcpOptions, readTcpOptions, tcpOptionsLength, type TcpOptions, type TcpOptionsParseReason } from './tcp-options.js';

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;

/** Flag bits of byte 13 (RFC 9293; CWR/ECE from RFC 3168). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export type TcpParseReason = 'truncated' | 'bad-data-offset' | 'bad-checksum';
const F_TRUNC = failure('truncated');
const F_DOFF = failure('bad-data-offset');
const F_CSUM = failure('bad-checksum');

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Byte 13 flag bits (see TcpFlags). The 4 reserved bits are sent as zero. */
  flags: number;
  window: number;
  urgent: number;
  options: TcpOptions;
  payloadLength: number;
}

export class TcpSegment extends PacketView {
  // `length`: Segment length: header + options + data (the IPv4 payload length).

  /** The 32-bit view `wrap` verifies checksums through (a reused view is re-pointed per segment). */
  private readonly words = new ChecksumWords();

  /**
   * `length` is the IPv4 payload length; `src`/`dst` the IPv4 addresses for the
   * pseudo-header. `verifyChecksum` false skips the check (device-validated). Options are not
   * parsed here (see `readOptions`). Never throws.
   */
  static parse(
    bytes: Uint8Array,
    offset: number,
    length: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    verifyChecksum = true,
  ): TcpSegment | ParseFailure<TcpParseReason> {
    return TcpSegment.check(bytes, offset, length, src, dst, verifyChecksum) ?? new TcpSegment(bytes, offset, length);
  }

  wrap(bytes: Uint8Array, offset: number, length: number, src: Ipv4Address, dst: Ipv4Address, verifyChecksum = true): ParseFailure<TcpParseReason> | null {
    const f = TcpSegment.check(bytes, offset, length, src, dst, verifyChecksum, this.words);
    return f ?? this.rebind(bytes, offset, length);
  }

  static check(
    b: Uint8Array,
    o: number,
    length: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    verifyChecksum: boolean,
    words?: ChecksumWords,
  ): ParseFailure<TcpParseReason> | null {
    if (!rangeOk(b, o, length) || length < TCP_MIN_HEADER_LEN) return F_TRUNC;
    const hl = (b[o + 12] >> 4) * 4;
    if (hl < TCP_MIN_HEADER_LEN) return F_DOFF;
    if (hl > length) return F_DOFF;
    if (length > 0xffff) return F_TRUNC; // pseudo-header length is 16 bits
    if (verifyChecksum && !transportChecksumValid(src, dst, IpProtocol.Tcp, b, o, length, words)) {
      return F_CSUM;
    }
    return null;
  }

  get srcPort(): number {
    return readU16(this.bytes, this.offset);
  }
  get dstPort(): number {
    return readU16(this.bytes, this.offset + 2);
  }
  get seq(): number {
    return readU32(this.bytes, this.offset + 4);
  }
  get ack(): number {
    return readU32(this.bytes, this.offset + 8);
  }
  get headerLength(): number {
    return (this.bytes[this.offset + 12] >> 4) * 4;
  }
  get flags(): number {
    return this.bytes[this.offset + 13];
  }
  get fin(): boolean {
    return (this.flags & TcpFlags.FIN) !== 0;
  }
  get syn(): boolean {
    return (this.flags & TcpFlags.SYN) !== 0;
  }
  get rst(): boolean {
    return (this.flags & TcpFlags.RST) !== 0;
  }
  get psh(): boolean {
    return (this.flags & TcpFlags.PSH) !== 0;
  }
  get ackFlag(): boolean {
    return (this.flags & TcpFlags.ACK) !== 0;
  }
  get urg(): boolean {
    return (this.flags & TcpFlags.URG) !== 0;
  }
  get window(): number {
    return readU16(this.bytes, this.offset + 14);
  }
  get checksum(): number {
    return readU16(this.bytes, this.offset + 16);
  }
  get urgent(): number {
    return readU16(this.bytes, this.offset + 18);
  }
  get optionsOffset(): number {
    return this.offset + TCP_MIN_HEADER_LEN;
  }
  get optionsLength(): number {
    return this.headerLength - TCP_MIN_HEADER_LEN;
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  get payloadLength(): number {
    return this.length - this.headerLength;
  }
  /** Sequence space consumed: data plus one each for SYN and FIN (RFC 9293 3.4). */
  get segmentLength(): number {
    return this.payloadLength + (this.syn ? 1 : 0) + (this.fin ? 1 : 0);
  }

  /** Fills `out` from the options area; returns a failure for malformed options. */
  readOptions(out: TcpOptions): ParseFailure<TcpOptionsParseReason> | null {
    return readTcpOptions(this.bytes, this.optionsOffset, this.optionsLength, out);
  }

  verifyChecksum(src: Ipv4Address, dst: Ipv4Address): boolean {
    return transportChecksumValid(src, dst, IpProtocol.Tcp, this.bytes, this.offset, this.length);
  }

  toRepr(): ReprResult<TcpRepr, TcpOptionsParseReason> {
    const options = emptyTcpOptions();
    const f = this.readOptions(options);
    if (f) return f;
    return {
      ok: true,
      value: {
        srcPort: this.srcPort,
        dstPort: this.dstPort,
        seq: this.seq,
        ack: this.ack,
        flags: this.flags,
        window: this.window,
        urgent: this.urgent,
        options,
        payloadLength: this.payloadLength,
      },
    };
  }
}

export function tcpHeaderLength(repr: TcpRepr): number {
  return TCP_MIN_HEADER_LEN + tcpOptionsLength(repr.options);
}

/**
 * Writes header and options at `offset` and computes the checksum over the payload, which must
 * already be in place at `offset + tcpHeaderLength(repr)` (zero copy). Returns the header
 * length. Throws RangeError naming a bad field.
 */
export function emitTcp(repr: TcpRepr, bytes: Uint8Array, offset: number, src: Ipv4Address, dst: Ipv4Address): number {
  checkUint('srcPort', repr.srcPort, 16);
  checkUint('dstPort', repr.dstPort, 16);
  checkUint('seq', repr.seq, 32);
  checkUint('ack', repr.ack, 32);
  checkUint('flags', repr.flags, 8);
  checkUint('window', repr.window, 16);
  checkUint('urgent', repr.urgent, 16);
  checkUint('payloadLength', repr.payloadLength, 16);
  if (!isIpv4Address(src)) badField('src', src, 'not a 32-bit IPv4 address');
  if (!isIpv4Address(dst)) badField('dst', dst, 'not a 32-bit IPv4 address');
  const hl = tcpHeaderLength(repr);
  const len = hl + repr.payloadLength;
  if (len > 65535 - 20) badField('payloadLength', repr.payloadLength, 'segment exceeds an IPv4 payload');
  checkSpace(bytes, offset, len);
  emitTcpOptions(repr.options, bytes, offset + TCP_MIN_HEADER_LEN);
  writeU16(bytes, offset, repr.srcPort);
  writeU16(bytes, offset + 2, repr.dstPort);
  writeU32(bytes, offset + 4, repr.seq);
  writeU32(bytes, offset + 8, repr.ack);
  bytes[offset + 12] = (hl / 4) << 4;
  bytes[offset + 13] = repr.flags;
  writeU16(bytes, offset + 14, repr.window);
  writeU16(bytes, offset + 16, 0);
  writeU16(bytes, offset + 18, repr.urgent);
  writeU16(bytes, offset + 16, transportChecksum(src, dst, IpProtocol.Tcp, bytes, offset, len));
  return hl;
}

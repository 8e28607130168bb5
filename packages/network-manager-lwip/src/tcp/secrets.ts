// Keyed hashing of the 4-tuple for SYN cookies (RFC 4987 3.6, Linux's net/ipv4/syncookies.c)
// and initial sequence numbers (RFC 6528). HalfSipHash-2-4 (the 32-bit SipHash that Linux also
// uses for hashing in the kernel): a PRF over 32-bit words, pure JS, no allocation.
//
// The key comes from the node (TcpEnv.randomU32): crypto-random on realtime runs, the
// simulation's seeded PRNG under the virtual clock (so simulated runs stay reproducible).

const rotl = (x: number, b: number): number => ((x << b) | (x >>> (32 - b))) >>> 0;

/** HalfSipHash-2-4 over five 32-bit words; an instance holds its state (no closure per call). */
export class HalfSipHash {
  private v0 = 0;
  private v1 = 0;
  private v2 = 0;
  private v3 = 0;

  constructor(
    private readonly k0: number,
    private readonly k1: number,
  ) {}

  hash5(w0: number, w1: number, w2: number, w3: number, w4: number): number {
    this.v0 = this.k0 >>> 0;
    this.v1 = this.k1 >>> 0;
    this.v2 = (0x6c796765 ^ this.k0) >>> 0;
    this.v3 = (0x74656462 ^ this.k1) >>> 0;
    this.word(w0 >>> 0);
    this.word(w1 >>> 0);
    this.word(w2 >>> 0);
    this.word(w3 >>> 0);
    this.word(w4 >>> 0);
    this.word((20 << 24) >>> 0); // the message length in bytes, in the last word's top byte
    this.v2 = (this.v2 ^ 0xff) >>> 0;
    this.round();
    this.round();
    this.round();
    this.round();
    return (this.v1 ^ this.v3) >>> 0;
  }

  private word(m: number): void {
    this.v3 = (this.v3 ^ m) >>> 0;
    this.round();
    this.round();
    this.v0 = (this.v0 ^ m) >>> 0;
  }

  private round(): void {
    let { v0, v1, v2, v3 } = this;
    v0 = (v0 + v1) >>> 0;
    v1 = (rotl(v1, 5) ^ v0) >>> 0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = (rotl(v3, 8) ^ v2) >>> 0;
    v0 = (v0 + v3) >>> 0;
    v3 = (rotl(v3, 7) ^ v0) >>> 0;
    v2 = (v2 + v1) >>> 0;
    v1 = (rotl(v1, 13) ^ v2) >>> 0;
    v2 = rotl(v2, 16);
    this.v0 = v0;
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
  }
}

/** MSS values a cookie can carry (Linux's msstab for IPv4): the largest not above the peer's is used. */
export const COOKIE_MSS_TABLE: readonly number[] = Object.freeze([536, 1300, 1440, 1460]);
/** Cookie time counter period (Linux: 60 s) and the ages accepted (Linux MAX_SYNCOOKIE_AGE = 2). */
export const COOKIE_PERIOD_NS = 60e9;
const COOKIE_MAX_AGE = 2;
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** Window scale code meaning "the peer sent no window-scale option". */
const NO_WSCALE = 15;

/** What a SYN cookie remembers of the SYN (RFC 4987 3.6: the MSS at least). */
export interface CookieData {
  mss: number;
  /** The peer's window shift, or null when its SYN had no window-scale option. */
  windowScale: number | null;
  sackPermitted: boolean;
}

/**
 * SYN cookies with Linux's layout: cookie = H0(tuple) + peerIsn + (count << 24) +
 * ((H1(tuple, count) + data) mod 2^24), count = minutes (COOKIE_PERIOD_NS) since the clock's
 * origin. Linux puts only the MSS index in `data` and carries window scale and SACK-permitted
 * in the timestamp option's low bits; this stack puts all three in `data` (2 + 4 + 1 bits), so
 * a connection accepted by cookie keeps its window scale with or without timestamps. The cost:
 * a forged ACK is accepted with probability 2^-17 (valid data codes / 2^24) instead of Linux's
 * 2^-22; an attacker still has to guess per tuple and per minute.
 */
export class SynCookies {
  constructor(private readonly h: HalfSipHash) {}

  make(saddr: number, daddr: number, sport: number, dport: number, peerIsn: number, nowNs: number, d: CookieData): number {
    let mssIdx = 0;
    for (let i = COOKIE_MSS_TABLE.length - 1; i >= 0; i--) {
      if (COOKIE_MSS_TABLE[i]! <= d.mss) {
        mssIdx = i;
        break;
      }
    }
    const ws = d.windowScale === null ? NO_WSCALE : Math.min(d.windowScale, 14);
    const data = mssIdx | (ws << 2) | ((d.sackPermitted ? 1 : 0) << 6);
    const count = Math.floor(nowNs / COOKIE_PERIOD_NS) & 0xff;
    const ports = ((sport << 16) | dport) >>> 0;
    const h0 = this.h.hash5(saddr, daddr, ports, 0, 0);
    const h1 = this.h.hash5(saddr, daddr, ports, count, 1);
    return (h0 + peerIsn + count * 2 ** COOKIE_BITS + ((h1 + data) & COOKIE_MASK)) >>> 0;
  }

  /** The data of a valid cookie (`ack - 1` of the handshake's final ACK), or null. */
  check(saddr: number, daddr: number, sport: number, dport: number, peerIsn: number, cookie: number, nowNs: number): CookieData | null {
    const ports = ((sport << 16) | dport) >>> 0;
    const h0 = this.h.hash5(saddr, daddr, ports, 0, 0);
    const c = (cookie - h0 - peerIsn) >>> 0;
    const count = Math.floor(nowNs / COOKIE_PERIOD_NS) & 0xff;
    const diff = (count - (c >>> COOKIE_BITS)) & 0xff;
    if (diff >= COOKIE_MAX_AGE) return null;
    const h1 = this.h.hash5(saddr, daddr, ports, (count - diff) & 0xff, 1);
    const data = (c - h1) & COOKIE_MASK;
    if (data >>> 7 !== 0) return null;
    const mssIdx = data & 3;
    const ws = (data >>> 2) & 0xf;
    if (ws > 14 && ws !== NO_WSCALE) return null;
    return { mss: COOKIE_MSS_TABLE[mssIdx]!, windowScale: ws === NO_WSCALE ? null : ws, sackPermitted: (data & 0x40) !== 0 };
  }
}

/**
 * RFC 6528 initial sequence numbers: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4 µs timer. An off-path attacker can no longer predict a connection's ISN
 * from another's.
 */
export function rfc6528Isn(h: HalfSipHash, local: number, remote: number, localPort: number, remotePort: number, nowNs: number): number {
  const m = Math.floor(nowNs / 4000) >>> 0;
  return (m + h.hash5(local, remote, ((localPort << 16) | remotePort) >>> 0, 0x6528, 2)) >>> 0;
}

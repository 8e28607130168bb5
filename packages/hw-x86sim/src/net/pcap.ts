/** Classic pcap magic for microsecond timestamps. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** Classic pcap magic for nanosecond timestamps (Wireshark/tshark read it). */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** LINKTYPE_ETHERNET. */
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** Something that records frames with a timestamp (a `PcapWriter`, or a test's collector). */
export interface FrameCapture {
  /** Record `frame` seen at simulation time `timeNs`. */
  record(timeNs: number, frame: Uint8Array): void;
}

/**
 * Where a writer's bytes go as they are made (the header first, then one call per record). The
 * Node-only `PcapFileWriter` (`@ebbrt/hw-x86sim/node`) passes a file; a browser page may pass
 * anything that takes bytes.
 */
export interface PcapSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface PcapWriterOptions {
  /** Send bytes here as they are made instead of keeping them in memory. Default: memory only. */
  sink?: PcapSink;
  /** Nanosecond timestamps (magic 0xa1b23c4d). Default true; false gives microseconds (0xa1b2c3d4). */
  nanosecond?: boolean;
  /** Bytes of each frame stored (longer frames are truncated; orig_len keeps the real length). Default 65535. */
  snaplen?: number;
  /**
   * Unix time (integer ms) of simulation time 0, added to every timestamp: give
   * `sim.wallClockOriginMs` for a realtime run so the capture shows calendar time and lines up
   * with a capture taken on the Linux side. Default 0: timestamps are simulation time (a virtual
   * run's capture then starts at 1970-01-01 and is byte-identical by seed).
   */
  epochOriginMs?: number;
}

/**
 * A classic libpcap writer: little-endian global header (version 2.4, LINKTYPE_ETHERNET 1), one
 * record per frame, timestamps taken from simulation time (virtual or realtime nanoseconds since
 * the simulation started) plus `epochOriginMs`. Collects into memory (`bytes()`) and/or writes a file as it goes.
 */
export class PcapWriter implements FrameCapture {
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly epochOriginMs: number;
  /** epochOriginMs split once: whole seconds, and the rest in ns (the sum would not fit a double exactly in ns). */
  private readonly originSec: number;
  private readonly originNs: number;
  private sink: PcapSink | null;
  private readonly chunks: Uint8Array[] = [];
  private readonly keepInMemory: boolean;
  private _records = 0;
  private closed = false;

  constructor(options: PcapWriterOptions = {}) {
    this.nanosecond = options.nanosecond ?? true;
    this.snaplen = options.snaplen ?? 65535;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1) {
      throw new RangeError(`pcap snaplen must be a positive integer, got ${this.snaplen}`);
    }
    const origin = options.epochOriginMs ?? 0;
    if (!Number.isSafeInteger(origin) || origin < 0 || origin >= 2 ** 32 * 1000) {
      throw new RangeError(`pcap epochOriginMs must be an integer number of ms in 0..2^32 s, got ${String(options.epochOriginMs)}`);
    }
    this.epochOriginMs = origin;
    this.originSec = Math.floor(origin / 1000);
    this.originNs = (origin % 1000) * 1e6;
    this.sink = options.sink ?? null;
    this.keepInMemory = this.sink === null;
    const h = new Uint8Array(PCAP_GLOBAL_HEADER_BYTES);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, this.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
    dv.setUint16(4, 2, true); // version major
    dv.setUint16(6, 4, true); // version minor
    dv.setInt32(8, 0, true); // thiszone
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, PCAP_LINKTYPE_ETHERNET, true);
    this.emit(h);
  }

  /** Records written so far. */
  get records(): number {
    return this._records;
  }

  record(timeNs: number, frame: Uint8Array): void {
    if (this.closed) return;
    const t = Math.max(0, Math.floor(timeNs));
    let sec = Math.floor(t / 1e9);
    let frac = t - sec * 1e9 + this.originNs;
    if (frac >= 1e9) {
      frac -= 1e9;
      sec++;
    }
    sec += this.originSec;
    const incl = Math.min(frame.length, this.snaplen);
    const rec = new Uint8Array(PCAP_RECORD_HEADER_BYTES + incl);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, sec >>> 0, true);
    dv.setUint32(4, this.nanosecond ? frac : Math.floor(frac / 1000), true);
    dv.setUint32(8, incl, true);
    dv.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), PCAP_RECORD_HEADER_BYTES);
    this.emit(rec);
    this._records++;
  }

  /** The capture so far (header + records) when collecting in memory; with a sink, an error. */
  bytes(): Uint8Array {
    if (!this.keepInMemory) throw new Error('PcapWriter writing to a sink (a file) does not keep bytes in memory');
    let n = 0;
    for (const c of this.chunks) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  /** Close the sink (if any). Further records are ignored. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.sink !== null) {
      this.sink.close();
      this.sink = null;
    }
  }

  private emit(b: Uint8Array): void {
    if (this.sink !== null) this.sink.write(b);
    if (this.keepInMemory) this.chunks.push(b);
  }
}

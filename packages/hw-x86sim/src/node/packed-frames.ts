/**
 * Packed framing between the UDP TAP bridge and host-network's ebbrt-tap-bridge helper: one UDP
 * datagram carries several Ethernet frames, each as a record [u16 big-endian length][frame].
 * Both ends check a datagram whole before using any of it: a malformed one (a bug or corruption
 * on loopback) is rejected with its reason and counted, not half delivered.
 */

/** Largest UDP payload over IPv4. */
export const MAX_PACKED_DATAGRAM = 65_507;

/** Why a packed datagram was rejected. */
export type PackedError =
  /** The datagram has no record at all (0 bytes). */
  | 'empty-datagram'
  /** One byte left where a 2-byte length should start (the datagram was cut). */
  | 'short-header'
  /** A record of length 0. */
  | 'empty-record'
  /** A record's length runs past the end of the datagram (cut, or a corrupt length). */
  | 'overrun';

export const PACKED_ERRORS: readonly PackedError[] = ['empty-datagram', 'short-header', 'empty-record', 'overrun'];

/**
 * The frames of a packed datagram, as views of it (no copy), or the reason it is malformed (then
 * `frames` is empty: nothing of a bad datagram is used).
 */
export function unpackFrames(datagram: Uint8Array): { frames: Uint8Array[]; error: PackedError | undefined } {
  if (datagram.length === 0) return { frames: [], error: 'empty-datagram' };
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < datagram.length) {
    if (at + 2 > datagram.length) return { frames: [], error: 'short-header' };
    const len = (datagram[at]! << 8) | datagram[at + 1]!;
    if (len === 0) return { frames: [], error: 'empty-record' };
    if (at + 2 + len > datagram.length) return { frames: [], error: 'overrun' };
    frames.push(new Uint8Array(datagram.buffer, datagram.byteOffset + at + 2, len));
    at += 2 + len;
  }
  return { frames, error: undefined };
}

/** Packs frames as `unpackFrames` reads them into one array (tests and tools; the bridge sends views). */
export function packFrames(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const f of frames) {
    if (f.length === 0 || f.length > 0xffff) throw new RangeError(`packFrames: a frame of ${f.length} B cannot be packed (1..65535)`);
    total += 2 + f.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frames) {
    out[at] = f.length >>> 8;
    out[at + 1] = f.length & 0xff;
    out.set(f, at + 2);
    at += 2 + f.length;
  }
  return out;
}

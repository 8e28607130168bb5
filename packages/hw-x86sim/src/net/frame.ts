/**
 * Frames and the ports they travel between. A frame is a raw Ethernet II frame (destination MAC,
 * source MAC, EtherType, payload; no preamble, no FCS) in a `Uint8Array`.
 *
 * Frames handed to a `FramePort` are treated as immutable by every component here: a receiver
 * that wants to keep or change the bytes copies them (the NIC copies into guest memory, a
 * corrupting link copies before flipping a byte), so one array may be delivered to many ports.
 */

/** Anything that accepts frames: a NIC's receive side, a switch port's ingress, a link end. */
export interface FramePort {
  receive(frame: Uint8Array): void;
  /**
   * True for a store-and-forward receiver that checks the Ethernet FCS (a switch port): a frame
   * a link corrupted on its way here is discarded by that check and never forwarded. NICs and
   * bridges leave it unset (virtio-net has no FCS: corruption on their link reaches the host's
   * own checksums, which is what the corruption fault is there to exercise).
   */
  readonly checksFcs?: boolean;
}

/**
 * An endpoint that can be plugged into a fabric: it receives frames and, once attached, sends its
 * own frames into `tx` (the link or switch port it is plugged into).
 */
export interface NetworkEndpoint extends FramePort {
  attach(tx: FramePort): void;
}

/** Smallest frame we accept: the 14-byte Ethernet header. */
export const ETH_HEADER_BYTES = 14;

/** Parse 'aa:bb:cc:dd:ee:ff' (or '-' separated) into 6 bytes. */
export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new RangeError(`invalid MAC address '${mac}'`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/**
 * A NIC's MAC: `mac` parsed (it must be unicast; `what` names the device in the error), or by
 * default the locally administered 52:54:00:xx:yy:zz from the machine id, so every NIC model's
 * switch-table entries read alike.
 */
export function nicMac(what: string, machineId: number, mac: string | undefined): Uint8Array {
  if (mac === undefined) return Uint8Array.of(0x52, 0x54, 0x00, (machineId >>> 16) & 0xff, (machineId >>> 8) & 0xff, machineId & 0xff);
  const bytes = parseMac(mac);
  if ((bytes[0]! & 1) !== 0) throw new RangeError(`${what} MAC must be unicast, got ${mac}`);
  return bytes;
}

/** Format 6 bytes at `offset` of `bytes` as 'aa:bb:cc:dd:ee:ff'. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = bytes[offset + i] ?? 0;
    s += (i > 0 ? ':' : '') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

/** True if the destination MAC of `frame` is broadcast or multicast (I/G bit set). */
export function isGroupDestination(frame: Uint8Array): boolean {
  return (frame[0] & 1) === 1;
}

/** Build an Ethernet II frame (handy for tests and simple software). */
export function buildEthernetFrame(dst: string | Uint8Array, src: string | Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_BYTES + payload.length);
  f.set(typeof dst === 'string' ? parseMac(dst) : dst, 0);
  f.set(typeof src === 'string' ? parseMac(src) : src, 6);
  f[12] = (etherType >>> 8) & 0xff;
  f[13] = etherType & 0xff;
  f.set(payload, ETH_HEADER_BYTES);
  return f;
}

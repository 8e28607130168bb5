/**
 * Receive-side scaling: the deterministic flow hash (FNV-1a) the virtio-net device uses to pick an
 * RX queue pair when MQ is negotiated. Drivers use {@link rssHashOf} to choose local ports whose
 * replies land on a given core.
 */
import { ETH_HEADER_BYTES } from './frame.js';

/**
 * The same hash as {@link rssHash}, from the flow's fields (IPv4 addresses as unsigned numbers):
 * what a driver needs to open a connection whose replies the NIC steers to a given queue (real
 * NICs publish their RSS key and function for the same purpose).
 */
export function rssHashOf(srcIp: number, dstIp: number, proto: number, srcPort: number, dstPort: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (srcIp >>> 24), 0x01000193);
  h = Math.imul(h ^ ((srcIp >>> 16) & 255), 0x01000193);
  h = Math.imul(h ^ ((srcIp >>> 8) & 255), 0x01000193);
  h = Math.imul(h ^ (srcIp & 255), 0x01000193);
  h = Math.imul(h ^ (dstIp >>> 24), 0x01000193);
  h = Math.imul(h ^ ((dstIp >>> 16) & 255), 0x01000193);
  h = Math.imul(h ^ ((dstIp >>> 8) & 255), 0x01000193);
  h = Math.imul(h ^ (dstIp & 255), 0x01000193);
  h = Math.imul(h ^ proto, 0x01000193);
  h = Math.imul(h ^ (srcPort >>> 8), 0x01000193);
  h = Math.imul(h ^ (srcPort & 255), 0x01000193);
  h = Math.imul(h ^ (dstPort >>> 8), 0x01000193);
  h = Math.imul(h ^ (dstPort & 255), 0x01000193);
  return h >>> 0;
}

/** FNV-1a over IPv4 (src, dst, protocol, src port, dst port) of an unfragmented TCP/UDP frame; 0 otherwise. */
export function rssHash(frame: Uint8Array): number {
  if (frame.length < ETH_HEADER_BYTES + 20) return 0;
  if (frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
  const ip = ETH_HEADER_BYTES;
  if (frame[ip] >>> 4 !== 4) return 0;
  const ihl = (frame[ip] & 0x0f) * 4;
  const proto = frame[ip + 9];
  if (ihl < 20 || (proto !== 6 && proto !== 17)) return 0;
  if (((frame[ip + 6] & 0x3f) | frame[ip + 7]) !== 0) return 0; // MF or fragment offset
  const l4 = ip + ihl;
  if (frame.length < l4 + 4) return 0;
  // FNV-1a, inlined (a per-call closure showed up in profiles: rssHash runs per received frame).
  let h = 0x811c9dc5;
  for (let i = 12; i < 20; i++) h = Math.imul(h ^ frame[ip + i], 0x01000193);
  h = Math.imul(h ^ proto, 0x01000193);
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ frame[l4 + i], 0x01000193);
  return h >>> 0;
}

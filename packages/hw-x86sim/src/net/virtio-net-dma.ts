/**
 * virtio-net's two copies between the wire and guest memory: a received frame scattered into a
 * posted chain behind its virtio_net_hdr, and a transmitted frame gathered out of a chain past
 * its header. Both run per frame, so neither makes a view in the usual one-buffer case.
 */
import { VIRTIO_NET_HDR_BYTES } from './virtio-net-spec.js';
import type { Chain } from './virtqueue.js';

/** Offset of num_buffers in struct virtio_net_hdr (VERSION_1). */
const NUM_BUFFERS = 10;

/**
 * Writes the header (all zero, no offloads applied, except num_buffers = 1) and then `frame`
 * into `chain`, which holds at least header + frame bytes. walk() bounds-checked every segment
 * against guest memory, so the bytes are written directly.
 */
export function writeRxFrame(bytes: Uint8Array, chain: Chain, frame: Uint8Array): void {
  const need = VIRTIO_NET_HDR_BYTES + frame.length;
  const a0 = chain.addr[0]!;
  if (chain.len[0]! >= need) {
    // The usual case (one posted buffer holds header + frame): no views, one copy.
    bytes.fill(0, a0, a0 + VIRTIO_NET_HDR_BYTES);
    bytes[a0 + NUM_BUFFERS] = 1;
    bytes.set(frame, a0 + VIRTIO_NET_HDR_BYTES);
    return;
  }
  let srcOff = 0; // offset in header ++ frame
  for (let i = 0; i < chain.count && srcOff < need; i++) {
    let dst = chain.addr[i]!;
    let n = Math.min(chain.len[i]!, need - srcOff);
    while (n > 0) {
      if (srcOff < VIRTIO_NET_HDR_BYTES) {
        const k = Math.min(n, VIRTIO_NET_HDR_BYTES - srcOff);
        for (let j = 0; j < k; j++) bytes[dst + j] = srcOff + j === NUM_BUFFERS ? 1 : 0;
        srcOff += k;
        dst += k;
        n -= k;
      } else {
        const o = srcOff - VIRTIO_NET_HDR_BYTES;
        bytes.set(frame.subarray(o, o + n), dst);
        srcOff += n;
        n = 0;
      }
    }
  }
}

/** Copies the frame `chain` carries (its bytes past the virtio_net_hdr) into `frame`, which is exactly that long. */
export function readTxFrame(bytes: Uint8Array, chain: Chain, frame: Uint8Array): void {
  const frameLen = frame.length;
  if (chain.len[0]! >= VIRTIO_NET_HDR_BYTES + frameLen) {
    const a = chain.addr[0]! + VIRTIO_NET_HDR_BYTES;
    frame.set(bytes.subarray(a, a + frameLen));
    return;
  }
  let skip = VIRTIO_NET_HDR_BYTES;
  let o = 0;
  for (let i = 0; i < chain.count; i++) {
    const len = chain.len[i]!;
    const k = Math.min(skip, len);
    skip -= k;
    const n = len - k;
    if (n > 0) {
      const a = chain.addr[i]! + k;
      frame.set(bytes.subarray(a, a + n), o);
      o += n;
    }
  }
}

/**
 * What the virtio 1.x spec defines for a network device, as the driver and the device both see
 * it: feature bits, status register bits, the config-space link bit, the header, and the device's
 * counters. No behaviour here: the device is virtio-net.ts.
 */
import type { VirtioNetFaultStats } from './virtio-faults.js';

/** virtio-net feature bit numbers (virtio 1.x §5.1.3). */
export const VIRTIO_NET_F = Object.freeze({
  CSUM: 0,
  MAC: 5,
  STATUS: 16,
  MQ: 22,
  VERSION_1: 32,
});

/** Feature bit number → mask. */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** Device status register bits (virtio 1.x §2.1). */
export const VIRTIO_STATUS = Object.freeze({
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
});

/** config.status bit: link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** struct virtio_net_hdr with VERSION_1: flags u8, gso_type u8, hdr_len u16, gso_size u16, csum_start u16, csum_offset u16, num_buffers u16. */
export const VIRTIO_NET_HDR_BYTES = 12;
/** Largest frame the device transmits or receives (bytes after the virtio header). */
export const VIRTIO_NET_MAX_FRAME = 65535;
/** Device counters (a type alias, so that it is a `Counters`). */
export type VirtioNetStats = VirtioNetFaultStats & {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames dropped because the RX queue had no posted buffer (and its backlog, if any, was full). */
  rxDroppedNoBuffer: number;
  /** Frames held in an RX queue's backlog because no buffer was posted (delivered later, in order). */
  rxBacklogged: number;
  /** Frames dropped because the device was not DRIVER_OK, the RX queue not set up, or the frame a runt/too long. */
  rxDroppedNotReady: number;
  /** RX chains the device could not use (bad address, loop, not device-writable, too small): frame dropped, buffer returned with len 0. */
  rxErrors: number;
  /** TX chains the device could not use (bad address, loop, writable descriptor, bad length): returned with len 0, nothing sent. */
  txErrors: number;
  /** Frames transmitted while nothing was attached (dropped). */
  txDroppedNoLink: number;
  /** Avail-ring index jumps larger than the queue size (driver bug); the queue stops until reset. */
  ringErrors: number;
  /** Doorbell writes (`notify`). */
  notifications: number;
  /** Interrupts raised / not raised because avail.flags had NO_INTERRUPT. */
  interrupts: number;
  interruptsSuppressed: number;
  /** Configuration-change interrupts raised (on DEVICE_NEEDS_RESET). */
  configInterrupts: number;
};

/** All-zero device counters (in the order `--stats` prints them). */
export function newVirtioNetStats(): VirtioNetStats {
  return {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    rxDroppedNoBuffer: 0,
    rxBacklogged: 0,
    rxDroppedNotReady: 0,
    rxErrors: 0,
    txErrors: 0,
    txDroppedNoLink: 0,
    ringErrors: 0,
    notifications: 0,
    interrupts: 0,
    interruptsSuppressed: 0,
    faultRxNoBuffer: 0,
    faultInterruptsDelayed: 0,
    faultInterruptsLost: 0,
    faultTxCompletionsDelayed: 0,
    faultDeviceResets: 0,
    faultConfigInterruptsLost: 0,
    configInterrupts: 0,
  };
}

/**
 * Gathering frames into one chain for the transport. Frames handed over in one event are given
 * to `sendQueued` at once: a stack that makes one segment per `send` call (our lwIP port has no
 * Nagle) then sends full segments instead of one tiny one per message. Small frames are copied
 * into a shared buffer (one element per batch instead of two per message); large ones are chained
 * as they are (no copy).
 */
import { IOBuf, IOBufStorage } from '@ebbrt/interfaces';

/** Frames gathered before they are handed to the transport in one call. */
export const BATCH_BYTES = 64 * 1024;
/** Frames up to this size are copied into a gather buffer rather than chained. */
export const SMALL_FRAME_BYTES = 512;
const GATHER_BYTES = 16 * 1024;
/**
 * Gather buffers a connection keeps once the transport has released them (acked or dropped).
 * A fresh 16 KiB ArrayBuffer per event was most of a simulation's off-heap allocation: the
 * counter made 377 a seed, 6 MB, and V8 scavenges once the young generation's ArrayBuffers pass
 * 32 MB ("external memory pressure"), so those buffers brought on a scavenge every ~3 seeds.
 */
export const SPARE_GATHER_BUFFERS = 4;

/** One connection's frames waiting for the next `sendQueued`. Only its connection's core touches it. */
export class SendBatch {
  private batch: IOBuf | null = null;
  /** The batch's last element when it is a gather buffer with room for more small frames. */
  private tail: IOBuf | null = null;
  private batchBytes = 0;
  /** Released gather buffers, reused before a new one is allocated. */
  private readonly spare: Uint8Array[] = [];
  /** Buffers handed out again (what a test can check). */
  reused = 0;
  private readonly recycle = (storage: IOBufStorage): void => {
    if (this.spare.length < SPARE_GATHER_BUFFERS) this.spare.push(storage.bytes);
  };

  /**
   * An empty gather buffer. A reused one is not zeroed: `add` writes every byte of the view it
   * grows before anyone sees it, and nothing reads past the view.
   */
  private gatherBuffer(): IOBuf {
    let bytes = this.spare.pop();
    if (bytes === undefined) bytes = new Uint8Array(GATHER_BYTES);
    else this.reused++;
    return IOBuf.fromStorage(new IOBufStorage(bytes, { onRelease: this.recycle }), 0, 0);
  }

  /** Adds a frame (takes ownership). True when the batch is full and should be handed over now. */
  add(frame: IOBuf, frameBytes: number): boolean {
    if (frameBytes <= SMALL_FRAME_BYTES) {
      let tail = this.tail;
      if (tail === null || tail.tailroom() < frameBytes) {
        tail = this.gatherBuffer();
        this.tail = tail;
        if (this.batch === null) this.batch = tail;
        else this.batch.appendChain(tail);
      }
      const at = tail.offset + tail.length;
      tail.append(frameBytes);
      const dst = tail.bytes;
      let off = at;
      let e = frame;
      do {
        dst.set(e.bytes.subarray(e.offset, e.offset + e.length), off);
        off += e.length;
        e = e.next;
      } while (e !== frame);
      frame.releaseChain();
    } else {
      this.tail = null;
      if (this.batch === null) this.batch = frame;
      else this.batch.appendChain(frame);
    }
    this.batchBytes += frameBytes;
    return this.batchBytes >= BATCH_BYTES;
  }

  /** The gathered chain (the caller owns it), or null when empty; the batch is empty afterwards. */
  take(): IOBuf | null {
    const batch = this.batch;
    this.batch = null;
    this.tail = null;
    this.batchBytes = 0;
    return batch;
  }

  /** Drops whatever is gathered (the connection died). */
  release(): void {
    this.take()?.releaseChain();
  }
}

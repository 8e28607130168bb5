/**
 * A connection's gather buffers: the chain handed to the transport holds exactly the frames
 * given, in order, whether the gather buffers are fresh or reused after the transport released
 * them (a reused one is not zeroed, so a stale byte showing through would be caught here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOBuf } from '@ebbrt/interfaces';
import { SendBatch, SMALL_FRAME_BYTES, SPARE_GATHER_BUFFERS } from '../src/gather.js';

const frameOf = (bytes: Uint8Array): IOBuf => IOBuf.copyOf(bytes);

describe('SendBatch', () => {
  it('property: each batch taken is its frames byte for byte, over reused gather buffers', () => {
    const frame = fc.uint8Array({ minLength: 1, maxLength: 2 * SMALL_FRAME_BYTES });
    fc.assert(
      fc.property(fc.array(fc.array(frame, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 255 }), (batches, junk) => {
        const batch = new SendBatch();
        for (const frames of batches) {
          for (const f of frames) batch.add(frameOf(f), f.length);
          const chain = batch.take()!;
          expect(chain.toUint8Array()).toEqual(Uint8Array.from(frames.flatMap((f) => [...f])));
          // The transport scribbles over what it was given and releases it: the next batch's
          // gather buffers may be these very bytes.
          let e = chain;
          do {
            e.bytes.fill(junk);
            e = e.next;
          } while (e !== chain);
          chain.releaseChain();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reuses released gather buffers, keeping at most SPARE_GATHER_BUFFERS', () => {
    const batch = new SendBatch();
    const small = new Uint8Array(100).fill(7);
    // Six batches in flight at once (none released yet): six gather buffers.
    const inFlight: IOBuf[] = [];
    for (let i = 0; i < 6; i++) {
      batch.add(frameOf(small), small.length);
      inFlight.push(batch.take()!);
    }
    expect(batch.reused).toBe(0);
    for (const c of inFlight) c.releaseChain();
    // Only SPARE_GATHER_BUFFERS of them were kept: that many batches reuse, the next allocates.
    for (let i = 0; i < SPARE_GATHER_BUFFERS + 1; i++) {
      batch.add(frameOf(small), small.length);
      inFlight[i] = batch.take()!;
    }
    expect(batch.reused).toBe(SPARE_GATHER_BUFFERS);
    // A buffer still held by the transport is never handed out twice.
    const storages = new Set(inFlight.slice(0, SPARE_GATHER_BUFFERS + 1).map((c) => c.bytes));
    expect(storages.size).toBe(SPARE_GATHER_BUFFERS + 1);
  });
});

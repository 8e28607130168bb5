import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameSlab } from './frame-slab.js';

describe('FrameSlab', () => {
  it('property: every frame is fresh (zero), aligned, exactly as long as asked, and never shares a byte with another', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 60 }), fc.constantFrom(1, 8), (lens, align) => {
        const slab = new FrameSlab(4096, 1024, align);
        const frames = lens.map((len, i) => {
          const f = slab.frame(len);
          expect(f.length).toBe(len);
          expect(f.every((b) => b === 0)).toBe(true);
          if (len <= 1024) expect(f.byteOffset % align).toBe(0);
          f.fill((i % 255) + 1); // written once by its sender
          return f;
        });
        // Nothing written later reached an earlier frame.
        frames.forEach((f, i) => expect(f.every((b) => b === (i % 255) + 1)).toBe(true));
      }),
    );
  });

  it('gives a frame over maxFrame an array of its own', () => {
    const slab = new FrameSlab(4096, 1024);
    const big = slab.frame(1025);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(1025);
  });
});

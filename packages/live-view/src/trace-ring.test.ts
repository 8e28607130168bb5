import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceRing } from './trace-ring.js';

describe('TraceRing', () => {
  it('property: any pushes and reads give exactly the newest events after the cursor, in order, with gaps counted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 60 }) }), fc.record({ read: fc.integer({ min: 0, max: 50 }) })), { maxLength: 30 }),
        (capacity, ops) => {
          const ring = new TraceRing(capacity);
          let pushed = 0;
          let cursor = 0;
          for (const op of ops) {
            if ('push' in op) {
              for (let k = 0; k < op.push; k++) {
                pushed++;
                // Every 5th comes from a node in another process (its node kept, nodeOf not asked).
                if (pushed % 5 === 0) ring.pushFrom(1000 + (pushed % 7), pushed % 3 === 0 ? 'i' : 'X', pushed % 2, `e${pushed}`, pushed * 10, pushed);
                else ring.push(pushed % 3 === 0 ? 'i' : 'X', 1 + (pushed % 4), pushed % 2, `e${pushed}`, pushed * 10, pushed);
              }
              continue;
            }
            const b = ring.since(cursor, op.read, (pid) => pid * 100);
            const want = Math.min(pushed - cursor, capacity, op.read);
            expect(b.entries.length).toBe(want);
            expect(b.last).toBe(pushed);
            expect(b.skipped).toBe(pushed - cursor - want);
            b.entries.forEach((e, j) => {
              const seq = pushed - want + 1 + j;
              expect(e).toEqual({ seq, node: seq % 5 === 0 ? 1000 + (seq % 7) : (1 + (seq % 4)) * 100, core: seq % 2, ph: seq % 3 === 0 ? 'i' : 'X', name: `e${seq}`, tsNs: seq * 10, durNs: seq });
            });
            cursor = b.last;
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bad arguments are errors naming them', () => {
    expect(() => new TraceRing(0)).toThrow(/capacity must be an integer >= 1, got 0/);
    const r = new TraceRing(4);
    expect(() => r.since(-1, 5)).toThrow(/'after' must be an integer >= 0, got -1/);
    expect(() => r.since(0, 1.5)).toThrow(/'max' must be an integer >= 0, got 1.5/);
    expect(() => r.pushFrom(-1, 'i', 0, 'x', 0, 0)).toThrow(/node must be an integer >= 0, got -1/);
    expect(r.newest).toBe(0); // a refused event is not kept
  });
});

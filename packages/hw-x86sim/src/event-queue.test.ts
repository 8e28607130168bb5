import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue, type DeadlineEntry } from './event-queue.js';

describe('DeadlineQueue', () => {
  it('pops in (deadline, insertion) order under random inserts and cancels', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), deadline: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new DeadlineQueue();
        const live: { e: DeadlineEntry; deadline: number; order: number }[] = [];
        let order = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const id = order++;
            live.push({ e: q.push(o.deadline, () => id), deadline: o.deadline, order: id });
          } else if (live.length > 0) {
            const [victim] = live.splice(o.pick % live.length, 1);
            expect(q.cancel(victim.e)).toBe(true);
            expect(q.cancel(victim.e)).toBe(false);
          }
        }
        expect(q.size).toBe(live.length);
        live.sort((a, b) => a.deadline - b.deadline || a.order - b.order);
        const popped: number[] = [];
        for (;;) {
          const e = q.popDue(Infinity);
          if (!e) break;
          expect(e.pending).toBe(false);
          popped.push(e.fn() as unknown as number);
        }
        expect(popped).toEqual(live.map((l) => l.order));
      }),
    );
  });

  it('popDue only returns entries due by now; peekDeadline is Infinity when empty', () => {
    const q = new DeadlineQueue();
    expect(q.peekDeadline()).toBe(Infinity);
    q.push(10, () => {});
    q.push(5, () => {});
    expect(q.peekDeadline()).toBe(5);
    expect(q.popDue(4)).toBeUndefined();
    expect(q.popDue(5)?.deadlineNs).toBe(5);
    expect(q.popDue(9)).toBeUndefined();
    expect(q.popDue(10)?.deadlineNs).toBe(10);
  });

  it('arm re-queues an entry with a fresh sequence number', () => {
    const q = new DeadlineQueue();
    const a = q.push(5, () => {});
    const b = q.push(5, () => {});
    q.arm(a, 5); // now after b
    expect(q.size).toBe(2);
    expect(q.popDue(5)).toBe(b);
    expect(q.popDue(5)).toBe(a);
  });
});

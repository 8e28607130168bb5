import { afterEach, describe, expect, it, vi } from 'vitest';
import { IntrospectAsks } from './introspect-asks.js';
import type { AgentToNode } from './platform.js';

const data = (networkId: number, events: number) => ({ networkId, ebbs: [], events });

describe('IntrospectAsks', () => {
  afterEach(() => vi.useRealTimers());

  it('numbers each ask, passes traceAfter on, and matches answers by seq in any order', async () => {
    const sent: AgentToNode[] = [];
    const asks = new IntrospectAsks('node 3', (m) => sent.push(m));
    const a = asks.ask();
    const b = asks.ask({ traceAfter: 41 });
    expect(sent).toEqual([{ type: 'introspect', seq: 1 }, { type: 'introspect', seq: 2, traceAfter: 41 }]);
    asks.answer(2, data(3, 20));
    asks.answer(1, data(3, 10));
    asks.answer(1, data(3, 99)); // a repeat (or a late answer) is dropped
    asks.answer(7, data(3, 99)); // never asked
    expect(await a).toEqual(data(3, 10));
    expect(await b).toEqual(data(3, 20));
  });

  it('an unanswered ask rejects naming the node; the answer after that is dropped', async () => {
    vi.useFakeTimers();
    const asks = new IntrospectAsks('node 4 (slurm job 17)', () => undefined, 500);
    const p = asks.ask();
    const caught = p.catch((e: unknown) => e);
    vi.advanceTimersByTime(500);
    expect(((await caught) as Error).message).toBe('node 4 (slurm job 17) did not answer introspect within 500 ms');
    asks.answer(1, data(4, 1));
  });

  it("the node's death rejects every pending ask and every later one with its cause", async () => {
    const sent: AgentToNode[] = [];
    const asks = new IntrospectAsks('node 2', (m) => sent.push(m));
    const pending = [asks.ask(), asks.ask({ traceAfter: 0 })].map((p) => p.catch((e: unknown) => (e as Error).message));
    asks.fail(new Error('node 2 ended: CANCELLED'));
    expect(await Promise.all(pending)).toEqual(['node 2 ended: CANCELLED', 'node 2 ended: CANCELLED']);
    await expect(asks.ask()).rejects.toThrow('node 2 ended: CANCELLED');
    expect(sent).toHaveLength(2); // nothing is sent to a dead node
  });
});

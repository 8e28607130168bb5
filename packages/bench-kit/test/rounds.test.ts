import { describe, expect, it } from 'vitest';
import { hopChain, sampleRounds } from '../src/index.js';

describe('sampleRounds', () => {
  it('warms each case up once, then interleaves the rounds; samples by name in run order', async () => {
    const calls: string[] = [];
    let k = 0;
    const c = (name: string) => [name, async () => (calls.push(name), k++)] as const;
    const samples = await sampleRounds([c('a'), c('b'), c('c')], 2);
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    // The warm-up's results (0, 1, 2) are not samples.
    expect([...samples]).toEqual([['a', [3, 6]], ['b', [4, 7]], ['c', [5, 8]]]);
  });

  it('rejects a bad rep count and two cases of one name, naming them', async () => {
    const one = [['x', async () => 1]] as const;
    await expect(sampleRounds(one, 0)).rejects.toThrow(/reps .*got 0/);
    await expect(sampleRounds(one, 1.5)).rejects.toThrow(/reps .*got 1.5/);
    await expect(sampleRounds([...one, ...one], 1)).rejects.toThrow(/two cases are named 'x'/);
  });
});

describe('hopChain', () => {
  it('runs exactly n hops through the queue and reports per-hop times', async () => {
    let hops = 0;
    const s = await hopChain((fn) => (hops++, queueMicrotask(fn)), 1000);
    expect(hops).toBe(1000);
    expect(s.wallNs).toBeGreaterThanOrEqual(0);
    expect(s.cpuNs).toBeGreaterThanOrEqual(0);
    expect(() => hopChain(queueMicrotask, 0)).toThrow(/n must be .*got 0/);
  });
});

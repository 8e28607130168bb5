/**
 * The memcached checker's own parts: the reply parser gives the same replies however TCP splits
 * the stream, and the model agrees with the real store (driven in memory, no network) on a
 * seeded workload, and disagrees with a store whose cas is broken.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcachedService } from '../src/server/server.js';
import { StoreModel, type Op } from '../check/model.js';
import { plantBug } from '../check/planted.js';
import { ReplyParser } from '../check/replies.js';
import { encode, expectsValues, nextOp, Rng } from '../check/workload.js';
import { FakeClient } from './helpers.js';

describe('the reply parser', () => {
  const stream = 'STORED\r\nVALUE a 5 4\r\nab\r\n\r\nVALUE b 0 0 17\r\n\r\nEND\r\nNOT_FOUND\r\nEND\r\n12\r\n';
  const wants = [false, true, false, true, false];
  const want = [
    { kind: 'line', line: 'STORED' },
    { kind: 'values', values: [{ key: 'a', flags: 5, data: 'ab\r\n', cas: undefined }, { key: 'b', flags: 0, data: '', cas: '17' }] },
    { kind: 'line', line: 'NOT_FOUND' },
    { kind: 'values', values: [] },
    { kind: 'line', line: '12' },
  ];
  it('gives the same replies for any split of the stream', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
      const parser = new ReplyParser();
      const got: unknown[] = [];
      let from = 0;
      for (const cut of [...cuts.sort((a, b) => a - b), stream.length]) {
        got.push(...parser.push(stream.slice(from, cut), (i) => wants[got.length + i]!));
        from = cut;
      }
      expect(got).toEqual(want);
      expect(parser.pending).toBe(0);
    }));
  });
  it('reports a value block without its CR LF as malformed', () => {
    const [r] = new ReplyParser().push('VALUE a 0 2\r\nabXYEND\r\n', () => true);
    expect(r).toMatchObject({ kind: 'line', line: expect.stringMatching(/^MALFORMED/) });
  });
});

/** Runs `ops` through a real MemcachedService in memory; returns the first disagreement with the model. */
function disagreement(service: MemcachedService, ops: Op[]): string | undefined {
  const client = new FakeClient(service);
  const model = new StoreModel();
  const parser = new ReplyParser();
  let seen = 0;
  for (const op of ops) {
    client.feed(encode(op, op.kind === 'cas' ? model.casFor(op) : ''));
    const all = client.text();
    const text = all.slice(seen);
    seen = all.length;
    const replies = parser.push(text, () => expectsValues(op));
    if (replies.length !== 1) return `${replies.length} replies to one request`;
    const why = model.apply(op, replies[0]!);
    if (why !== undefined) return why;
  }
  return undefined;
}

describe('the store model', () => {
  const workload = (seed: number): Op[] => {
    const rng = new Rng(seed);
    return Array.from({ length: 300 }, () => nextOp(rng, ['a', 'b', 'c', 'd']));
  };
  it('agrees with the real store, reply for reply', () => {
    fc.assert(fc.property(fc.nat(), (seed) => {
      expect(disagreement(new MemcachedService({ nowMs: () => 1_000 }), workload(seed))).toBeUndefined();
    }), { numRuns: 30 });
  });
  it('catches a store that ignores cas uniques', () => {
    const service = new MemcachedService({ nowMs: () => 1_000 });
    plantBug(service.store, 'cas-ignored');
    expect(disagreement(service, workload(1))).toMatch(/expected EXISTS, got "STORED"/);
  });
});

/**
 * The trace panel's one timeline: messages of rows in stream order, some of them (a remote node's)
 * a refresh late with earlier times, always end up ordered by time (seq breaking ties), each row
 * once, the newest `keep` by time kept. And the page really embeds this function.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeTraceRows, type TraceRow } from './trace-order.js';
import { dashboardPage } from './node/page.js';

const byTime = (a: TraceRow, b: TraceRow): number => a[5] - b[5] || a[0] - b[0];

describe('mergeTraceRows', () => {
  it('keeps the newest `keep` rows of everything sent, ordered by time then seq, each once', () => {
    fc.assert(
      fc.property(
        // Each message: rows with times anywhere (remote nodes' late rows are earlier than local ones already shown).
        fc.array(fc.array(fc.record({ node: fc.constantFrom<number | string | null>(1, 2, 'gateway', null), ts: fc.integer({ min: 0, max: 50 }) }), { maxLength: 20 }), { maxLength: 15 }),
        fc.integer({ min: 1, max: 40 }),
        (messages, keep) => {
          let kept: TraceRow[] = [];
          const sent: TraceRow[] = [];
          let seq = 0;
          for (const m of messages) {
            const rows = m.map((r): TraceRow => [++seq, r.node, 0, 'i', `e${seq}`, r.ts, 0]);
            sent.push(...rows);
            kept = mergeTraceRows(kept, rows, keep);
            expect(kept).toEqual([...sent].sort(byTime).slice(-keep));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a remote node's late rows land among the earlier local ones, not after them", () => {
    const local: TraceRow[] = [[1, 'gateway', 0, 'X', 'slice', 100, 5], [2, 'gateway', 0, 'X', 'slice', 300, 5]];
    const late: TraceRow[] = [[3, 2, 1, 'X', 'slice', 200, 5], [4, 2, 0, 'i', 'rx', 50, 0]];
    expect(mergeTraceRows(mergeTraceRows([], local, 10), late, 10).map((r) => r[0])).toEqual([4, 1, 3, 2]);
  });

  it('is what the dashboard page runs', () => {
    const page = dashboardPage('t', true);
    expect(page).toContain(mergeTraceRows.toString());
    expect(page).toContain('trace = mergeTraceRows(trace, m.trace.entries, KEEP)');
  });
});

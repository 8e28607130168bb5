/**
 * The page's trace rows on one timeline. Rows reach the page in stream order, and a remote node's
 * rows come a refresh late (with its introspect answer, already moved onto the front-end's clock),
 * so the page merges each message's rows into what it keeps, ordered by time, the stream's seq
 * breaking ties.
 *
 * `mergeTraceRows` runs inside the page: the dashboard page embeds its source
 * (`mergeTraceRows.toString()`), so it must stay self-contained (no imports, no helpers, no
 * named inner functions: a transpiler could wrap those in a helper the page does not have).
 */

/** A trace row as the SSE stream sends it: [seq, node (an id, or a machine's name), core, ph, name, tsNs, durNs]. */
export type TraceRow = [number, number | string | null, number, string, string, number, number];

/** `kept` (ordered by time, then seq) with `incoming` merged in; the newest `keep` by time. */
export function mergeTraceRows(kept: TraceRow[], incoming: TraceRow[], keep: number): TraceRow[] {
  if (incoming.length === 0) return kept;
  const all = kept.concat(incoming);
  all.sort((a, b) => a[5] - b[5] || a[0] - b[0]);
  return all.length > keep ? all.slice(all.length - keep) : all;
}

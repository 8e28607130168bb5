import type { Invariants } from '@ebbrt/runtime';

/**
 * What must hold at the end of every run, whatever the faults: checked by `ebbrt test` at
 * quiescence, in this order; the first that fails is the seed's failure.
 */
export const invariants: Invariants = {
  'the client finished': ({ lines }) => lines.some((l) => l.includes('client done')) || 'no "client done" line',
  // A server that crashed and restarted holds only what its last life applied: compare with
  // what that boot acked (with no restart, one boot acked everything).
  'every add is applied exactly once': ({ lines }) => {
    const server = /server total (\d+) boot (\d+)/.exec(lines.findLast((l) => l.includes('server total')) ?? '');
    if (server === null) return 'no "server total" line';
    const acked = lines.map((l) => /client acked (\d+) to server boot (\d+)/.exec(l)).find((m) => m?.[2] === server[2])?.[1] ?? '0';
    return acked === server[1] || `the client's adds acked by server boot ${server[2]} sum to ${acked}, the server holds ${server[1]}`;
  },
  'reads see every acked add': ({ lines }) => {
    for (const l of lines) {
      const m = /read (\d+) after acked total (\d+)/.exec(l);
      if (m !== null && m[1] !== m[2]) return `stale read: ${m[1]} after the adds acked summed to ${m[2]}`;
    }
    return true;
  },
  'no request fails after its reply': ({ lines }) => {
    const late = lines.find((l) => / failed: timed out/.test(l));
    return late === undefined || late;
  },
};

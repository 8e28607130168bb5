import type { Invariants } from '@ebbrt/runtime';

/**
 * What must hold at the end of every run, whatever the faults: checked by `ebbrt test` at
 * quiescence, in this order; the first that fails is the seed's failure.
 */
export const invariants: Invariants = {
  'the client finished': ({ lines }) => lines.some((l) => l.includes('client done')) || 'no "client done" line',
  'every add is applied exactly once': ({ lines }) => {
    const acked = /client done acked total (\d+)/.exec(lines.find((l) => l.includes('client done')) ?? '')?.[1];
    const server = /server total (\d+)/.exec(lines.find((l) => l.includes('server total')) ?? '')?.[1];
    return acked === server || `the client's acked adds sum to ${acked}, the server holds ${server}`;
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

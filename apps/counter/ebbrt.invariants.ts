import type { Invariants } from '@ebbrt/runtime';

/**
 * What the distributed counter must show at the end of every run, whatever the faults:
 * `ebbrt test` checks these at quiescence, in order; the first that fails is the seed's failure.
 */
const driverDone = (lines: readonly string[]): string | undefined => lines.find((l) => l.includes('driver done'));

export const invariants: Invariants = {
  'the driver finished (no hang at quiescence)': ({ lines }) => driverDone(lines) !== undefined || 'no "driver done" line: the run went quiet with requests unanswered',
  'each node total is exactly its acked adds (no lost update)': ({ lines }) => {
    for (const [, node, acked] of driverDone(lines)!.matchAll(/node (\d+) acked (\d+)/g)) {
      const total = lines.map((l) => new RegExp(`node ${node} total (\\d+) `).exec(l)?.[1]).find((t) => t !== undefined);
      if (total !== acked) return `node ${node} holds ${total ?? 'nothing'}, the driver's acked adds to it sum to ${acked}`;
    }
    return true;
  },
  'each add is applied once': ({ lines }) => {
    for (const [, node, adds] of driverDone(lines)!.matchAll(/node (\d+) acked \d+ adds (\d+)/g)) {
      const applied = lines.map((l) => new RegExp(`node ${node} total \\d+ applied (\\d+)`).exec(l)?.[1]).find((t) => t !== undefined);
      if (applied !== adds) return `node ${node} applied ${applied} adds, the driver sent ${adds}`;
    }
    return true;
  },
  "each node's checkpoint in the GlobalIdMap is its total (nothing acked is lost to a refused or delayed set)": ({ lines }) => {
    for (const [, node, acked] of driverDone(lines)!.matchAll(/node (\d+) acked (\d+)/g)) {
      const saved = lines.map((l) => new RegExp(`checkpoint node ${node} sum (\\d+)`).exec(l)?.[1]).find((t) => t !== undefined);
      if (saved !== acked) return `node ${node}'s checkpoints sum to ${saved ?? 'nothing'}, the driver's acked adds to it sum to ${acked}`;
    }
    return true;
  },
  "each node's journal file holds every acked add, once (nothing acked is lost to a refused or delayed append)": ({ lines }) => {
    for (const [, node, acked, adds] of driverDone(lines)!.matchAll(/node (\d+) acked (\d+) adds (\d+)/g)) {
      const m = lines.map((l) => new RegExp(`journal node ${node} sum (\\d+) distinct (\\d+)`).exec(l)).find((x) => x !== null);
      if (m === undefined) return `node ${node}'s journal was not read`;
      if (m[1] !== acked || m[2] !== adds) return `node ${node}'s journal holds ${m[2]} adds summing to ${m[1]}, the driver's ${adds} acked adds to it sum to ${acked}`;
    }
    return true;
  },
  'a read sees every acked add and nothing unsent': ({ lines }) => {
    for (const l of lines) {
      const m = /read node (\d+) value (\d+) acked (\d+) sent (\d+)/.exec(l);
      if (m !== null && (Number(m[2]) < Number(m[3]) || Number(m[2]) > Number(m[4]))) return `node ${m[1]} read ${m[2]}, outside [acked ${m[3]}, sent ${m[4]}]`;
    }
    return true;
  },
};

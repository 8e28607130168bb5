import type { Invariants } from '@ebbrt/runtime';

/**
 * What the memcached checker (check/) must see at the end of every run, whatever the faults;
 * `ebbrt test` checks these at quiescence, in order, and the first that fails is the seed's failure.
 */
const done = (lines: readonly string[]) => /memcheck done: (\d+) requests, (\d+) wrong replies, (\d+) keys read back, (\d+) lost/.exec(lines.find((l) => l.includes('memcheck done')) ?? '');

export const invariants: Invariants = {
  'no connection drops (TCP hides every fault)': ({ lines }) => lines.find((l) => / memcheck: .*(aborted|closed the connection|nobody asked for)/.test(l)) ?? true,
  'the client finished (no hang at quiescence)': ({ lines }) => done(lines) !== null || 'no "memcheck done" line: the run went quiet with requests unanswered',
  'every reply matches the model of the store': ({ lines }) => lines.find((l) => l.includes('memcheck: wrong reply')) ?? true,
  'no acknowledged write is lost': ({ lines }) => lines.find((l) => l.includes('memcheck: lost write')) ?? (done(lines)?.[4] === '0' || 'lost writes'),
};

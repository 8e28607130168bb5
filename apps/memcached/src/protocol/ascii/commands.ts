import { ascii } from '../bytes.js';

/** ASCII command ids. */
export const Cmd = {
  Unknown: 0,
  Get: 1,
  Gets: 2,
  Gat: 3,
  Gats: 4,
  Set: 5,
  Add: 6,
  Replace: 7,
  Append: 8,
  Prepend: 9,
  Cas: 10,
  Delete: 11,
  Incr: 12,
  Decr: 13,
  Touch: 14,
  FlushAll: 15,
  Version: 16,
  Verbosity: 17,
  Stats: 18,
  Quit: 19,
} as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

// Immutable lookup table: [bytes, id], probed by length first.
const TABLE: ReadonlyArray<readonly [Uint8Array, Cmd]> = (
  [
    ['get', Cmd.Get],
    ['gets', Cmd.Gets],
    ['gat', Cmd.Gat],
    ['gats', Cmd.Gats],
    ['set', Cmd.Set],
    ['add', Cmd.Add],
    ['replace', Cmd.Replace],
    ['append', Cmd.Append],
    ['prepend', Cmd.Prepend],
    ['cas', Cmd.Cas],
    ['delete', Cmd.Delete],
    ['incr', Cmd.Incr],
    ['decr', Cmd.Decr],
    ['touch', Cmd.Touch],
    ['flush_all', Cmd.FlushAll],
    ['version', Cmd.Version],
    ['verbosity', Cmd.Verbosity],
    ['stats', Cmd.Stats],
    ['quit', Cmd.Quit],
  ] as const
).map(([word, id]) => [ascii(word), id] as const);

/** The command named by `bytes[start, end)`. */
export function lookupCommand(bytes: Uint8Array, start: number, end: number): Cmd {
  const n = end - start;
  outer: for (let t = 0; t < TABLE.length; t++) {
    const word = TABLE[t][0];
    if (word.length !== n) continue;
    for (let i = 0; i < n; i++) if (bytes[start + i] !== word[i]) continue outer;
    return TABLE[t][1];
  }
  return Cmd.Unknown;
}

export const NOREPLY = ascii('noreply');
export const ZERO = ascii('0');

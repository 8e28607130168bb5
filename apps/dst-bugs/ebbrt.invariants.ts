import type { Invariants } from '@ebbrt/runtime';

/**
 * What must hold at the end of every run, whatever the faults: checked by `ebbrt test` at
 * quiescence, in this order; the first that fails is the seed's failure.
 */
export const invariants: Invariants = {
  'the client finished': ({ lines }) => lines.some((l) => l.includes('client done')) || 'no "client done" line',
  // A server that crashed and restarted holds only what its last life applied: compare with
  // what that boot acked (with no restart, one boot acked everything). A client that crashed
  // and restarted (a run crashes one node, so the server kept its state) leaves the adds its
  // earlier lives had acked, and perhaps the one add each had in flight: the server holds
  // between those and those plus the in-flight ones, on top of what the last life acked.
  'every add is applied exactly once': ({ lines }) => {
    const server = /server total (\d+) boot (\d+)/.exec(lines.findLast((l) => l.includes('server total')) ?? '');
    if (server === null) return 'no "server total" line';
    const acked = Number(lines.map((l) => /client acked (\d+) to server boot (\d+)/.exec(l)).findLast((m) => m?.[2] === server[2])?.[1] ?? '0');
    const held = Number(server[1]);
    const lives = clientLives(lines);
    if (lives.length <= 1) return acked === held || `the client's adds acked by server boot ${server[2]} sum to ${acked}, the server holds ${held}`;
    const earlier = lives.slice(0, -1);
    const low = acked + earlier.reduce((a, l) => a + l.acked, 0);
    const high = low + earlier.reduce((a, l) => a + l.inFlight, 0);
    return (held >= low && held <= high) || `over ${lives.length} client lives the adds acked sum to ${low} (${high - low} more were in flight at a crash), the server holds ${held}`;
  },
  'reads see every acked add': ({ lines }) => {
    for (const l of lines) {
      const m = /read (\d+) after acked total (\d+)/.exec(l);
      if (m !== null && Number(m[1]) < Number(m[2])) return `stale read: ${m[1]} after the adds acked summed to ${m[2]}`;
    }
    return true;
  },
  'no request fails after its reply': ({ lines }) => {
    const late = lines.find((l) => / failed: timed out/.test(l));
    return late === undefined || late;
  },
};

/** Each life of the client (from its `client up` line): the adds it had acked and the one in flight. */
function clientLives(lines: readonly string[]): { acked: number; inFlight: number }[] {
  const lives: { acked: number; inFlight: number }[] = [];
  for (const l of lines) {
    if (l.includes('client up session')) lives.push({ acked: 0, inFlight: 1 });
    const m = /acked add (\d+) \(/.exec(l);
    const life = lives.at(-1);
    if (m !== null && life !== undefined) {
      life.acked += Number(m[1]);
      // The adder is sequential: the next add (if any) is the one a crash can catch in flight.
      life.inFlight = Number(m[1]) < 30 ? Number(m[1]) + 1 : 0;
    }
  }
  return lives;
}

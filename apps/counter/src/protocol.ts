import { staticEbbId } from '@ebbrt/core-translation';
import type { IOBuf } from '@ebbrt/interfaces';

/** The counter's Messenger address: the same Ebb id on every node. */
export const COUNTER = staticEbbId('app.counter');
/** Node 1 drives; nodes 2 and 3 each hold a counter. */
export const DRIVER = 1;
export const COUNTER_NODES = [2, 3] as const;

/** The planted bug; `--planted-bug <name>` in the config's args switches it on. */
export type Bug = 'lost-update' | 'stale-checkpoint' | 'lost-journal' | 'none';

export function bugOf(args: readonly string[]): Bug {
  const i = args.indexOf('--planted-bug');
  if (i < 0) return 'none';
  const bug = args[i + 1];
  if (bug !== 'lost-update' && bug !== 'stale-checkpoint' && bug !== 'lost-journal') throw new Error(`--planted-bug must be lost-update, stale-checkpoint or lost-journal, got "${bug ?? ''}"`);
  return bug;
}

/** One decoder for every message: making one per message cost ~1 ms in a run of 200 messages. */
const DECODER = new TextDecoder();

export const text = (message: IOBuf): string => {
  const s = DECODER.decode(message.toUint8Array());
  message.releaseChain();
  return s;
};

import { staticEbbId } from '@ebbrt/core-translation';
import { IOBuf } from '@ebbrt/interfaces';

/** The counter service's Messenger address (the same Ebb id on both nodes). */
export const COUNTER = staticEbbId('app.dst-bugs.counter');
export const CLIENT = 1;
export const SERVER = 2;

/** The planted bugs; `--bug NAME` in the config's args switches one on. */
export type Bug = 'retry' | 'stale-read' | 'late-timeout' | 'none';

export function bugOf(args: readonly string[]): Bug {
  const i = args.indexOf('--bug');
  const bug = i < 0 ? 'none' : args[i + 1];
  if (bug !== 'retry' && bug !== 'stale-read' && bug !== 'late-timeout' && bug !== 'none') throw new Error(`--bug must be retry, stale-read, late-timeout or none, got "${bug}"`);
  return bug;
}

/**
 * `--announce`: the server tells the client it is up at each boot (unasked), so a restarted
 * server opens the connection to the client itself, while the client may still hold one to the
 * server's previous life.
 */
export const announces = (args: readonly string[]): boolean => args.includes('--announce');

export const text = (message: IOBuf): string => {
  const s = new TextDecoder().decode(message.toUint8Array());
  message.releaseChain();
  return s;
};

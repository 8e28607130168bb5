import { EbbIdRanges, type EbbId } from '@ebbrt/interfaces';

const STATIC_COUNT = EbbIdRanges.lastStaticUser - EbbIdRanges.firstStaticUser + 1;

/**
 * A static user EbbId derived from a name (FNV-1a), so every node computes the
 * same id for the same name with no coordination. Two names may hash alike; a
 * node detects that when the second one is installed (see NodeContext.install).
 */
export function staticEbbId(name: string): EbbId {
  if (name.length === 0) throw new RangeError('staticEbbId: the name must not be empty');
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return EbbIdRanges.firstStaticUser + (h % STATIC_COUNT);
}

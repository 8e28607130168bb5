/**
 * Store bugs planted on purpose (`args: ['--planted-bug', NAME]`), each the kind a real store
 * could ship, to show that the checker's model catches them:
 * - `cas-ignored`: a cas on an existing item stores whatever its unique (a lost update: the
 *   stale writer wins);
 * - `lost-delete`: every third delete answers DELETED but keeps the item.
 */
import { StoreMode, type MemcachedStore } from '../src/store/index.js';

export const PLANTED_BUGS = ['cas-ignored', 'lost-delete'] as const;
export type PlantedBug = (typeof PLANTED_BUGS)[number];

export function plantedBugOf(args: readonly string[]): PlantedBug | undefined {
  const i = args.indexOf('--planted-bug');
  if (i < 0) return undefined;
  const name = args[i + 1];
  const bug = PLANTED_BUGS.find((b) => b === name);
  if (bug === undefined) throw new Error(`--planted-bug must be one of ${PLANTED_BUGS.join(', ')}, got "${name ?? ''}"`);
  return bug;
}

export function plantBug(store: MemcachedStore, bug: PlantedBug): void {
  if (bug === 'cas-ignored') {
    const store0 = store.store.bind(store);
    store.store = (mode, key, value, length, flags, exptime, cas) =>
      mode === StoreMode.Cas && store.peek(key) !== undefined ? store0(StoreMode.Set, key, value, length, flags, exptime, 0) : store0(mode, key, value, length, flags, exptime, cas);
  } else {
    const delete0 = store.delete.bind(store);
    let deletes = 0;
    store.delete = (key) => (++deletes % 3 === 0 && store.peek(key) !== undefined ? true : delete0(key));
  }
}

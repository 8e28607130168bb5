import { NoCurrentCoreError } from '@ebbrt/interfaces';
import type { CoreContext } from './core-context.js';
import type { NodeContext } from './node-context.js';

/**
 * The one process-wide mutable cell in the framework: which core is executing
 * right now. It models x86's %gs base, which EbbRT uses to find per-core data.
 * A JavaScript thread runs one thing at a time, so exactly one core can be
 * current; the event loops (and only they) write it when they enter a core.
 * Nodes and Ebbs keep all their state in their own objects, so many nodes live
 * in one process. The cell sits on `globalThis` under a registered symbol so that
 * two copies of this package (a dual-install) still agree on it.
 */
export interface CpuRegister {
  current: CoreContext | undefined;
}

/** Something that caches a translation for one core only (an EbbRef). */
export interface CoreCache {
  /** Drops what was cached: the core it was for stopped being current. */
  forgetCore(): void;
}

/**
 * The bookkeeping behind EbbRef's inline (core, rep) cache: the core the cached
 * translations are for, and the refs holding one. Whenever a different core (or
 * none) becomes current through `setCurrentCore`/`runOnCore`, every listed ref
 * forgets. So the only translations cached in refs are those of the core that
 * is running (or ran last): that cache is the current core's, kept where deref
 * reads it in one compare. A core that was left is not reachable through any ref, module-level
 * refs included, and no ref carries one node's rep to another.
 *
 * Every write of the register goes through `setCurrentCore` (it is the
 * `current` setter too), so a ref that holds a rep is listed here and the list is
 * the current core's: that invariant is what lets deref's hit path test only its
 * own cached rep, without reading the register.
 */
interface RefCacheList {
  cachedFor: CoreContext | undefined;
  caches: (CoreCache | undefined)[];
  cached: number;
}

const KEY = Symbol.for('@ebbrt/core-translation/cpu');
const LIST_KEY = Symbol.for('@ebbrt/core-translation/ref-caches');
/** Where the register keeps the core behind its `current` accessor (shared by every copy of this package). */
const CORE_KEY = Symbol.for('@ebbrt/core-translation/cpu-core');
type Register = CpuRegister & { [CORE_KEY]?: CoreContext | undefined };
type WithCpu = typeof globalThis & { [KEY]?: Register; [LIST_KEY]?: RefCacheList };

const list: RefCacheList = ((globalThis as WithCpu)[LIST_KEY] ??= { cachedFor: undefined, caches: [], cached: 0 });

/**
 * Gives the register a `current` accessor whose setter is `setCurrentCore`, so no write to the
 * register can skip clearing the refs' caches: EbbRef's hit path trusts that a cached rep belongs
 * to the current core and does not read the register at all. A register made by an older copy of
 * this package (a plain data property) is converted in place, keeping its value.
 */
function withAccessor(reg: Register): Register {
  const desc = Object.getOwnPropertyDescriptor(reg, 'current');
  if (desc?.set !== undefined) return reg;
  reg[CORE_KEY] = desc?.value as CoreContext | undefined;
  Object.defineProperty(reg, 'current', {
    get(this: Register) {
      return this[CORE_KEY];
    },
    set(core: CoreContext | undefined) {
      setCurrentCore(core);
    },
    enumerable: true,
    configurable: true,
  });
  return reg;
}

/**
 * Which core is current. Enter a core with `runOnCore` or `setCurrentCore`; writing `current`
 * does the same as `setCurrentCore`.
 */
export const cpu: CpuRegister = withAccessor(((globalThis as WithCpu)[KEY] ??= {} as Register));
const register = cpu as Register;

/** Makes every cached translation in refs forget its core. */
export function forgetCachedTranslations(): void {
  const caches = list.caches;
  for (let i = 0; i < list.cached; i++) {
    caches[i]!.forgetCore();
    caches[i] = undefined;
  }
  list.cached = 0;
  list.cachedFor = undefined;
}

/**
 * Bound on the list: a core that is never left (a hosted front-end) and a program that makes a
 * fresh ref per call would otherwise grow it forever. Past it, the next core entry makes every ref
 * forget (each re-misses once).
 */
const MAX_CACHED = 4096;

/**
 * A ref caches a translation for `core` (the current core). Only stores: a branch that can clear
 * the list here, on the miss path, measurably slows every deref's hit path (V8 inlines it into
 * the caller's loop); the clearing happens in `setCurrentCore`, on core entry.
 */
export function cacheForCore(cache: CoreCache, core: CoreContext): void {
  list.cachedFor = core;
  list.caches[list.cached++] = cache;
}

/**
 * Makes `core` current (undefined: none), as an event loop does on entering or
 * leaving a core. Leaving the core that refs cached translations for clears them,
 * so nothing outside its node keeps that node reachable.
 */
export function setCurrentCore(core: CoreContext | undefined): void {
  register[CORE_KEY] = core;
  if (list.cached !== 0 && (list.cachedFor !== core || list.cached >= MAX_CACHED)) forgetCachedTranslations();
}

/** The core executing now; throws if called outside any event. */
export function currentCore(): CoreContext {
  const core = cpu.current;
  if (core === undefined) throw new NoCurrentCoreError(0);
  return core;
}

/** The node of the core executing now. */
export function currentNode(): NodeContext {
  return currentCore().node;
}

/**
 * Runs `fn` with `core` current, restoring the previous core afterwards. Event
 * loops use it to enter a core; tests use it to act as a core. Continuations
 * after an `await` inside `fn` are not covered: only a scheduler that drains
 * microtasks before leaving the core keeps those on it.
 */
export function runOnCore<R>(core: CoreContext, fn: () => R): R {
  const previous = cpu.current;
  setCurrentCore(core);
  try {
    return fn();
  } finally {
    setCurrentCore(previous);
  }
}

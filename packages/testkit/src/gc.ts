/**
 * Garbage-collection helpers for tests that show something is (or is not) kept alive. They need
 * `gc` exposed: vitest.config.ts passes `--expose-gc` to its forks, `node --expose-gc` elsewhere.
 */

/** The V8 `gc()` function, or an error saying how to get it. */
export function exposedGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('gc() is not exposed: run node with --expose-gc (vitest.config.ts passes it to the test forks)');
  return gc;
}

const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * Collects until `done()` holds, at most `rounds` times. Each round starts in a fresh task: a
 * WeakRef's target stays alive until the end of the job that created or dereferenced it, so a
 * gc() in the same job as a `done()` check could never clear it. FinalizationRegistry callbacks
 * and cleared WeakRefs show only a task turn after gc(), hence the second turn.
 * Returns how many rounds it took, or -1 if `done()` never held.
 */
export async function collectUntil(done: () => boolean, rounds = 30): Promise<number> {
  const gc = exposedGc();
  for (let i = 1; i <= rounds; i++) {
    await turn();
    gc();
    await turn();
    if (done()) return i;
  }
  return -1;
}

/** WeakRefs to `targets` by name, and which of them are still alive. */
export class Liveness {
  private readonly refs = new Map<string, WeakRef<object>>();

  watch(name: string, target: object): void {
    this.refs.set(name, new WeakRef(target));
  }

  alive(): string[] {
    return [...this.refs].filter(([, r]) => r.deref() !== undefined).map(([name]) => name);
  }
}

/**
 * Modules imported (and what was made of them: a validated manifest, an entry's main) by key,
 * for as long as its owner keeps it: one run by default, or all the seeds a seed runner runs.
 * Node keeps every imported module for the life of the process anyway, so this changes nothing a
 * caller sees; but each `import()` still crosses a TypeScript loader's hooks (a thread hop, about
 * a millisecond), which a seed search would pay for every module of every seed. An owner holds
 * one; nothing here is shared between owners. A failed load is not kept (the file may be fixed).
 */
export class ModuleCache {
  private readonly loads = new Map<string, Promise<unknown>>();
  private readonly files = new Map<string, string>();

  /**
   * `resolve()`'s answer, found once per key. Resolving a package reads its package.json and, under
   * a TypeScript loader, `require.resolve` is a synchronous round trip to the loader's thread: a
   * seed search would pay it for every Ebb of every node of every seed. A throw is not kept.
   */
  resolved(key: string, resolve: () => string): string {
    let file = this.files.get(key);
    if (file === undefined) {
      file = resolve();
      this.files.set(key, file);
    }
    return file;
  }

  /** `load()`'s promise, made once per key. */
  once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let loading = this.loads.get(key) as Promise<T> | undefined;
    if (loading === undefined) {
      loading = load();
      this.loads.set(key, loading);
      loading.catch(() => this.loads.delete(key));
    }
    return loading;
  }
}

/** `load()` through `cache` when there is one, else straight. */
export function loadOnce<T>(cache: ModuleCache | undefined, key: string, load: () => Promise<T>): Promise<T> {
  return cache === undefined ? load() : cache.once(key, load);
}

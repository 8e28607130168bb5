/**
 * The namespaces this process imported, by URL. Node keeps every module it imported for the life
 * of the process under its URL, so a second `import(url)` can only give the same namespace (or the
 * same evaluation error): this table hands it back without the import. Under a TypeScript loader
 * (tsx, `pnpm ebbrt`, the benches) each `import()` crosses the loader's hooks on their own thread,
 * about a millisecond of waiting per module, so a warm boot paid more for re-importing its ~15
 * modules than for building its node. It keeps nothing Node does not keep anyway. A failed import
 * is not kept (a missing file may be created, as Node would then load it).
 */
const imported = new Map<string, Promise<unknown>>();

/** `import(url)`, once per process (see `imported`). */
export function importUrl<T>(url: string): Promise<T> {
  let loading = imported.get(url) as Promise<T> | undefined;
  if (loading === undefined) {
    loading = import(url) as Promise<T>;
    imported.set(url, loading);
    loading.catch(() => imported.delete(url));
  }
  return loading;
}

/**
 * Resolved module URLs by key (specifier, app directory, bases, source or built), for the process.
 * Resolving reads the package's package.json and, under a TypeScript loader, `require.resolve` is a
 * synchronous round trip to the loader's thread: ~15 of them were 3.2 ms of a 5 ms warm boot
 * (profile of 300 warm `runApp`s). Node itself keeps its resolutions (and the modules they lead to)
 * for the life of the process, so an answer kept here is one Node would give again; a throw is not
 * kept (the package may be installed or built later).
 */
const resolvedUrls = new Map<string, string>();

/** `resolve()`'s answer for `key`, found once per process (see `resolvedUrls`). */
export function resolveOnce(key: string, resolve: () => string): string {
  let url = resolvedUrls.get(key);
  if (url === undefined) {
    url = resolve();
    resolvedUrls.set(key, url);
  }
  return url;
}

/**
 * What was made of imported modules (a validated manifest, say) by key, for as long as its owner
 * keeps it: one run by default, or all the seeds a seed runner runs. An owner holds one; nothing
 * here is shared between owners. A failed load is not kept (the file may be fixed).
 */
export class ModuleCache {
  private readonly loads = new Map<string, Promise<unknown>>();

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

import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, extname } from 'node:path';
import vm from 'node:vm';
import { UnsupportedApiError } from '../host.js';
import { builtinName } from './builtins.js';

/** A module as the app's code sees it (`module`). */
export interface AppModule {
  id: string;
  filename: string;
  path: string;
  exports: unknown;
  loaded: boolean;
  parent: AppModule | null | undefined;
  children: AppModule[];
  paths: string[];
  require: AppRequire;
}

export interface AppRequire {
  (request: string): unknown;
  resolve: ((request: string, options?: { paths?: string[] }) => string) & { paths(request: string): string[] | null };
  cache: Record<string, AppModule>;
  main: AppModule | undefined;
  extensions: Record<string, unknown>;
}

/** The names every module body is compiled with: CommonJS's five, then the app's globals. */
export const WRAPPER_GLOBALS = [
  'process',
  'console',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'Date',
  'Math',
  'performance',
  'crypto',
  'fetch',
  'global',
  'globalThis',
] as const;

export type AppGlobals = Record<(typeof WRAPPER_GLOBALS)[number], unknown>;

/**
 * One app's CommonJS loader, on one node. Files are found exactly as Node finds them (Node's own
 * resolver: node_modules, package.json `main` and `exports` with the require condition), but each
 * is compiled and evaluated again for this loader with its own cache, so two nodes in one process
 * share no module instance. A module's free references to the globals in {@link WRAPPER_GLOBALS}
 * are this app's (they are parameters of the module's function), and builtins come from `builtin`.
 * Module sources are read from the host's disk: they are the node's program image, loaded as the
 * runtime loads the entry module, not files the app opens (those go to the FileSystem Ebb).
 */
export class CjsLoader {
  readonly cache: Record<string, AppModule> = Object.create(null) as Record<string, AppModule>;
  main: AppModule | undefined;

  constructor(
    private readonly builtin: (name: string) => unknown,
    private readonly globals: AppGlobals,
  ) {}

  /** `require(file)` by absolute path from no parent (what an ES module's import of a CommonJS file does). */
  requireFile(file: string): unknown {
    return this.cache[file]?.exports ?? this.load(file, null, false).exports;
  }

  /** Loads `file` as the main module (`require.main`). */
  runMain(file: string): unknown {
    const m = this.load(file, null, true);
    return m.exports;
  }

  private resolve(request: string, parent: string | null): string {
    const from = parent ?? process.cwd() + '/';
    return createRequire(from).resolve(request);
  }

  requireFrom(parent: AppModule | null, request: string): unknown {
    if (typeof request !== 'string' || request === '') {
      throw Object.assign(new TypeError(`The "id" argument must be a non-empty string. Received ${JSON.stringify(request)}`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    const name = builtinName(request);
    if (name !== undefined) return this.builtin(name);
    const file = this.resolve(request, parent?.filename ?? null);
    const cached = this.cache[file];
    if (cached !== undefined) {
      if (parent !== null && !parent.children.includes(cached)) parent.children.push(cached);
      return cached.exports;
    }
    return this.load(file, parent).exports;
  }

  private load(file: string, parent: AppModule | null, main = false): AppModule {
    const module: AppModule = {
      id: main ? '.' : file,
      filename: file,
      path: dirname(file),
      exports: {},
      loaded: false,
      parent,
      children: [],
      paths: (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(dirname(file)),
      require: undefined as unknown as AppRequire,
    };
    module.require = this.makeRequire(module);
    if (main) this.main = module;
    this.cache[file] = module;
    parent?.children.push(module);
    try {
      this.evaluate(module);
    } catch (e) {
      delete this.cache[file];
      throw e;
    }
    module.loaded = true;
    return module;
  }

  private evaluate(module: AppModule): void {
    const file = module.filename;
    const ext = extname(file);
    if (ext === '.node') throw new UnsupportedApiError(`require(${JSON.stringify(file)})`, 'native addons (.node) cannot run on a back-end node');
    const source = readFileSync(file, 'utf8');
    if (ext === '.json') {
      try {
        module.exports = JSON.parse(stripBom(source));
      } catch (e) {
        (e as Error).message = `${file}: ${(e as Error).message}`;
        throw e;
      }
      return;
    }
    if (ext === '.mjs' || (ext === '.js' && this.isModuleType(file))) {
      // require(esm), as Node 20.19 does it (a package's "module-sync" export): the host loads the
      // module, so it is the host's instance with the host's builtins. Packages that ship such a
      // file do so for pure helpers; an app's own ESM goes through the ESM loader instead.
      module.exports = createRequire(file)(file);
      return;
    }
    // The app's globals are an outer scope (a module may declare its own `performance`), the
    // CommonJS wrapper the inner function; both open on the source's first line, so stack traces
    // keep the file's line numbers.
    const outer = vm.compileFunction(`return function (exports, require, module, __filename, __dirname) {${stripShebang(stripBom(source))}\n}`, [...WRAPPER_GLOBALS], {
      filename: file,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    } as vm.CompileFunctionOptions);
    const g = this.globals;
    const fn = outer(...WRAPPER_GLOBALS.map((k) => g[k])) as (...args: unknown[]) => void;
    fn.call(module.exports, module.exports, module.require, module, file, dirname(file));
  }

  private makeRequire(module: AppModule): AppRequire {
    const require = ((request: string) => this.requireFrom(module, request)) as AppRequire;
    const resolve = ((request: string, options?: { paths?: string[] }) => {
      if (builtinName(request) !== undefined) return request;
      if (options?.paths !== undefined) return createRequire(module.filename).resolve(request, options);
      return this.resolve(request, module.filename);
    }) as AppRequire['resolve'];
    resolve.paths = (request: string) => (builtinName(request) !== undefined ? null : module.paths);
    require.resolve = resolve;
    require.cache = this.cache;
    Object.defineProperty(require, 'main', { get: () => this.main, enumerable: true });
    require.extensions = { '.js': true, '.json': true, '.node': true };
    return require;
  }

  private readonly moduleType = new Map<string, boolean>();

  /** Whether the nearest package.json says `"type": "module"` (then a .js file is ESM). */
  isModuleType(file: string): boolean {
    const dir = dirname(file);
    let known = this.moduleType.get(dir);
    if (known !== undefined) return known;
    let pkg: { type?: string } | undefined;
    try {
      pkg = JSON.parse(readFileSync(dir + '/package.json', 'utf8')) as { type?: string };
    } catch {
      pkg = undefined;
    }
    known = pkg !== undefined ? pkg.type === 'module' : dirname(dir) === dir ? false : this.isModuleType(dir);
    this.moduleType.set(dir, known);
    return known;
  }

  /** `module.createRequire(file)` inside the app: a require rooted at `file`, in this loader. */
  createRequire(file: string | URL): AppRequire {
    const filename = typeof file === 'string' ? (file.startsWith('file:') ? new URL(file).pathname : file) : file.pathname;
    const anchor: AppModule = { id: filename, filename, path: dirname(filename), exports: {}, loaded: true, parent: undefined, children: [], paths: [], require: undefined as unknown as AppRequire };
    anchor.require = this.makeRequire(anchor);
    return anchor.require;
  }
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function stripShebang(s: string): string {
  return s.startsWith('#!') ? '//' + s.slice(2) : s;
}


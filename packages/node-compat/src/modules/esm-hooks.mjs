// Module hooks (module.register, Node's loader thread) that give each app on each node its own
// ES module graph over its own builtins. Every URL in an app's graph carries `ebbrt-app=<key>`:
//  - a builtin it imports becomes `ebbrt-node:<name>?ebbrt-app=<key>`: a module re-exporting that
//    app's shim (names from the host's module of that name);
//  - a CommonJS file becomes `ebbrt-cjs:<path>?ebbrt-app=<key>`: its exports through the app's own
//    CommonJS loader; its named exports are found as Node's cjs-module-lexer finds them, by
//    reading the source (`exports.x =`, `module.exports = { x }`, `module.exports = require(...)`);
//  - an ES module file keeps its URL plus the key (one instance per app), and its free references
//    to the app's globals (process, console, timers, Date...) are bound at its top.
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const KEY = 'ebbrt-app';
const REGISTRY = "globalThis[Symbol.for('@ebbrt/node-compat/apps')].apps";
const GLOBALS = ['process', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date', 'Math', 'performance', 'crypto', 'fetch', 'global'];

function appOf(url) {
  if (typeof url !== 'string') return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(KEY) ?? undefined;
}

function withKey(url, key) {
  const u = new URL(url);
  u.searchParams.set(KEY, key);
  return u.href;
}

function builtinName(specifier) {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return specifier.startsWith('node:') || builtinModules.includes(bare) ? bare : undefined;
}

export async function resolve(specifier, context, nextResolve) {
  const key = appOf(context.parentURL) ?? appOf(specifier);
  if (key === undefined) return nextResolve(specifier, context);
  const name = builtinName(specifier);
  if (name !== undefined) return { url: `ebbrt-node:${name}?${KEY}=${key}`, shortCircuit: true };
  const parentURL = context.parentURL?.startsWith('ebbrt-') ? undefined : context.parentURL;
  const r = await nextResolve(specifier, { ...context, parentURL });
  if (!r.url.startsWith('file:')) return r;
  if (r.format === 'commonjs' || r.url.endsWith('.cjs') || r.url.endsWith('.json')) {
    return { url: `ebbrt-cjs:${fileURLToPath(r.url)}?${KEY}=${key}`, shortCircuit: true };
  }
  return { ...r, url: withKey(r.url, key) };
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The names a CommonJS file exports, read from its source (what Node's lexer would find, roughly). */
function cjsNames(file, depth = 0, seen = new Set()) {
  const names = new Set();
  if (seen.has(file) || depth > 8 || !/\.(c?js)$/.test(file)) return names;
  seen.add(file);
  let src;
  try {
    src = readFileSync(file, 'utf8');
  } catch {
    return names;
  }
  for (const m of src.matchAll(/(?:^|[^.\w$])(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=[^=]/g)) names.add(m[1]);
  for (const m of src.matchAll(/Object\.defineProperty\(\s*(?:module\.)?exports\s*,\s*['"]([A-Za-z_$][\w$]*)['"]/g)) names.add(m[1]);
  const literal = /module\.exports\s*=\s*\{([^{}]*)\}/.exec(src);
  if (literal !== null) {
    for (const part of literal[1].split(',')) {
      const key = /^\s*(?:['"]?)([A-Za-z_$][\w$]*)/.exec(part);
      if (key !== null) names.add(key[1]);
    }
  }
  for (const m of src.matchAll(/module\.exports\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    try {
      for (const n of cjsNames(createRequire(file).resolve(m[1]), depth + 1, seen)) names.add(n);
    } catch {
      // not resolvable from here: no names from it
    }
  }
  names.delete('default');
  names.delete('__esModule');
  return names;
}

function cjsWrapper(app, path) {
  const names = [...cjsNames(path)];
  const bindings = names.map((n, i) => `const __n${i} = __m[${JSON.stringify(n)}];`).join(' ');
  const list = names.map((n, i) => `__n${i} as ${n}`).join(', ');
  return `await ${app}.enter(); const __m = ${app}.requireFile(${JSON.stringify(path)}); export default __m; ${bindings}${names.length > 0 ? ` export { ${list} };` : ''}`;
}

export async function load(url, context, nextLoad) {
  const key = appOf(url);
  if (key === undefined) return nextLoad(url, context);
  const app = `${REGISTRY}.get(${JSON.stringify(key)})`;
  if (url.startsWith('ebbrt-node:')) {
    const name = url.slice('ebbrt-node:'.length, url.indexOf('?'));
    const host = await import(`node:${name}`);
    const names = Object.keys(host).filter((n) => n !== 'default' && IDENT.test(n));
    const source = `const m = ${app}.builtin(${JSON.stringify(name)});\nexport default m;\n` + names.map((n) => `export const ${n} = m[${JSON.stringify(n)}];`).join('\n');
    return { format: 'module', source, shortCircuit: true };
  }
  if (url.startsWith('ebbrt-cjs:')) {
    const path = decodeURIComponent(url.slice('ebbrt-cjs:'.length, url.indexOf('?')));
    return { format: 'module', source: cjsWrapper(app, path), shortCircuit: true };
  }
  const r = await nextLoad(url, context);
  if (r.format === 'commonjs' && url.startsWith('file:')) {
    // Known CommonJS only now (resolve may not say): through the app's own CommonJS loader.
    return { format: 'module', source: cjsWrapper(app, fileURLToPath(url.slice(0, url.indexOf('?')))), shortCircuit: true };
  }
  if (r.format !== 'module') return r;
  const text = typeof r.source === 'string' ? r.source : new TextDecoder().decode(r.source);
  // Bind each app global the module does not declare itself, on its first line (lines keep their numbers).
  const declared = (n) => new RegExp(`(?:\\b(?:const|let|var|function|class)\\s+|import\\s*(?:\\{[^}]*|\\*\\s+as\\s+)?)\\b${n}\\b`).test(text);
  const names = GLOBALS.filter((n) => !declared(n));
  // The top level awaits an event on the app's core: module evaluation follows Node's loader, not a
  // core, and every module's code must run on its node.
  const head = `await ${app}.enter(); ` + (names.length === 0 ? '' : `const { ${names.join(', ')} } = ${app}.globals; `);
  return { format: 'module', source: head + text, shortCircuit: true };
}

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ebbPackageFiles } from '../scaffold/ebb-template.js';

export const NEW_USAGE = `usage: ebbrt new ebb <package-name> [--dir DIR]

  Writes a new Ebb package (an in-memory GlobalIdMap to start from) into DIR
  (default: ./<name without its scope>): package.json with exports, types and files,
  src/, a node:test test, README. Then: npm install && npm test && npm publish.`;

/**
 * Why an npm package name is unusable, or undefined when it is fine (npm's rules: at most 214
 * characters, lowercase, URL-safe, an optional @scope/, not starting with . or _).
 */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 214) return `it has ${name.length} characters (npm allows 214)`;
  if (name !== name.trim()) return 'it has leading or trailing spaces';
  if (name !== name.toLowerCase()) return 'it has uppercase letters (npm names are lowercase)';
  const m = /^(?:@([^/]+)\/)?([^/]+)$/.exec(name);
  if (m === null) return 'it must be <name> or @<scope>/<name> (one slash at most, after a scope)';
  for (const part of [m[1], m[2]]) {
    if (part === undefined) continue;
    if (/^[._]/.test(part)) return `"${part}" starts with "${part[0]}"`;
    const bad = /[^a-z0-9._~-]/.exec(part);
    if (bad !== null) return `it contains "${bad[0]}" (allowed: a-z 0-9 - . _ ~)`;
  }
  if (m[1] === undefined && ['node_modules', 'favicon.ico'].includes(m[2]!)) return `"${m[2]}" is reserved`;
  return undefined;
}

/** The @ebbrt/interfaces range a scaffold depends on: this runtime's own version. */
function interfacesRange(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@ebbrt/runtime' && pkg.version !== undefined) return `^${pkg.version}`;
  }
  return '*';
}

/** `ebbrt new ebb <name> [--dir DIR]`; returns the directory written. Errors name what was wrong. */
export function newCommand(argv: readonly string[], cwd: string = process.cwd(), out: (line: string) => void = (l) => void process.stdout.write(l + '\n')): string {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { dir: { type: 'string' } } });
  const [kind, name, ...extra] = positionals;
  if (kind !== 'ebb') throw new Error(`${kind === undefined ? 'missing what to create' : `cannot create "${kind}"`} (only "ebb")\n${NEW_USAGE}`);
  if (name === undefined) throw new Error(`missing the package name\n${NEW_USAGE}`);
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"\n${NEW_USAGE}`);
  const problem = packageNameProblem(name);
  if (problem !== undefined) throw new Error(`"${name}" is not a valid npm package name: ${problem}`);
  const dir = resolve(cwd, values.dir ?? name.replace(/^@[^/]+\//, ''));
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} exists and is not empty: nothing was written`);
  for (const [file, text] of Object.entries(ebbPackageFiles({ name, interfacesRange: interfacesRange() }))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  out(`created ${name} in ${dir}\n  cd ${dir} && npm install && npm test\n  then in an app's config: ebbs: { GlobalIdMap: '${name}' }`);
  return dir;
}

import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** Dotted path of a zod issue, e.g. `backend.machine.cores` or `ebbs["Foo"]`. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * Parses `input` with `schema`, or throws a {@link ConfigError} whose path is the
 * first bad field (prefixed by `root`) and whose detail lists every problem.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = issuePath([...issue.path, ...(keys.length === 1 ? keys : [])]);
    return { path: path ? `${root}.${path}` : root, message: issue.message };
  });
  const first = issues[0]!;
  const rest = issues.slice(1).map((i) => `; ${i.path}: ${i.message}`).join('');
  throw new ConfigError(first.path, first.message + rest);
}

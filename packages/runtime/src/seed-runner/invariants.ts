/**
 * The invariant API of `ebbrt test`: a module beside the app's config (`ebbrt.invariants.ts`,
 * `.mts`, `.mjs` or `.js`, or the file `--invariants` names) exporting
 *
 *   export const invariants = {
 *     'totals are exact': (ctx) => ctx.lines.some((l) => l === 'total 820') || 'no exact total',
 *   };
 *
 * Each invariant is checked at quiescence (the run has ended) in the order written; the first
 * one violated is the seed's failure. An invariant holds when it returns `true` or nothing, and
 * is violated when it returns `false` or a string (the string says how) or throws.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppRun } from '../run-app.js';

export interface InvariantContext {
  readonly seed: number;
  /** The faults that were on. */
  readonly faults: readonly string[];
  /** Every console line of the run, as `ebbrt run` prints them (`[node1] ...`). */
  readonly lines: readonly string[];
  /** The whole run: config, simulation, nodes, network counters. */
  readonly run: AppRun;
}

export type Invariant = (ctx: InvariantContext) => boolean | string | void;
export type Invariants = Readonly<Record<string, Invariant>>;

export const INVARIANT_FILES = ['ebbrt.invariants.ts', 'ebbrt.invariants.mts', 'ebbrt.invariants.mjs', 'ebbrt.invariants.js'] as const;

/** Loads the app's invariants; errors name the file and what is wrong with it. */
export async function loadInvariants(appDir: string, file?: string): Promise<Invariants> {
  const path = file !== undefined ? resolve(appDir, file) : INVARIANT_FILES.map((f) => join(appDir, f)).find((f) => existsSync(f));
  if (path === undefined) throw new Error(`no invariants in ${appDir}: write ${INVARIANT_FILES[0]} exporting \`invariants\` (or pass --invariants FILE)`);
  if (!existsSync(path)) throw new Error(`--invariants: ${path} does not exist`);
  const mod = (await import(pathToFileURL(path).href)) as { invariants?: unknown };
  const inv = mod.invariants;
  if (typeof inv !== 'object' || inv === null) throw new Error(`${path} must export \`invariants\`, an object of named check functions`);
  for (const [name, fn] of Object.entries(inv)) {
    if (typeof fn !== 'function') throw new Error(`${path}: invariants["${name}"] must be a function (ctx) => boolean | string | void`);
  }
  if (Object.keys(inv).length === 0) throw new Error(`${path}: \`invariants\` is empty`);
  return inv as Invariants;
}

/** The first violated invariant, as `name: how`, or undefined when all hold. */
export function firstViolation(invariants: Invariants, ctx: InvariantContext): string | undefined {
  for (const [name, check] of Object.entries(invariants)) {
    let verdict: boolean | string | void;
    try {
      verdict = check(ctx);
    } catch (error) {
      return `${name}: threw ${error instanceof Error ? error.message : String(error)}`;
    }
    if (verdict === false) return name;
    if (typeof verdict === 'string') return `${name}: ${verdict}`;
  }
  return undefined;
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './servers.js';

/** Writes `svg` as docs/figures/`name` (the figures the README shows) and returns its path. */
export function writeDocsFigure(name: string, svg: string): string {
  const dir = join(REPO_ROOT, 'docs', 'figures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, svg);
  return file;
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Inside the package, so app modules can import the workspace's @ebbrt packages.
const TMP_ROOT = join(dirname(fileURLToPath(import.meta.url)), '.tmp');

/** Writes a throwaway app directory: its config and any extra files. Call `remove` when done. */
export function tempApp(config: unknown, files: Record<string, string> = {}): { dir: string; remove(): void } {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TMP_ROOT, 'app-'));
  writeFileSync(join(dir, 'ebbrt.config.json'), JSON.stringify(config, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const NOOP_ENTRY = 'export function main() {}\n';

/** A minimal valid config with one back-end node; override fields per test. */
export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    entry: { backend: './main.mjs' },
    backend: { nodes: 1, machine: { cores: 2, memory: '4MiB' } },
    ...overrides,
  };
}

export { seeds } from '@ebbrt/testkit/seeds';

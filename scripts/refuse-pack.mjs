#!/usr/bin/env node
// The `prepack` of every private package (the apps, the test and bench kits, the workspace root):
// npm and pnpm refuse to *publish* a private package, but `pnpm -r pack` packs them anyway, with
// whatever untracked files lie in their folders. Refuse, and say how to pack what is publishable.
import { readFileSync } from 'node:fs';

const { name } = JSON.parse(readFileSync('package.json', 'utf8'));
console.error(
  `${name} is private and is never packed or published. Pack the publishable packages with\n` +
    `  pnpm pack:all            (every public package into ./packed, built by its prepack)\n` +
    `or run \`pnpm pack\` inside one of packages/*.`,
);
process.exit(1);

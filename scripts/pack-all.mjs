#!/usr/bin/env node
// `pnpm pack:all`: every publishable package into ./packed (built by its prepack). Use this rather
// than `pnpm -r pack`, which would also try the private apps, kits and root (their prepack refuses).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packAll } from './pack-lib.mjs';

const root = resolve(import.meta.dirname, '..');
const dest = join(root, 'packed');
mkdirSync(dest, { recursive: true });
for (const [name, file] of Object.entries(packAll(root, dest))) console.log(`${name}\t${file}`);

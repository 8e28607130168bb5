#!/usr/bin/env node
// Scaffolds packages/<dir> with the house layout: tsup ESM build with types,
// an exports map whose `source` condition lets tests and tsx run src/ unbuilt.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, description = '', ...deps] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/new-package.mjs <dir> "<description>" [@ebbrt/dep ...]');
  process.exit(2);
}
const root = join('packages', dir);
if (existsSync(join(root, 'package.json'))) {
  console.error(`${root} already exists`);
  process.exit(2);
}
mkdirSync(join(root, 'src'), { recursive: true });
const pkg = {
  name: `@ebbrt/${dir}`,
  version: '0.1.0',
  description,
  type: 'module',
  license: 'MIT',
  sideEffects: false,
  exports: {
    '.': {
      source: './src/index.ts',
      types: './dist/index.d.ts',
      import: './dist/index.js',
    },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'src', '!src/**/*.test.ts', 'README.md'],
  scripts: {
    build: 'tsup',
    // dist/ from turbo's cache when this package was built before, else a build (scripts/prepack-build.mjs)
    prepack: 'node ../../scripts/prepack-build.mjs',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'tsc -p tsconfig.json --noUnusedLocals --noUnusedParameters',
  },
  dependencies: Object.fromEntries(deps.map((d) => [d, 'workspace:^'])),
  publishConfig: { access: 'public' },
  engines: { node: '>=20.19' },
};
writeFileSync(join(root, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  join(root, 'tsconfig.json'),
  JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test'] }, null, 2) + '\n',
);
writeFileSync(
  join(root, 'tsup.config.ts'),
  "import { packageBuild } from '../../tsup.base.js';\n\nexport default packageBuild();\n",
);
if (!existsSync(join(root, 'src/index.ts'))) writeFileSync(join(root, 'src/index.ts'), 'export {};\n');
console.log(`created ${root}`);

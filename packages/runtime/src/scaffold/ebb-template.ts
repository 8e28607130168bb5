/**
 * The files `ebbrt new ebb <name>` writes: a standalone npm package (outside any workspace)
 * whose manifest implements the GlobalIdMap system interface, so an app swaps it in by config
 * (`backend.ebbs.GlobalIdMap: '<name>'`). Kept as data so the command stays a thin writer.
 */
export interface EbbTemplateInput {
  /** The npm package name (validated by the caller). */
  name: string;
  /** The @ebbrt/interfaces range the package depends on (the runtime's own version). */
  interfacesRange: string;
}

export function ebbPackageFiles({ name, interfacesRange }: EbbTemplateInput): Record<string, string> {
  const pkg = {
    name,
    version: '0.1.0',
    description: `An EbbRT-TS Ebb: an in-memory GlobalIdMap (scaffolded by ebbrt new ebb)`,
    type: 'module',
    license: 'MIT',
    sideEffects: false,
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' },
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'src', 'README.md'],
    scripts: {
      build: 'tsc -p tsconfig.json',
      // node:test through tsx's loader: no test framework to install.
      test: 'node --import tsx --test test/*.test.ts',
      prepack: 'npm run build',
    },
    dependencies: { '@ebbrt/interfaces': interfacesRange },
    devDependencies: { tsx: '^4.19.0', typescript: '^5.6.0' },
    engines: { node: '>=20.19' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      declaration: true,
      outDir: 'dist',
      rootDir: 'src',
      skipLibCheck: true,
      types: [],
    },
    include: ['src'],
  };
  const index = `import { defineEbbManifest, type EbbId, type GlobalIdMap } from '@ebbrt/interfaces';

export const NAME = ${JSON.stringify(name)};

/** One rep per node, shared by its cores: a node-local table (nothing leaves the node). */
export class MemoryIdMap implements GlobalIdMap {
  private readonly entries = new Map<EbbId, string>();

  async get(id: EbbId): Promise<string | undefined> {
    return this.entries.get(id);
  }

  async set(id: EbbId, data: string): Promise<void> {
    if (typeof data !== 'string') throw new TypeError(\`\${NAME}: set(\${id}) needs a string, got \${typeof data}\`);
    this.entries.set(id, data);
  }
}

/** What the runtime loads: select it in a config with \`ebbs: { GlobalIdMap: ${JSON.stringify(name)} }\`. */
export const manifest = defineEbbManifest<Record<string, never>, GlobalIdMap>({
  name: NAME,
  implements: 'GlobalIdMap',
  targets: ['native', 'hosted'],
  description: 'an in-memory, node-local GlobalIdMap',
  create(context) {
    const rep = new MemoryIdMap();
    context.log(\`\${NAME}: GlobalIdMap ready on node \${context.node.id}\`);
    return { handleFault: () => rep };
  },
});
`;
  const test = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceMembers, missingMembers, validateManifest, type GlobalIdMap } from '@ebbrt/interfaces';
import { manifest, NAME } from '../src/index.ts';

const node = { id: 1, numCores: 2, target: 'native' as const };

function install(lines: string[]) {
  return manifest.create({ id: 5, node, target: 'native', log: (l) => lines.push(l) }, {}) as { handleFault(core: unknown): GlobalIdMap };
}

test('the manifest is valid and claims GlobalIdMap', () => {
  assert.equal(validateManifest(NAME, manifest).implements, 'GlobalIdMap');
});

test('a rep has every GlobalIdMap member, and the cores of a node share it', async () => {
  const lines: string[] = [];
  const root = install(lines);
  const rep0 = root.handleFault({ index: 0, node });
  const rep1 = root.handleFault({ index: 1, node });
  assert.deepEqual(missingMembers('GlobalIdMap', rep0), []);
  assert.ok(InterfaceMembers.GlobalIdMap.length > 0);
  await rep0.set(300, 'hello');
  assert.equal(await rep1.get(300), 'hello');
  assert.equal(await rep1.get(301), undefined);
  assert.deepEqual(lines, [\`\${NAME}: GlobalIdMap ready on node 1\`]);
});

test('a non-string value is refused, naming the id', async () => {
  const rep = install([]).handleFault({ index: 0, node });
  // @ts-expect-error: a JavaScript caller can pass anything; the rep must refuse it by name.
  await assert.rejects(rep.set(7, 42), /set\\(7\\) needs a string/);
});
`;
  const readme = `# ${name}

An EbbRT-TS Ebb package: an in-memory, node-local **GlobalIdMap**
(\`get(id)\` / \`set(id, data)\`), scaffolded by \`ebbrt new ebb ${name}\`. Replace the table in
\`src/index.ts\` with your own implementation; keep the \`manifest\` export.

## Use it in an app

\`\`\`sh
npm install ${name}
\`\`\`

\`\`\`ts
// ebbrt.config.ts
import { defineConfig } from '@ebbrt/runtime';
export default defineConfig({
  entry: { backend: './main.ts' },
  backend: { nodes: 1, machine: { cores: 2, memory: '4MiB' }, ebbs: { GlobalIdMap: '${name}' } },
});
\`\`\`

The app reaches it as the system Ebb: \`systemEbb('GlobalIdMap').deref().set(id, 'data')\`
(from \`@ebbrt/core-translation\`). Boot prints \`${name}: GlobalIdMap ready on node 1\`.

## Options

None (\`{}\`). Add a zod schema as \`manifest.options\` to take some from the config.

## Develop and publish

\`\`\`sh
npm install
npm test          # node:test, through tsx
npm run build     # tsc: dist/*.js and dist/*.d.ts
npm publish       # prepack builds first
\`\`\`

## Files

| file | job |
| --- | --- |
| \`src/index.ts\` | the rep (\`MemoryIdMap\`) and the \`manifest\` the runtime loads |
| \`test/ebb.test.ts\` | the manifest is valid, a rep has the interface's members, cores share it |
| \`package.json\` | ESM exports with types, a \`files\` allowlist, build/test/prepack |
| \`tsconfig.json\` | the build: \`src/\` to \`dist/\` with declarations |
`;
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'src/index.ts': index,
    'test/ebb.test.ts': test,
    'README.md': readme,
    '.gitignore': 'node_modules\ndist\n',
  };
}

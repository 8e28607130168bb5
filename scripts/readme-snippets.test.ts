/**
 * The root README's code must compile: its ten-line Ebb example (whose factory argument is a
 * CoreInfo, not a core number) and the config example, typechecked against the packages' sources.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** The first ```ts block after the heading `## <title>`. */
function snippet(markdown: string, title: string): string {
  const at = markdown.indexOf(`## ${title}`);
  if (at < 0) throw new Error(`README has no "## ${title}" section`);
  const m = /```ts\n([\s\S]*?)```/.exec(markdown.slice(at));
  if (m === null) throw new Error(`"## ${title}" has no ts block`);
  return m[1]!;
}

/** Type errors of `code` compiled as a module, with @ebbrt/* mapped to the workspace sources. */
function typeErrors(code: string): string[] {
  const dir = mkdtempSync(join(root, 'scripts', '.snippet-'));
  try {
    const file = join(dir, 'snippet.ts');
    writeFileSync(file, code);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      customConditions: ['source'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      baseUrl: root,
      paths: { '@ebbrt/*': ['packages/*/src/index.ts'] },
    });
    return ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file || d.file === undefined)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README snippets compile', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it('the Ebb model in ten lines', () => {
    const code = snippet(readme, 'The Ebb model in ten lines');
    expect(code).toContain('MulticoreEbb.create<CounterRep>((info, root)');
    expect(typeErrors(code)).toEqual([]);
  }, 60_000);

  it('the config that swaps an Ebb', () => {
    expect(typeErrors(snippet(readme, 'Swapping an Ebb'))).toEqual([]);
  }, 60_000);

  it('a wrong snippet is caught (the check can fail): treating the CoreInfo as a number', () => {
    const wrong = snippet(readme, 'The Ebb model in ten lines').replace('new CounterRep(info.index, root)', 'new CounterRep(info, root)');
    expect(typeErrors(wrong).join('\n')).toMatch(/CoreInfo.*not assignable to parameter of type 'number'/);
  }, 60_000);
});

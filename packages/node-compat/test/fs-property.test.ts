/**
 * Property: any sequence of positional writes, reads, truncates and appends through the shim's
 * FileHandle leaves the same bytes and returns the same results as node:fs on a real file.
 */
import * as realFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeRuntime } from '../src/index.js';
import { hostedNode } from './hosted-node.js';

type Op = { kind: 'write'; at: number; data: Uint8Array } | { kind: 'read'; at: number; len: number } | { kind: 'truncate'; len: number } | { kind: 'append'; data: Uint8Array };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), at: fc.nat({ max: 5000 }), data: fc.uint8Array({ minLength: 1, maxLength: 3000 }) }),
  fc.record({ kind: fc.constant('read' as const), at: fc.nat({ max: 6000 }), len: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({ kind: fc.constant('truncate' as const), len: fc.nat({ max: 6000 }) }),
  fc.record({ kind: fc.constant('append' as const), data: fc.uint8Array({ minLength: 1, maxLength: 500 }) }),
);

async function apply(fs: typeof realFs, file: string, ops: Op[]): Promise<unknown[]> {
  const out: unknown[] = [];
  await fs.promises.writeFile(file, '');
  const h = await fs.promises.open(file, 'r+');
  try {
    for (const o of ops) {
      if (o.kind === 'write') out.push((await h.write(Buffer.from(o.data), 0, o.data.length, o.at)).bytesWritten);
      else if (o.kind === 'read') {
        const b = Buffer.alloc(o.len);
        const { bytesRead } = await h.read(b, 0, o.len, o.at);
        out.push(b.subarray(0, bytesRead).toString('base64'));
      } else if (o.kind === 'truncate') out.push(await h.truncate(o.len));
      else out.push(await fs.promises.appendFile(file, Buffer.from(o.data)));
    }
    out.push((await h.stat()).size);
  } finally {
    await h.close();
  }
  out.push((await fs.promises.readFile(file)).toString('base64'));
  return out;
}

describe('fs shim, property', () => {
  const base = mkdtempSync(join(tmpdir(), 'fs-prop-'));
  const node = hostedNode(base);
  afterAll(() => {
    node.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it('positional writes/reads/truncates/appends: same bytes and results as node:fs', async () => {
    const runtime = await node.on(0, () => new NodeRuntime(node.host, { script: join(base, 'x.js'), cwd: base, env: {}, hosts: {}, deterministic: true, epochMs: 0, seed: 1 }));
    const shimFs = runtime.builtin('fs') as typeof realFs;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const i = n++;
        const real = await apply(realFs, join(base, `real-${i}.bin`), ops);
        const shim = await node.on(0, () => apply(shimFs, join(base, `shim-${i}.bin`), ops));
        expect(shim).toEqual(real);
      }),
      { numRuns: 60, seed: Number(process.env.EBBRT_SEED ?? 13) },
    );
    expect(node.failures).toEqual([]);
  }, 120_000);
});

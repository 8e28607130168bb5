/**
 * A run on the process platform leaves no node process behind when it ends while the dormant pool
 * is refilling (2026-12-07: distributed.bench's refill went dormant after the run ended, unknown to
 * anyone, and its IPC channel kept `pnpm bench` alive). Checked by pid, not by waiting.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

/** This process's children running the node agent (each test file has a process of its own). */
function nodeProcesses(): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
      if (ppid === String(process.pid) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('node-process-entry')) pids.push(Number(p));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids;
}

const HOOK = '__ebbrtProcessStopTestHook';

it('a run ending while the pool boots a replacement leaves no node process (ESRCH by pid)', async () => {
  const seen: number[] = [];
  (globalThis as Record<string, unknown>)[HOOK] = () => seen.push(...nodeProcesses());
  cleanup.push(() => delete (globalThis as Record<string, unknown>)[HOOK]);
  const app = tempApp(
    {
      entry: { frontend: './frontend.mjs', backend: './node.mjs' },
      clock: 'realtime',
      backend: { nodes: 0, platform: 'process', machine: { cores: 1, memory: '16MiB' } },
      frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: { poolSize: 1 } } } },
      network: {},
    },
    {
      'node.mjs': 'export function main() {}\n',
      // Taking the pooled node starts its replacement's boot; main ends at once, mid-boot.
      'frontend.mjs': `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main() {
  const na = new EbbRef(SystemEbbIds.NodeAllocator).deref();
  await na.whenPoolReady();
  await na.allocateNode('./node.mjs', { cores: 1, memoryBytes: 16 << 20 }).networkId;
  globalThis.${HOOK}();
}
`,
    },
  );
  cleanup.push(app.remove);
  const lines: string[] = [];
  const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
  expect(run.failures, lines.join('\n')).toEqual([]);
  // The handed-out node and the replacement still booting.
  expect(seen.length, lines.join('\n')).toBe(2);
  for (const pid of seen) expect(() => process.kill(pid, 0), `node process ${pid}`).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  expect(nodeProcesses()).toEqual([]);
}, 60_000);

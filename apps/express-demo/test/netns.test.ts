/**
 * The unmodified Express app on a native node (lwIP-style stack at 10.0.3.2) joined through a TAP
 * to a fresh Linux network namespace: curl inside the namespace, Linux's own TCP, talks to it
 * directly. The node's files here are the in-memory FileSystem Ebb (the harness has no front-end).
 * Needs root, ip, socat: skipped without them (with the reason), but FAILS under CI.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SystemEbbIds, type EbbRoot } from '@ebbrt/interfaces';
import { runNodeApp } from '@ebbrt/node-compat';
import { linuxPrerequisites, NODE_ADDRESS, startLinuxNetns } from '@ebbrt/testkit/linux-netns';
import { describe, expect, it } from 'vitest';
import { APP_DIR } from './run-demo.js';
import { manifest as memoryFiles, simGenerated } from './sim/memory-files.js';

const pre = linuxPrerequisites();

describe('express on a native node, from a Linux network namespace through a TAP', () => {
  if (!pre.ok && process.env.CI !== 'true') {
    it.skip(`curl in the namespace (skipped: ${pre.ok ? '' : pre.reason})`, () => {});
    return;
  }
  it('curl gets the files byte-exact, the JSON routes, keep-alive; ../ is refused', async () => {
    expect(pre.ok, 'prerequisites (CI installs them in .ci/run)').toBe(true);
    const env = await startLinuxNetns({ cores: 1, maxRunMs: 60_000 });
    const logs: string[] = [];
    try {
      const log = (): void => undefined;
      env.node.install(SystemEbbIds.FileSystem, memoryFiles.create({ id: SystemEbbIds.FileSystem, node: env.node, target: 'native', log }, undefined) as EbbRoot<unknown>);
      await env.onNode(0, () =>
        runNodeApp(
          { node: { id: env.node.id, numCores: 1 }, args: ['3000'], log: (l) => void logs.push(l), exit: () => undefined },
          { entry: join(APP_DIR, 'server/app.js') },
        ),
      );
      for (let i = 0; i < 100 && !logs.some((l) => l.includes('listening')); i++) await new Promise((r) => setTimeout(r, 20));
      const curl = (args: string) => env.inNs('sh', ['-c', `curl -sS --max-time 20 ${args}`], { timeoutMs: 30_000 });
      for (const [name, data] of Object.entries(simGenerated())) {
        const r = await curl(`http://${NODE_ADDRESS}:3000/static/generated/${name} | sha256sum`);
        expect(r.stdout.split(' ')[0], `${name}: ${r.stderr}`).toBe(createHash('sha256').update(data).digest('hex'));
      }
      const two = await curl(`http://${NODE_ADDRESS}:3000/api/sum?n=3 http://${NODE_ADDRESS}:3000/api/hello -v 2>&1`);
      expect(two.stdout).toContain('{"n":3,"sum":6}');
      expect(two.stdout).toMatch(/Re-using existing connection|Reusing existing connection/);
      const up = await curl(`--path-as-is -o /dev/null -w '%{http_code}' http://${NODE_ADDRESS}:3000/static/../ebbrt.config.ts`);
      expect(['403', '404']).toContain(up.stdout);
    } finally {
      await env.close();
    }
  }, 90_000);
});

/**
 * The same server on the NATIVE stack (@ebbrt/network-manager-lwip on a simulated node at
 * 10.0.3.2), reached from a Linux network namespace through a TAP device, using the lwIP
 * package's Linux interop harness; memccapable runs inside the namespace. Needs root, ip,
 * socat, ping, python3 and memccapable: skipped without them, but FAILS under CI.
 */
import { describe, expect, it } from 'vitest';
import { linuxPrerequisites, NODE_ADDRESS, startLinuxNetns } from '@ebbrt/testkit/linux-netns';
import { startMemcached } from '../src/index.js';
import { hasTool, parseCapable } from './tools.js';

const pre = linuxPrerequisites();
const missing = pre.ok ? (hasTool('memccapable') ? '' : 'memccapable not installed') : pre.reason;

describe('memcached on the native NetworkManager (lwIP-style stack), from Linux', () => {
  if (missing !== '' && process.env.CI !== 'true') {
    it.skip(`memccapable passes every test (skipped: ${missing})`, () => {});
    return;
  }
  it(
    'memccapable passes every ASCII and binary test',
    async () => {
      expect(missing, 'prerequisites (CI installs them in .ci/run)').toBe('');
      const env = await startLinuxNetns({ cores: 2, maxRunMs: 90_000 });
      try {
        const server = await env.onNode(0, (rep) => startMemcached(rep, { port: 11211, threads: 2 }));
        expect(server.port).toBe(11211);
        const run = await env.inNs('sh', ['-c', `memccapable -h ${NODE_ADDRESS} -p 11211 -t 2 2>&1`], { timeoutMs: 90_000 });
        const r = parseCapable(run.stdout);
        expect(r.failed, `memccapable failures on the native stack:\n${run.stdout}\n${run.stderr}`).toEqual([]);
        expect(r.passed.length, run.stdout).toBeGreaterThanOrEqual(54);
        expect(env.nm.tcp.stats.handlerErrors).toBe(0);
        await env.onNode(0, () => server.close());
      } finally {
        await env.close();
      }
    },
    120_000,
  );
});

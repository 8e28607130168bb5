import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeRuntime, UnsupportedApiError, runNodeApp } from '../src/index.js';
import { hostedNode, type HostedNode } from './hosted-node.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const nodes: HostedNode[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const n of nodes.splice(0)) n.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function node(id = 0): HostedNode {
  const d = mkdtempSync(join(tmpdir(), 'node-compat-rt-'));
  dirs.push(d);
  const n = hostedNode(d, id);
  nodes.push(n);
  return n;
}

describe('per-node module instances', () => {
  it('two nodes running the same app share no module state, no globals and no require cache', async () => {
    const a = node(1);
    const b = node(2);
    const ra = await a.run({ entry: join(fixtures, 'iso/main.js') }, ['5']);
    const rb = await b.run({ entry: join(fixtures, 'iso/main.js') }, ['2']);
    const ea = ra.loader.main!.exports as Record<string, unknown>;
    const eb = rb.loader.main!.exports as Record<string, unknown>;
    // Each node counted from zero in its own instance of the dependency (node_modules resolved as Node does).
    expect(ea).toEqual({ same: true, count: 5, shared: 1, viaGlobal: '5', main: true, net: true });
    expect(eb).toEqual({ same: true, count: 2, shared: 1, viaGlobal: '2', main: true, net: true });
    const file = join(fixtures, 'iso/node_modules/counter/lib/index.js');
    expect(ra.loader.cache[file]).toBeDefined();
    expect(ra.loader.cache[file]!.exports).not.toBe(rb.loader.cache[file]!.exports);
    // The host saw none of it.
    expect((globalThis as Record<string, unknown>).shared).toBeUndefined();
    expect((globalThis as Record<string, unknown>).viaGlobal).toBeUndefined();
  });

  it('APIs the shims do not cover fail naming the API, not with a wrong answer', async () => {
    const n = node();
    const r = await n.on(0, () => new NodeRuntime(n.host, { script: '/x.js', cwd: '/', env: {}, hosts: {}, deterministic: true, epochMs: 0, seed: 1 }));
    const cp = r.builtin('child_process') as { spawn(): void };
    expect(() => cp.spawn()).toThrow(UnsupportedApiError);
    expect(() => cp.spawn()).toThrow(/child_process\.spawn is not supported on an EbbRT back-end node/);
    expect(() => (r.builtin('https') as { request(): void }).request()).toThrow(/https\.request .*no TLS/);
    expect(() => (r.globals.fetch as () => void)()).toThrow(/fetch is not supported/);
    expect(() => (r.builtin('fs') as { statSync(): void }).statSync()).toThrow(/fs\.statSync/);
    expect(() => (r.process as unknown as { chdir(): void }).chdir()).toThrow(/process\.chdir\(\)/);
    expect((r.builtin('worker_threads') as { isMainThread: boolean }).isMainThread).toBe(true);
    expect(() => (r.builtin('dgram') as { createSocket(t: string): void }).createSocket('udp6')).toThrow(/udp6/);
    expect(() => r.dns.resolve4('example.com')).toThrow(/ENOTFOUND/);
    expect(r.dns.resolve4('localhost')).toBe(r.dns.ownAddress());
  });
});

describe('timers, clock and randomness', () => {
  const runTimers = async (id: number, seed: number) => {
    const n = node(id);
    await n.on(0, () => runNodeApp(n.host, { entry: join(fixtures, 'timers.js'), deterministic: true, seed, epochMs: Date.UTC(2030, 0, 1) }));
    const line = (await n.waitLog(/^\{"order".*/))[0];
    return JSON.parse(line) as { order: string[]; elapsed: number; perf: number; random: number[]; bytes: string; uuid: string; now: string };
  };

  it('fire in time order on the node Timer; Date and performance follow the node clock', async () => {
    const r = await runTimers(3, 7);
    expect(r.order).toEqual(['immediate', 'timeout 5', 'interval 1', 'interval 2', 'timeout 20', 'interval 3', 'sleep 50']);
    expect(r.elapsed).toBeGreaterThanOrEqual(50);
    expect(r.perf).toBeGreaterThanOrEqual(50);
    expect(r.now.startsWith('2030-01-01T00:00:00')).toBe(true);
    expect(r.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('deterministic randomness: same seed and node, same numbers; another seed or node, others', async () => {
    const a = await runTimers(3, 7);
    const b = await runTimers(3, 7);
    const c = await runTimers(3, 8);
    const d = await runTimers(4, 7);
    expect([b.random, b.bytes, b.uuid]).toEqual([a.random, a.bytes, a.uuid]);
    expect(c.random).not.toEqual(a.random);
    expect(d.random).not.toEqual(a.random);
    for (const v of a.random) expect(v >= 0 && v < 1).toBe(true);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { hostedNode, type HostedNode } from './hosted-node.js';

const fixtures = new URL('./fixtures/', import.meta.url);
let node: HostedNode | undefined;
let dir: string | undefined;
afterEach(() => {
  node?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  node = dir = undefined;
});

function start(): HostedNode {
  dir = mkdtempSync(join(tmpdir(), 'node-compat-'));
  node = hostedNode(dir);
  return node;
}

function echo(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(data));
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

describe('node:net on the hosted stack', () => {
  it('an unmodified echo server returns what Node clients send, byte-exact, half-close included', async () => {
    const n = start();
    await n.run({ entry: new URL('echo.js', fixtures) });
    const port = Number((await n.waitLog(/echo listening on (\d+)/))[1]);
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    expect((await echo(port, Buffer.from('hello'))).toString()).toBe('hello');
    const back = await echo(port, big);
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    expect(n.failures).toEqual([]);
  });
});

describe('node:net errors', () => {
  it('a refused connect without an error listener is reported on the node console, not thrown into the host', async () => {
    const n = start();
    await n.run({ entry: new URL('refused-connect.js', fixtures) });
    await n.waitLog(/refused socket closed/);
    expect(n.logs.some((l) => /ECONNREFUSED.*no 'error' listener/.test(l))).toBe(true);
    expect(n.failures).toEqual([]);
  });
});

describe('node:net, property', () => {
  it('any split of a byte stream into writes comes back byte-exact and in order through the shim', async () => {
    const n = start();
    await n.run({ entry: new URL('echo.js', fixtures) });
    const port = Number((await n.waitLog(/echo listening on (\d+)/))[1]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 20_000 }), { minLength: 1, maxLength: 15 }), async (chunks) => {
        const sent = Buffer.concat(chunks);
        const back = await new Promise<Buffer>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => {
            for (const c of chunks) s.write(c);
            s.end();
          });
          const parts: Buffer[] = [];
          s.on('data', (d) => parts.push(d));
          s.on('end', () => resolve(Buffer.concat(parts)));
          s.on('error', reject);
        });
        expect(back.equals(sent)).toBe(true);
      }),
      { numRuns: 25, seed: Number(process.env.EBBRT_SEED ?? 5) },
    );
    expect(n.failures).toEqual([]);
  }, 60_000);
});

describe('node:http', () => {
  it('http.Server gets its connections from our net.Server: keep-alive and a body', async () => {
    const n = start();
    await n.run({ entry: new URL('http-plain.js', fixtures) });
    const port = Number((await n.waitLog(/http listening on (\d+)/))[1]);
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (body: string) =>
      new Promise<{ status: number; json: Record<string, unknown>; date: string | undefined }>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/x?y=1', agent }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(t), date: res.headers.date }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const a = await ask('one');
    const b = await ask('two');
    expect(a).toMatchObject({ status: 200, json: { method: 'POST', url: '/x?y=1', body: 'one' } });
    expect(b.json.body).toBe('two');
    expect(typeof a.date).toBe('string');
    agent.destroy();
    expect(n.failures).toEqual([]);
  });
});

describe('an ES module app', () => {
  it('runs with node: builtins, a CommonJS dependency and top-level await; each node has its own instances', async () => {
    const n = start();
    const runtime = await n.run({ entry: new URL('esm/server.js', fixtures) });
    await runtime.loaded;
    const port = Number((await n.waitLog(/esm listening on (\d+)/))[1]);
    const get = () =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        request({ port, host: '127.0.0.1', path: '/x' }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(JSON.parse(t)));
        })
          .on('error', reject)
          .end(),
      );
    expect(await get()).toEqual({ greeting: 'hello /x from 0', hits: 1, count: 1, now: true });
    expect(await get()).toMatchObject({ hits: 2, count: 2 });
    expect(n.failures).toEqual([]);
    // A second node running the same ES module app counts from zero: its own module instances.
    const other = hostedNode(dir!, 7);
    try {
      await (await other.run({ entry: new URL('esm/server.js', fixtures) })).loaded;
      const port2 = Number((await other.waitLog(/esm listening on (\d+)/))[1]);
      const again = await new Promise<Record<string, unknown>>((resolve, reject) =>
        request({ port: port2, host: '127.0.0.1', path: '/y' }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(JSON.parse(t)));
        })
          .on('error', reject)
          .end(),
      );
      expect(again).toEqual({ greeting: 'hello /y from 7', hits: 1, count: 1, now: true });
    } finally {
      other.dispose();
    }
  });
});

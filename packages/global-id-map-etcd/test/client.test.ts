/**
 * Errors without an etcd: a fake gateway (node:http) that answers badly, dead endpoints, the
 * manifest and the options schema.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { NodeContext, runOnCore } from '@ebbrt/core-translation';
import { SystemEbbIds, validateManifest } from '@ebbrt/interfaces';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdResponseError, EtcdUnavailableError, etcdGlobalIdMapOptionsSchema, manifest, type EtcdGlobalIdMapRoot } from '../src/index.js';
import { freePort } from '@ebbrt/testkit/etcd-server';
import { hostedNode, type HostedFixture } from './fixture.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('against a misbehaving gateway', () => {
  let server: Server;
  let url: string;
  let handler: Handler = (_q, res) => res.end();
  let hits = 0;
  const nodes: HostedFixture[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => handler(req, res, body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  afterEach(() => {
    for (const n of nodes.splice(0)) n.dispose();
    hits = 0;
  });

  function fe(options: Record<string, unknown> = {}): HostedFixture {
    const n = hostedNode({ endpoints: [url], retries: 1, retryDelayMs: 1, timeoutMs: 300, ...options }, 2);
    nodes.push(n);
    return n;
  }

  const header = { header: { revision: '1' } };
  const cases: [string, Handler, RegExp][] = [
    ['a body that is not JSON', (_q, res) => res.end('<html>hello</html>'), /range at http:\/\/127\.0\.0\.1:\d+: malformed response: not JSON \("<html>hello<\/html>"\)/],
    ['JSON that is not an etcd response', (_q, res) => res.end('[1,2]'), /malformed response: not an etcd v3 response/],
    ['an empty body', (_q, res) => res.end(''), /malformed response: not JSON \(empty body\)/],
    ['kvs that is not an array', (_q, res) => res.end(JSON.stringify({ ...header, kvs: 'x' })), /"kvs" is not an array/],
    ['a value that is not base64', (_q, res, body) => res.end(JSON.stringify({ ...header, kvs: [{ key: JSON.parse(body).key, value: '!!!' }] })), /kvs\[0\]\.value is not base64/],
    ['a value that is not UTF-8', (_q, res, body) => res.end(JSON.stringify({ ...header, kvs: [{ key: JSON.parse(body).key, value: Buffer.from([0xff, 0xfe]).toString('base64') }] })), /malformed response: .*(utf-8|UTF-8|encoded data)/],
    ['another key than asked', (_q, res) => res.end(JSON.stringify({ ...header, kvs: [{ key: Buffer.from('/x').toString('base64'), value: '' }] })), /not the key asked for/],
    ['a 404 (not retried)', (_q, res) => { res.statusCode = 404; res.end('404 page not found'); }, /HTTP 404: "404 page not found"/],
  ];

  for (const [what, h, pattern] of cases) {
    it(`rejects ${what} with an EtcdResponseError naming the endpoint, on the calling core`, async () => {
      handler = h;
      const n = fe();
      const r = await n.onCore(1, async () => {
        const error = await n.map().get(0x1234).then(() => 'resolved', (e: unknown) => e);
        return { error, core: n.here() };
      });
      expect(r.core).toBe(1);
      expect(r.error).toBeInstanceOf(EtcdResponseError);
      expect(String(r.error)).toMatch(pattern);
      expect(String(r.error)).toContain(url);
      expect(hits).toBe(1);
    });
  }

  it('retries a 503 on every round, then rejects EtcdUnavailableError with the gateway message', async () => {
    handler = (_q, res) => {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'etcdserver: no leader', message: 'etcdserver: no leader', code: 14 }));
    };
    const n = fe({ retries: 2 });
    const e = await n.onCore(0, () => n.map().set(1, 'x').catch((x: unknown) => x));
    expect(e).toBeInstanceOf(EtcdUnavailableError);
    expect(String(e)).toMatch(/put failed after 3 attempts \(http:\/\/127\.0\.0\.1:\d+: HTTP 503: etcdserver: no leader\)/);
    expect(hits).toBe(3);
  });

  it('times out a gateway that never answers', async () => {
    handler = () => {};
    const n = fe({ retries: 0, timeoutMs: 100 });
    const e = await n.onCore(0, () => n.map().get(1).catch((x: unknown) => x));
    // The message names the client's own timer (not a socket error, not vitest's timeout).
    expect(String(e)).toMatch(/etcd unreachable at .*: range failed after 1 attempt \(.*timed out after 100 ms\)/);
  });

  it('a missing value field is the empty string (proto3 leaves defaults out)', async () => {
    handler = (_q, res, body) => res.end(JSON.stringify({ ...header, kvs: [{ key: JSON.parse(body).key }], count: '1' }));
    const n = fe();
    expect(await n.onCore(0, () => n.map().get(3))).toBe('');
  });

  it('sends base64 keys and values to /v3/kv/put', async () => {
    let seen: { url?: string; body?: unknown } = {};
    handler = (req, res, body) => {
      seen = { url: req.url, body: JSON.parse(body) };
      res.end(JSON.stringify(header));
    };
    const n = fe({ prefix: '/p/', namespace: 'app' });
    await n.onCore(0, () => n.map().set(0xffffffff, 'ü'));
    expect(seen).toEqual({
      url: '/v3/kv/put',
      body: { key: Buffer.from('/p/app/ffffffff').toString('base64'), value: Buffer.from('ü').toString('base64') },
    });
  });
});

describe('without any etcd', () => {
  it('every endpoint refused: the error names them all', async () => {
    const a = `http://127.0.0.1:${await freePort()}`;
    const b = `http://127.0.0.1:${await freePort()}`;
    const n = hostedNode({ endpoints: [a, b], retries: 1, retryDelayMs: 1 }, 1);
    try {
      const e = await n.onCore(0, () => n.map().get(1).catch((x: unknown) => x));
      expect(e).toBeInstanceOf(EtcdUnavailableError);
      expect((e as EtcdUnavailableError).code).toBe('EBBRT_ETCD_UNAVAILABLE');
      expect(String(e)).toContain(`etcd unreachable at ${a}, ${b}: range failed after 4 attempts`);
      expect(String(e)).toContain('ECONNREFUSED');
    } finally {
      n.dispose();
    }
  });

  it('without an EventManager on the node, calls reject with a clear error', async () => {
    const node = new NodeContext({ id: 0, numCores: 1, target: 'hosted' });
    const root = manifest.create({ id: SystemEbbIds.GlobalIdMap, node, target: 'hosted', log: () => {} }, etcdGlobalIdMapOptionsSchema.parse({})) as EtcdGlobalIdMapRoot;
    const rep = runOnCore(node.core(0), () => root.handleFault(node.core(0)));
    await expect(rep.get(1)).rejects.toThrow(/needs an EventManager whose root has post\(\) on node 0/);
  });
});

describe('manifest and options', () => {
  it('is a valid manifest for GlobalIdMap on hosted nodes only', () => {
    const m = validateManifest('@ebbrt/global-id-map-etcd', manifest);
    expect(m.implements).toBe('GlobalIdMap');
    expect(m.targets).toEqual(['hosted']);
    const node = new NodeContext({ id: 1, numCores: 1, target: 'native' });
    expect(() => manifest.create({ id: SystemEbbIds.GlobalIdMap, node, target: 'native', log: () => {} }, etcdGlobalIdMapOptionsSchema.parse({}))).toThrow(
      /runs only on hosted nodes .*back-ends are meant to reach the map through the front-end/,
    );
  });

  it('fills defaults and normalises endpoints', () => {
    expect(etcdGlobalIdMapOptionsSchema.parse({})).toEqual({
      endpoints: ['http://127.0.0.1:2379'],
      prefix: '/ebbrt/ids/',
      namespace: 'default',
      timeoutMs: 2000,
      retries: 2,
      retryDelayMs: 100,
      maxValueBytes: 1 << 20,
    });
    expect(etcdGlobalIdMapOptionsSchema.parse({ endpoints: ['http://a:2379/', 'https://b:2379'] }).endpoints).toEqual(['http://a:2379', 'https://b:2379']);
  });

  it('rejects bad options naming the field', () => {
    const bad = (o: unknown) => etcdGlobalIdMapOptionsSchema.safeParse(o).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(bad({ endpoints: [] })).toEqual(['endpoints: must list at least one etcd endpoint']);
    expect(bad({ endpoints: ['127.0.0.1:2379'] })?.[0]).toMatch(/^endpoints\.0: must be an http:\/\/ or https:\/\/ URL/);
    expect(bad({ namespace: 'a/b' })?.[0]).toMatch(/^namespace: must be letters/);
    expect(bad({ timeoutMs: 0 })?.[0]).toMatch(/^timeoutMs:/);
    expect(bad({ endpoint: 'x' })?.[0]).toMatch(/endpoint/);
  });
});

/**
 * Real clients against the server on the hosted NetworkManager (node:net on an
 * ephemeral 127.0.0.1 port): Debian's memccapable (the protocol conformance
 * checker) and memcaslap (load with verification), the memjs npm client, and
 * raw sockets for large values and a 100-request pipeline.
 */
import { createServer, type AddressInfo } from 'node:net';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, startHostedMemcached, type HostedMemcached } from './helpers.js';
import { parseCapable, runTool, spawnDaemon, toolIt } from './tools.js';

const KiB = 1024;

describe('memcached on the hosted NetworkManager, with real clients', () => {
  let mc: HostedMemcached;
  beforeAll(async () => {
    mc = await startHostedMemcached({ memoryLimit: 256 * 1024 * 1024 });
  });
  afterAll(() => {
    mc?.close();
  });

  toolIt(
    'memccapable: every ASCII and binary test passes',
    ['memccapable'],
    async () => {
      const run = await runTool(`memccapable -h 127.0.0.1 -p ${mc.port} -t 2`, 60_000);
      const r = parseCapable(run.output);
      expect(r.failed, `memccapable failures:\n${run.output}`).toEqual([]);
      expect(r.passed.length, run.output).toBeGreaterThanOrEqual(54);
      expect(r.passed.filter((n) => n.startsWith('binary')).length).toBeGreaterThanOrEqual(27);
      expect(r.allPassedLine).toBe(true);
      expect(run.code).toBe(0);
      expect(mc.failures).toEqual([]);
    },
    90_000,
  );

  toolIt(
    'memcaslap: ASCII and binary load with full verification reports no verify failures or misses',
    ['memcaslap'],
    async () => {
      for (const binary of [false, true]) {
        const run = await runTool(`memcaslap -s 127.0.0.1:${mc.port} -t 2s -v 1 -T 2 -c 8${binary ? ' -B' : ''}`, 30_000);
        const num = (name: string): number => {
          const m = new RegExp(`^${name}: (\\d+)`, 'm').exec(run.output);
          if (m === null) throw new Error(`memcaslap printed no ${name}:\n${run.output.slice(-2000)}`);
          return Number(m[1]);
        };
        expect(num('cmd_get'), run.output.slice(-1500)).toBeGreaterThan(1000);
        expect(num('cmd_set')).toBeGreaterThan(100);
        expect(num('verify_failed'), run.output.slice(-1500)).toBe(0);
        expect(num('verify_misses'), run.output.slice(-1500)).toBe(0);
      }
      expect(mc.failures).toEqual([]);
    },
    60_000,
  );

  it('memjs (binary protocol): set, get, miss, increment, delete, stats', async () => {
    const client = memjs.Client.create(`127.0.0.1:${mc.port}`, { retries: 0, timeout: 3, logger: { log: () => {} } });
    try {
      expect(await client.set('memjs:k', 'hello memjs', { expires: 0 })).toBe(true);
      expect((await client.get('memjs:k')).value?.toString()).toBe('hello memjs');
      expect((await client.get('memjs:missing')).value).toBeNull();
      expect(await client.set('memjs:n', '41', {})).toBe(true);
      expect(await client.increment('memjs:n', 1, {})).toMatchObject({ success: true, value: 42 });
      // Created from the initial value when missing.
      expect(await client.increment('memjs:new', 5, { initial: 7 })).toMatchObject({ success: true, value: 7 });
      expect(await client.delete('memjs:k')).toBe(true);
      expect((await client.get('memjs:k')).value).toBeNull();
      const stats = await new Promise<Record<string, string>>((resolve, reject) =>
        client.stats((err, _server, s) => (err !== null ? reject(err) : s === null ? reject(new Error('no stats')) : resolve(s))),
      );
      expect(Number(stats.curr_connections)).toBeGreaterThanOrEqual(1);
      expect(Number(stats.cmd_get)).toBeGreaterThanOrEqual(3);
      expect(stats.version).toBe('1.6.0-ebbrt-ts');
      expect(Number(stats.limit_maxbytes)).toBe(256 * 1024 * 1024);
    } finally {
      client.close();
    }
  });

  it('values larger than a TCP segment (100 KiB, 900 KiB) come back byte-exact', async () => {
    for (const size of [100 * KiB, 900 * KiB]) {
      const value = Buffer.alloc(size);
      for (let i = 0; i < size; i++) value[i] = (i * 31 + (i >> 8)) & 0xff;
      const header = Buffer.from(`set big${size} 9 0 ${size}\r\n`);
      // Written in several pieces so the value straddles many receives.
      const parts = [header, value.subarray(0, 1000), value.subarray(1000, size >> 1), value.subarray(size >> 1), Buffer.from(`\r\nget big${size}\r\n`)];
      const expected = Buffer.concat([Buffer.from(`STORED\r\nVALUE big${size} 9 ${size}\r\n`), value, Buffer.from('\r\nEND\r\n')]);
      const { reply } = await exchange(mc.port, parts, (r) => r.length >= expected.length, 10_000);
      expect(reply.length).toBe(expected.length);
      expect(reply.equals(expected)).toBe(true);
    }
  });

  it('a pipeline of 100 mixed requests in one write is answered in order, byte-exact', async () => {
    const requests: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 100; i += 5) {
      const key = `pipe${i}`;
      const value = `v${i}-`.repeat((i % 7) + 1);
      requests.push(`set ${key} ${i} 0 ${value.length}\r\n${value}\r\n`);
      expected.push('STORED\r\n');
      requests.push(`append ${key} 0 0 1\r\n+\r\n`);
      expected.push('STORED\r\n');
      requests.push(`get ${key} nokey${i}\r\n`);
      expected.push(`VALUE ${key} ${i} ${value.length + 1}\r\n${value}+\r\nEND\r\n`);
      requests.push(`incr ${key} 1\r\n`);
      expected.push('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
      requests.push(`delete ${key}\r\n`);
      expected.push('DELETED\r\n');
    }
    expect(requests.length).toBe(100);
    const want = expected.join('');
    const { reply } = await exchange(mc.port, Buffer.from(requests.join('')), (r) => r.length >= want.length);
    expect(reply.toString('latin1')).toBe(want);
  });

  it('bad input closes only its own connection', async () => {
    const { closed } = await exchange(mc.port, Buffer.from('x'.repeat(5000)), () => false);
    expect(closed).toBe(true);
    const { reply } = await exchange(mc.port, Buffer.from('set ok 0 0 2\r\nok\r\nget ok\r\n'), (r) => r.toString().endsWith('END\r\n'));
    expect(reply.toString()).toBe('STORED\r\nVALUE ok 0 2\r\nok\r\nEND\r\n');
  });
});

describe('the memccapable harness itself', () => {
  toolIt(
    'reports failures (a server that answers ERROR to everything fails the ASCII tests)',
    ['memccapable'],
    async () => {
      const bogus = createServer((s) => {
        s.on('data', (b) => {
          for (const ch of b) if (ch === 0x0a) s.write('ERROR\r\n');
        });
        s.on('error', () => {});
      });
      await new Promise<void>((r) => bogus.listen(0, '127.0.0.1', r));
      try {
        const port = (bogus.address() as AddressInfo).port;
        const run = await runTool(`memccapable -h 127.0.0.1 -p ${port} -t 1 -a`, 60_000);
        const r = parseCapable(run.output);
        expect(r.failed.length).toBeGreaterThan(10);
        expect(r.failed).toContain('ascii set');
        expect(r.allPassedLine).toBe(false);
        expect(run.code).not.toBe(0);
      } finally {
        bogus.close();
      }
    },
    90_000,
  );

  toolIt(
    'real memcached passes every test (the reference the server is held to)',
    ['memccapable', 'memcached'],
    async () => {
      const port = 20000 + (process.pid % 20000);
      const daemon = spawnDaemon('memcached', ['-u', 'root', '-l', '127.0.0.1', '-p', String(port), '-U', '0']);
      try {
        let run = { code: 1 as number | null, output: '' };
        // Wait for the daemon to listen (memccapable fails fast on a refused connection).
        for (let attempt = 0; attempt < 30 && !/\[pass\]/.test(run.output); attempt++) {
          await new Promise((r) => setTimeout(r, 100));
          run = await runTool(`memccapable -h 127.0.0.1 -p ${port} -t 2`, 60_000);
        }
        const r = parseCapable(run.output);
        expect(r.failed, run.output).toEqual([]);
        expect(r.passed.length).toBeGreaterThanOrEqual(54);
      } finally {
        await daemon.stop();
      }
    },
    90_000,
  );
});

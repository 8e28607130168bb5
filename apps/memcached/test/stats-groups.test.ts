/**
 * `stats items`, `stats slabs`, `stats cachedump`, `stats sizes`, `stats reset`: memcached 1.6's
 * names and formats (they answered ERROR before, so memcdump failed), on an in-memory service
 * with a fixed clock; and memcdump itself against the server on the hosted stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedService, memcachedItemBytes, SlabClasses } from '../src/index.js';
import { exchange, fakeClock, FakeClient, startHostedMemcached, type HostedMemcached } from './helpers.js';
import { runTool, toolIt } from './tools.js';

const NOW = 1_700_000_000_000;

function service(): { svc: MemcachedService; clock: ReturnType<typeof fakeClock> } {
  const clock = fakeClock(NOW);
  return { svc: new MemcachedService({ memoryLimit: 64 << 20, maxItemSize: 1 << 20, nowMs: clock.now }), clock };
}

/** STAT lines of a reply as a map (the reply must end in END). */
function statMap(text: string): Map<string, string> {
  expect(text.endsWith('END\r\n'), text).toBe(true);
  const m = new Map<string, string>();
  for (const line of text.split('\r\n').slice(0, -2)) {
    const parts = /^STAT (\S+) (.*)$/.exec(line);
    expect(parts, line).not.toBeNull();
    m.set(parts![1]!, parts![2]!);
  }
  return m;
}

describe('slab classes (memcached 1.6 defaults: -n 48, -f 1.25, -I 1m)', () => {
  it('match memcached -vv: 96, 120, 152 ... 524288 in 39 classes', () => {
    const c = new SlabClasses(1 << 20);
    expect(c.chunkSize.slice(1, 8)).toEqual([96, 120, 152, 192, 240, 304, 384]);
    expect(c.perPage.slice(1, 3)).toEqual([10922, 8738]);
    expect(c.largest).toBe(39);
    expect(c.chunkSize[39]).toBe(524288);
    expect(c.perPage[39]).toBe(2);
    expect(c.classOf(96)).toBe(1);
    expect(c.classOf(97)).toBe(2);
    expect(c.classOf(10_000_000)).toBe(39);
  });

  it('size an item as memcached does: header + key + 1 + value + 2 + CAS (+ flags)', () => {
    expect(memcachedItemBytes(3, 3, 5)).toBe(69);
    expect(memcachedItemBytes(2, 5, 0)).toBe(66);
  });
});

describe('stats items / slabs / cachedump / sizes / reset', () => {
  it('stats items lists each class holding items with memcached 1.6 fields in order', () => {
    const { svc, clock } = service();
    const c = new FakeClient(svc).feed('set foo 5 0 3\r\nbar\r\nset k2 0 100 5\r\nhello\r\n');
    clock.advance(3000);
    c.feed('get foo\r\n', 'stats items\r\n');
    const text = c.text();
    const stats = statMap(text.slice(text.indexOf('STAT')));
    // memcached 1.6 with one LRU (-o no_lru_maintainer), the model here: no hot/warm/cold fields.
    expect([...stats.keys()]).toEqual([
      'number', 'age', 'mem_requested', 'evicted', 'evicted_nonzero', 'evicted_time', 'outofmemory', 'tailrepairs',
      'reclaimed', 'expired_unfetched', 'evicted_unfetched', 'crawler_reclaimed', 'crawler_items_checked', 'lrutail_reflocked',
    ].map((f) => `items:1:${f}`));
    expect(stats.get('items:1:number')).toBe('2');
    expect(stats.get('items:1:mem_requested')).toBe('135'); // 69 + 66, what memcached 1.6.18 reports
    expect(stats.get('items:1:age')).toBe('3'); // k2 is the LRU tail, untouched for 3 s
  });

  it('an empty store answers stats items with END alone; big values land in bigger classes', () => {
    const { svc } = service();
    expect(new FakeClient(svc).feed('stats items\r\n').text()).toBe('END\r\n');
    const c = new FakeClient(svc).feed(`set big 0 0 1000\r\n${'x'.repeat(1000)}\r\n`, 'stats items\r\n');
    const cls = new SlabClasses(1 << 20).classOf(memcachedItemBytes(3, 1000, 0));
    expect(cls).toBeGreaterThan(1);
    expect(c.text()).toContain(`STAT items:${cls}:number 1\r\n`);
  });

  it('stats slabs counts chunks, pages (kept after deletes, as memcached) and per-class hits', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed('set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a\r\nincr a 5\r\ndelete b\r\n');
    c.tcp.sends.length = 0;
    c.feed('stats slabs\r\n');
    const s = statMap(c.text());
    expect([...s.keys()]).toEqual([
      '1:chunk_size', '1:chunks_per_page', '1:total_pages', '1:total_chunks', '1:used_chunks', '1:free_chunks', '1:free_chunks_end',
      '1:get_hits', '1:cmd_set', '1:delete_hits', '1:incr_hits', '1:decr_hits', '1:cas_hits', '1:cas_badval', '1:touch_hits',
      'active_slabs', 'total_malloced',
    ]);
    expect(s.get('1:chunk_size')).toBe('96');
    expect(s.get('1:total_pages')).toBe('1');
    expect(s.get('1:used_chunks')).toBe('1');
    expect(s.get('1:free_chunks')).toBe('10921');
    expect(s.get('1:get_hits')).toBe('1');
    expect(s.get('1:cmd_set')).toBe('2');
    expect(s.get('1:delete_hits')).toBe('1');
    expect(s.get('1:incr_hits')).toBe('1');
    expect(s.get('total_malloced')).toBe(String(1 << 20));
  });

  it('stats cachedump lists a class most recent first, with byte counts and Unix expiry', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed('set foo 5 0 3\r\nbar\r\nset k2 0 100 5\r\nhello\r\n');
    c.tcp.sends.length = 0;
    c.feed('stats cachedump 1 0\r\n');
    expect(c.text()).toBe(`ITEM k2 [5 b; ${NOW / 1000 + 100} s]\r\nITEM foo [3 b; 0 s]\r\nEND\r\n`);
    c.tcp.sends.length = 0;
    c.feed('stats cachedump 1 1\r\n', 'stats cachedump 2 0\r\n', 'stats cachedump 0 0\r\n');
    expect(c.text()).toBe(`ITEM k2 [5 b; ${NOW / 1000 + 100} s]\r\nEND\r\nEND\r\nEND\r\n`);
  });

  it('bad cachedump lines get memcached 1.6 errors', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed(
      'stats cachedump\r\n', 'stats cachedump 1\r\n', 'stats cachedump x\r\n', 'stats cachedump 1 x\r\n',
      'stats cachedump -1 0\r\n', 'stats cachedump 64 0\r\n', 'stats cachedump 63 0\r\n',
    );
    expect(c.text()).toBe(
      'CLIENT_ERROR bad command line\r\n'.repeat(3) + 'CLIENT_ERROR bad command line format\r\n'.repeat(2) + 'CLIENT_ERROR Illegal slab id\r\nEND\r\n',
    );
  });

  it('stats sizes, stats reset, and unknown groups', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed('set a 0 0 1\r\n1\r\nget a\r\nstats reset\r\nstats sizes\r\nstats bogus\r\nstats\r\n');
    const text = c.text();
    expect(text).toContain('RESET\r\nSTAT sizes_status disabled\r\nEND\r\nERROR\r\n');
    expect(text).toContain('STAT get_hits 0\r\n'); // reset
    expect(text).toContain('STAT curr_items 1\r\n'); // items stay
  });
});

describe('memcdump (libmemcached-tools) against the server', () => {
  let mc: HostedMemcached;
  beforeAll(async () => {
    mc = await startHostedMemcached();
  });
  afterAll(() => mc?.close());

  toolIt(
    'lists every stored key, small and large',
    ['memcdump'],
    async () => {
      const keys = ['alpha', 'beta', 'gamma:1', 'big'];
      const req = keys.map((k) => (k === 'big' ? `set ${k} 0 0 200000\r\n${'b'.repeat(200000)}\r\n` : `set ${k} 7 0 2\r\nhi\r\n`)).join('');
      await exchange(mc.port, Buffer.from(req), (r) => r.toString().split('STORED\r\n').length > keys.length);
      const run = await runTool(`memcdump --servers=127.0.0.1:${mc.port}`, 30_000);
      expect(run.code, run.output).toBe(0);
      expect(run.output.trim().split('\n').sort()).toEqual([...keys].sort());
      expect(mc.failures).toEqual([]);
    },
    60_000,
  );
});

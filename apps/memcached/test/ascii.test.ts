import { IOBuf } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcachedService } from '../src/index.js';
import { MAX_LINE } from '../src/protocol/ascii/session.js';
import { fakeClock, FakeClient, segment } from './helpers.js';

function service(options: ConstructorParameters<typeof MemcachedService>[0] = {}) {
  const clock = fakeClock();
  return { svc: new MemcachedService({ nowMs: clock.now, ...options }), clock };
}

function run(...chunks: string[]): string {
  const { svc } = service();
  return new FakeClient(svc).feed(...chunks).text();
}

describe('ASCII protocol replies', () => {
  it('set/get/gets with exact memcached strings', () => {
    const out = run('set foo 5 0 3\r\nbar\r\nget foo\r\ngets foo\r\nget nope\r\n');
    expect(out).toMatch(/^STORED\r\nVALUE foo 5 3\r\nbar\r\nEND\r\nVALUE foo 5 3 (\d+)\r\nbar\r\nEND\r\nEND\r\n$/);
  });

  it('multi-get returns hits in order and skips misses', () => {
    expect(run('set a 0 0 1\r\n1\r\nset c 0 0 1\r\n3\r\nget a b c\r\n')).toBe(
      'STORED\r\nSTORED\r\nVALUE a 0 1\r\n1\r\nVALUE c 0 1\r\n3\r\nEND\r\n',
    );
  });

  it('add/replace/append/prepend/cas/delete/touch', () => {
    const { svc } = service();
    const c = new FakeClient(svc);
    c.feed('add k 0 0 1\r\na\r\nadd k 0 0 1\r\nb\r\nreplace x 0 0 1\r\nc\r\nreplace k 0 0 1\r\nd\r\n');
    c.feed('append k 0 0 2\r\nef\r\nprepend k 0 0 2\r\nxy\r\nappend nope 0 0 1\r\nz\r\nget k\r\n');
    expect(c.text()).toBe('STORED\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nNOT_STORED\r\nVALUE k 0 5\r\nxydef\r\nEND\r\n');
    const cas = svc.store.peek('k')!.cas;
    const d = new FakeClient(svc);
    d.feed(`cas k 0 0 1 ${cas + 100}\r\nq\r\ncas k 0 0 1 ${cas}\r\nq\r\ncas nope 0 0 1 1\r\nq\r\n`);
    d.feed('touch k 10\r\ntouch nope 10\r\ndelete k\r\ndelete k\r\n');
    expect(d.text()).toBe('EXISTS\r\nSTORED\r\nNOT_FOUND\r\nTOUCHED\r\nNOT_FOUND\r\nDELETED\r\nNOT_FOUND\r\n');
  });

  it('noreply suppresses status replies but not errors', () => {
    expect(run('set a 0 0 1 noreply\r\nx\r\nadd a 0 0 1 noreply\r\ny\r\ndelete a noreply\r\nincr a 1 noreply\r\nincr\r\nget a\r\n')).toBe('ERROR\r\nEND\r\n');
    expect(run('set n 0 0 1\r\nx\r\nincr n 1 noreply\r\n')).toBe('STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
  });

  it('incr/decr: 64-bit wrap, floor at 0, bad delta, non-numeric', () => {
    expect(run('set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\ndecr n 5\r\nincr n abc\r\nincr n 18446744073709551616\r\nincr x 1\r\n')).toBe(
      'STORED\r\n1\r\n0\r\nCLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\nNOT_FOUND\r\n',
    );
  });

  it('gat/gats touch and return', () => {
    const { svc, clock } = service();
    const c = new FakeClient(svc).feed('set k 3 1 2\r\nhi\r\ngat 100 k nope\r\n');
    clock.advance(50_000);
    c.feed('gats 0 k\r\n');
    expect(c.text()).toMatch(/^STORED\r\nVALUE k 3 2\r\nhi\r\nEND\r\nVALUE k 3 2 \d+\r\nhi\r\nEND\r\n$/);
  });

  it('flush_all [delay] [noreply], version, verbosity, stats, unknown commands', () => {
    const { svc, clock } = service();
    const c = new FakeClient(svc).feed('set a 0 0 1\r\nx\r\nflush_all 2\r\nget a\r\n');
    clock.advance(2_000);
    c.feed('get a\r\nflush_all noreply\r\nflush_all abc\r\nversion\r\nverbosity\r\nverbosity 1\r\nverbosity 1 noreply\r\nbogus\r\n\r\n');
    expect(c.text()).toBe(
      'STORED\r\nOK\r\nVALUE a 0 1\r\nx\r\nEND\r\nEND\r\nCLIENT_ERROR invalid exptime argument\r\nVERSION 1.6.0-ebbrt-ts\r\nERROR\r\nOK\r\nERROR\r\nERROR\r\n',
    );
    const stats = new FakeClient(svc).feed('stats\r\n').text();
    for (const name of ['pid', 'uptime', 'time', 'version', 'curr_items', 'total_items', 'bytes', 'curr_connections', 'total_connections', 'cmd_get', 'cmd_set', 'get_hits', 'get_misses', 'evictions', 'limit_maxbytes', 'threads']) {
      expect(stats).toMatch(new RegExp(`STAT ${name} \\S+\\r\\n`));
    }
    expect(stats).toMatch(/STAT time 1700000002\r\n/);
    expect(stats).toMatch(/STAT curr_connections 2\r\n/);
    expect(stats.endsWith('END\r\n')).toBe(true);
    expect(new FakeClient(svc).feed('stats noreply\r\n').text()).toBe('ERROR\r\n');
  });

  it('bad command lines get CLIENT_ERROR; the connection resyncs like memcached', () => {
    expect(run('set k 0 0 -1\r\nget k\r\n')).toBe('CLIENT_ERROR bad command line format\r\nEND\r\n');
    expect(run('set k abc 0 1\r\nx\r\n')).toBe('CLIENT_ERROR bad command line format\r\nERROR\r\n');
    expect(run(`get ${'k'.repeat(251)}\r\n`)).toBe('CLIENT_ERROR bad command line format\r\n');
    expect(run('set k 0 0 1\r\nxyz\r\nget k\r\n')).toBe('CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n'); // "yz" took the CRLF's place; the CRLF is an empty line
    expect(run('delete a b c d e\r\ndelete k 5\r\n')).toBe('ERROR\r\nCLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n');
  });

  it('values above the item size limit are refused and swallowed', () => {
    const { svc } = service({ maxItemSize: 10 });
    const c = new FakeClient(svc).feed('set k 0 0 1\r\na\r\nset k 0 0 11\r\n0123456789A\r\nget k\r\n');
    expect(c.text()).toBe('STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n');
  });

  it('a line without \\n within the limit is an error and closes the connection', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed('x'.repeat(MAX_LINE - 1));
    expect(c.tcp.closed).toBe(false);
    c.feed('yy');
    expect(c.text()).toBe('CLIENT_ERROR line too long\r\n');
    expect(c.tcp.closed).toBe(true);
    // A long multi-get line is fine.
    const keys = Array.from({ length: 400 }, (_, i) => `key${i}`).join(' ');
    expect(new FakeClient(svc).feed(`get ${keys}\r\n`).text()).toBe('END\r\n');
  });

  it('quit flushes earlier replies in the batch, then closes', () => {
    const { svc } = service();
    const c = new FakeClient(svc).feed('version\r\nquit\r\nversion\r\n');
    expect(c.text()).toBe('VERSION 1.6.0-ebbrt-ts\r\n');
    expect(c.tcp.closed).toBe(true);
    expect(svc.connections).toBe(0);
  });

  it('replies to everything in one receive as one sendQueued chain', () => {
    const { svc } = service();
    const c = new FakeClient(svc);
    const reqs = Array.from({ length: 100 }, (_, i) => `set k${i} 0 0 ${String(i).length}\r\n${i}\r\nget k${i}\r\n`).join('');
    c.feed(reqs);
    expect(c.tcp.sends.length).toBe(1);
    const expected = Array.from({ length: 100 }, (_, i) => `STORED\r\nVALUE k${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`).join('');
    expect(c.text()).toBe(expected);
  });

  it('GET replies are zero copy: the value views share the received buffer', () => {
    const { svc } = service();
    const c = new FakeClient(svc, true);
    const received = IOBuf.copyOf('set k 0 0 5\r\nhello\r\n');
    const storage = received.storage;
    c.feed(received, 'get k\r\n');
    const reply = c.tcp.chains[1]!;
    const shared = [...reply].filter((e) => e.storage === storage);
    expect(shared.length).toBe(1);
    expect(Buffer.from(shared[0]!.data()).toString()).toBe('hello');
    for (const ch of c.tcp.chains) ch.releaseChain();
  });
});

// ------------------------------------------------------------------ properties

const keyArb = fc.constantFrom('a', 'b', 'key_c', 'n');
const valueArb = fc.uint8Array({ maxLength: 40 });
const bin = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** One valid request (noreply variants included), as bytes. */
const requestArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.constantFrom('set', 'add', 'replace', 'append', 'prepend'), keyArb, fc.nat(1000), valueArb, fc.boolean()).map(([cmd, k, flags, v, nr]) =>
    Buffer.concat([bin(`${cmd} ${k} ${flags} 0 ${v.length}${nr ? ' noreply' : ''}\r\n`), v, bin('\r\n')]),
  ),
  fc.tuple(keyArb, fc.nat(30), valueArb).map(([k, cas, v]) => Buffer.concat([bin(`cas ${k} 0 0 ${v.length} ${cas}\r\n`), v, bin('\r\n')])),
  fc.tuple(fc.constantFrom('get', 'gets'), fc.array(keyArb, { minLength: 1, maxLength: 4 })).map(([c, ks]) => bin(`${c} ${ks.join(' ')}\r\n`)),
  keyArb.map((k) => bin(`set ${k} 0 0 2\r\n10\r\n`)),
  fc.tuple(fc.constantFrom('incr', 'decr'), keyArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([c, k, d]) => bin(`${c} ${k} ${d}\r\n`)),
  fc.tuple(keyArb, fc.boolean()).map(([k, nr]) => bin(`delete ${k}${nr ? ' noreply' : ''}\r\n`)),
  fc.tuple(keyArb, fc.integer({ min: -1, max: 100 })).map(([k, t]) => bin(`touch ${k} ${t}\r\n`)),
  fc.constantFrom(bin('version\r\n'), bin('flush_all\r\n'), bin('verbosity 1\r\n'), bin('gat 100 a b\r\n'), bin('bogus\r\n')),
);


describe('ASCII parser properties', () => {
  it('any segmentation of a valid request stream gives the same replies as one piece', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (reqs, cuts) => {
        const stream = Buffer.concat(reqs);
        const whole = new FakeClient(service().svc).feed(stream);
        const split = new FakeClient(service().svc).feed(...segment(stream, cuts));
        expect(split.text()).toBe(whole.text());
        expect(split.tcp.closed).toBe(whole.tcp.closed);
      }),
      { numRuns: 300 },
    );
  });

  it('random garbage never throws and never disturbs another connection', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 20 }), (garbage, cuts) => {
        const { svc } = service();
        const bad = new FakeClient(svc);
        const good = new FakeClient(svc);
        good.feed('set mine 7 0 4\r\nsafe\r\n');
        for (const chunk of segment(garbage, cuts)) {
          expect(() => bad.feed(chunk)).not.toThrow();
          good.feed('get mine\r\n');
        }
        expect(good.tcp.closed).toBe(false);
        const gets = good.text().split('VALUE mine 7 4\r\nsafe\r\nEND\r\n').length - 1;
        expect(gets).toBe(segment(garbage, cuts).length);
      }),
      { numRuns: 200 },
    );
  });
});

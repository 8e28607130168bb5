import { IOBuf, OutOfMemoryError, parseByteSize } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcachedService, USAGE, parseMemcachedArgs } from '../src/index.js';
import { fakeClock, FakeClient } from './helpers.js';

describe('connection state machine', () => {
  it('answers out of memory instead of crashing when reply buffers cannot be had, after shedding items once', () => {
    let failures = 0;
    const svc = new MemcachedService({
      nowMs: fakeClock().now,
      allocate: (size) => {
        if (failures > 0) {
          failures--;
          throw new OutOfMemoryError('reply buffer', size, 0);
        }
        return IOBuf.allocate(size);
      },
    });
    const a = new FakeClient(svc).feed('set victim 0 0 1\r\nv\r\n');
    expect(a.text()).toBe('STORED\r\n');
    // The first allocation fails, the store sheds the LRU item, the retry succeeds.
    failures = 1;
    const b = new FakeClient(svc).feed('set k 0 0 1\r\nx\r\n');
    expect(b.text()).toBe('STORED\r\n');
    expect(svc.store.peek('victim')).toBeUndefined();
    expect(svc.store.counters.evictions).toBe(1);
    expect(svc.store.peek('k')).toBeDefined(); // only as much as the reply needed was shed
    // Both attempts fail: the preallocated error goes out and only that connection closes.
    failures = 2;
    const c = new FakeClient(svc).feed('get k\r\n');
    expect(c.text()).toBe('SERVER_ERROR out of memory\r\n');
    expect(c.tcp.closed).toBe(true);
    expect(a.tcp.closed).toBe(false);
    a.feed('get k\r\n');
    expect(a.text()).toBe('STORED\r\nEND\r\n'); // k was shed in the attempt to make room
  });

  it('counts connections and sniffs the protocol per connection', () => {
    const svc = new MemcachedService({ nowMs: fakeClock().now });
    const ascii = new FakeClient(svc).feed('version\r\n');
    const binary = new FakeClient(svc).feed(Uint8Array.from([0x80, 0x0a, ...new Array(22).fill(0)]));
    expect(ascii.text()).toBe('VERSION 1.6.0-ebbrt-ts\r\n');
    expect(binary.tcp.output()[0]).toBe(0x81);
    expect(svc.ctx.connections).toMatchObject({ curr_connections: 2, total_connections: 2 });
    ascii.handler.closed(ascii.tcp);
    binary.handler.aborted();
    expect(svc.ctx.connections).toMatchObject({ curr_connections: 0, total_connections: 2 });
    expect(ascii.tcp.closed).toBe(true);
  });

  it('releases every received buffer it does not store (no leaked storage references)', () => {
    const svc = new MemcachedService({ nowMs: fakeClock().now });
    const c = new FakeClient(svc);
    const bufs = [IOBuf.copyOf('get a\r\nset a 0 0 3\r\nab'), IOBuf.copyOf('c\r\nget a\r\n'), IOBuf.copyOf('delete a\r\n')];
    const storages = bufs.map((b) => b.storage);
    c.feed(...bufs);
    expect(c.text()).toBe('END\r\nSTORED\r\nVALUE a 0 3\r\nabc\r\nEND\r\nDELETED\r\n');
    expect(storages.map((s) => s.isReleased)).toEqual([true, true, true]);
    const d = new FakeClient(svc);
    const pending = IOBuf.copyOf('set b 0 0 10\r\nhalf');
    const pendingStorage = pending.storage;
    d.feed(pending);
    expect(pendingStorage.isReleased).toBe(false); // the residue waits for the rest of the value
    d.handler.closed(d.tcp); // the peer went away mid-value
    expect(pendingStorage.isReleased).toBe(true);
  });
});

describe('arguments', () => {
  it('parses --port, --memory-limit, --max-item-size with units', () => {
    expect(parseMemcachedArgs([])).toEqual({ port: 11211, memoryLimit: 64 * 1024 * 1024, maxItemSize: 1024 * 1024, memoryReserve: undefined });
    expect(parseMemcachedArgs(['--port', '0', '--memory-limit', '8MiB', '--max-item-size=512KiB'])).toEqual({ port: 0, memoryLimit: 8 << 20, maxItemSize: 512 << 10, memoryReserve: undefined });
    expect(parseMemcachedArgs(['-p', '1', '-m', '2MiB', '-I', '4096', '--memory-reserve', '1GiB'])).toEqual({ port: 1, memoryLimit: 2 << 20, maxItemSize: 4096, memoryReserve: 1 << 30 });
  });

  it("reads memcached's own command lines as memcached does: bare -m is megabytes, -I takes bytes or k/m", () => {
    // The line the reference tests start real memcached 1.6 with.
    expect(parseMemcachedArgs(['-m', '64', '-I', '1m'])).toMatchObject({ memoryLimit: 64 << 20, maxItemSize: 1 << 20 });
    expect(parseMemcachedArgs(['--memory-limit', '2', '--max-item-size=512k'])).toMatchObject({ memoryLimit: 2 << 20, maxItemSize: 512 << 10 });
    expect(parseMemcachedArgs(['--memory-limit=1024', '-I', '2M'])).toMatchObject({ memoryLimit: 1 << 30, maxItemSize: 2 << 20 });
    expect(parseMemcachedArgs(['-m', '64', '-I', '1048576', '-I', '8K'])).toMatchObject({ maxItemSize: 8 << 10 });
    expect(parseMemcachedArgs(['-m', '1048576B'])).toMatchObject({ memoryLimit: 1 << 20 }); // a unit keeps its meaning
    expect(() => parseMemcachedArgs(['-m', '1', '-I', '2m'])).toThrow(/must not exceed/);
    expect(() => parseMemcachedArgs(['-m', '0'])).toThrow(/^--memory-limit: "0" must be a positive size/);
    expect(() => parseMemcachedArgs(['-m', '64m'])).toThrow(/^--memory-limit: "64m" is not a size/); // memcached's -m has no suffix
    expect(() => parseMemcachedArgs(['-m', '99999999999999'])).toThrow(/is not a size/);
  });

  it('--help asks for the usage, which says what a bare number means', () => {
    expect(parseMemcachedArgs(['--help']).help).toBe(true);
    expect(parseMemcachedArgs(['-h']).help).toBe(true);
    expect(parseMemcachedArgs([]).help).toBeUndefined();
    expect(USAGE).toMatch(/-m, --memory-limit.*bare number is megabytes/);
    expect(USAGE).toMatch(/-I, --max-item-size.*bare number is bytes/);
    expect(() => parseMemcachedArgs(['--memory-limit', '1MiB', '--max-item-size', '2MiB'])).toThrow(/must not exceed/);
  });

  it('every bad argument gets an error naming its flag', () => {
    expect(() => parseMemcachedArgs(['--port', '70000'])).toThrow(/^--port: "70000" is not a port number/);
    expect(() => parseMemcachedArgs(['--memory-limit', 'lots'])).toThrow(/^--memory-limit: "lots" is not a size/);
    expect(() => parseMemcachedArgs(['-I', '0'])).toThrow(/^--max-item-size: "0" must be a positive size/);
    expect(() => parseMemcachedArgs(['--memory-reserve=1.5MiB'])).toThrow(/^--memory-reserve: "1.5MiB" is not a size/);
    expect(() => parseMemcachedArgs(['--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(() => parseMemcachedArgs(['--port'])).toThrow(/--port <value>' argument missing/);
    expect(() => parseMemcachedArgs(['11211'])).toThrow(/Unexpected argument '11211'/);
  });

  it('sizes follow the config grammar exactly (one parser: @ebbrt/interfaces parseByteSize)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^\s*\d{1,7}\s*(B|KiB|MiB|GiB|k|kb|m|MB|g|b)?\s*$/), fc.string()), (text) => {
        const shared = parseByteSize(text);
        let parsed: number | Error;
        try {
          parsed = parseMemcachedArgs(['--memory-limit', text, '--max-item-size', '1']).memoryLimit;
        } catch (error) {
          parsed = error as Error;
        }
        // A bare number is memcached's megabytes; with a unit, exactly the config grammar.
        const bare = /^\s*(\d+)\s*$/.exec(text);
        const expected = bare !== null ? Number(bare[1]) * 1024 * 1024 : shared;
        if (expected === undefined || expected === 0) expect(parsed).toBeInstanceOf(Error);
        else expect(parsed).toBe(expected);
      }),
    );
    expect(parseByteSize('64MiB')).toBe(64 << 20);
    expect(parseByteSize('64m')).toBeUndefined(); // the old app-only grammar took this; the config never did
  });
});

import { IOBuf, OutOfMemoryError } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadlineMs, EXPIRED, ITEM_OVERHEAD, MemcachedStore, NEVER, StoreMode, StoreStatus, type StoreOptions } from '../src/index.js';
import { chainOf, fakeClock } from './helpers.js';

const KiB = 1024;

function storeWith(options: Partial<StoreOptions> = {}) {
  const clock = fakeClock();
  const store = new MemcachedStore({ memoryLimit: 1 << 20, maxItemSize: 64 * KiB, nowMs: clock.now, ...options });
  return { store, clock };
}

function val(store: MemcachedStore, key: string): string | undefined {
  const item = store.peek(key);
  if (item === undefined) return undefined;
  return item.value === null ? '' : Buffer.from(item.value.toUint8Array()).toString('latin1');
}

const set = (store: MemcachedStore, key: string, value: string, exptime = 0, flags = 0): number =>
  store.store(StoreMode.Set, key, value.length === 0 ? null : IOBuf.copyOf(value), value.length, flags, exptime, 0);

describe('expiry rule', () => {
  const now = 1_700_000_000_000;
  it('0 never expires; <= 30 days is relative; > 30 days is absolute Unix time; negative is expired', () => {
    expect(deadlineMs(0, now)).toBe(NEVER);
    expect(deadlineMs(10, now)).toBe(now + 10_000);
    expect(deadlineMs(2_592_000, now)).toBe(now + 2_592_000_000); // exactly 30 days: still relative
    expect(deadlineMs(1_700_000_100, now)).toBe(1_700_000_100_000); // absolute, in the future
    expect(deadlineMs(2_592_001, now)).toBe(EXPIRED); // absolute 1970 date: long past
    expect(deadlineMs(-1, now)).toBe(EXPIRED);
  });

  it('items expire lazily on access, relative and absolute', () => {
    const { store, clock } = storeWith();
    set(store, 'rel', 'a', 5);
    set(store, 'abs', 'b', Math.floor(clock.now() / 1000) + 60);
    set(store, 'never', 'c', 0);
    clock.advance(4_999);
    expect(val(store, 'rel')).toBe('a');
    clock.advance(1);
    expect(val(store, 'rel')).toBeUndefined();
    expect(val(store, 'abs')).toBe('b');
    clock.advance(55_000);
    expect(val(store, 'abs')).toBeUndefined();
    clock.advance(1e9);
    expect(val(store, 'never')).toBe('c');
    expect(store.itemCount).toBe(1);
  });

  it('a negative exptime stores nothing and removes the old value', () => {
    const { store } = storeWith();
    set(store, 'k', 'old');
    expect(set(store, 'k', 'new', -1)).toBe(StoreStatus.Stored);
    expect(val(store, 'k')).toBeUndefined();
    expect(store.chargedBytes).toBe(0);
  });

  it('touch moves the deadline', () => {
    const { store, clock } = storeWith();
    set(store, 'k', 'v', 10);
    clock.advance(9_000);
    expect(store.touch('k', 100)).toBeDefined();
    clock.advance(50_000);
    expect(val(store, 'k')).toBe('v');
    expect(store.touch('k', -1)).toBeDefined();
    expect(val(store, 'k')).toBeUndefined();
    expect(store.touch('missing', 1)).toBeUndefined();
  });
});

describe('LRU eviction', () => {
  it('evicts least recently used first, and a get refreshes recency', () => {
    // Each value is its own 1000-byte storage: charge = 1000 + key + overhead.
    const per = 1000 + 2 + ITEM_OVERHEAD;
    const { store } = storeWith({ memoryLimit: per * 3 });
    const put = (k: string) => store.store(StoreMode.Set, k, IOBuf.allocate(1000), 1000, 0, 0, 0);
    put('k1');
    put('k2');
    put('k3');
    expect(store.keysByRecency()).toEqual(['k3', 'k2', 'k1']);
    store.get('k1'); // k2 is now the LRU
    put('k4');
    expect(store.keysByRecency()).toEqual(['k4', 'k1', 'k3']);
    put('k5');
    expect(store.keysByRecency()).toEqual(['k5', 'k4', 'k1']);
    expect(store.counters.evictions).toBe(2);
    expect(store.chargedBytes).toBeLessThanOrEqual(per * 3);
  });

  it('an item that can never fit is refused with NoMemory and evicts nothing', () => {
    const { store } = storeWith({ memoryLimit: 4 * KiB, maxItemSize: 64 * KiB });
    set(store, 'small', 'x');
    expect(store.store(StoreMode.Set, 'big', IOBuf.allocate(8 * KiB), 8 * KiB, 0, 0, 0)).toBe(StoreStatus.NoMemory);
    expect(val(store, 'small')).toBe('x');
    expect(store.store(StoreMode.Set, 'huge', IOBuf.allocate(65 * KiB), 65 * KiB, 0, 0, 0)).toBe(StoreStatus.TooLarge);
  });

  it('a flood of sets keeps charged bytes <= limit and every surviving value intact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 4 * KiB, max: 40 * KiB }),
        (ops, limit) => {
          const { store } = storeWith({ memoryLimit: limit, maxItemSize: 3000 });
          const model = new Map<string, number>();
          for (const [k, size] of ops) {
            const key = `key${k}`;
            const bytes = new Uint8Array(size).fill(k);
            const st = store.store(StoreMode.Set, key, size === 0 ? null : IOBuf.copyOf(bytes), size, k, 0, 0);
            if (st === StoreStatus.Stored) model.set(key, size);
            else model.delete(key);
            expect(store.chargedBytes).toBeLessThanOrEqual(limit);
          }
          for (const key of store.keysByRecency()) {
            const item = store.peek(key)!;
            expect(item.length).toBe(model.get(key));
            const data = item.value === null ? new Uint8Array(0) : item.value.toUint8Array();
            expect(data.every((b) => b === item.flags)).toBe(true);
          }
          store.clear();
          expect(store.chargedBytes).toBe(0);
          expect(store.pinnedStorages).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('CAS', () => {
  it('each modification gets a new, increasing unique; cas mode checks it', () => {
    const { store } = storeWith();
    set(store, 'k', 'a');
    const c1 = store.peek('k')!.cas;
    set(store, 'k', 'b');
    const c2 = store.peek('k')!.cas;
    expect(c2).toBeGreaterThan(c1);
    expect(store.store(StoreMode.Cas, 'k', IOBuf.copyOf('c'), 1, 0, 0, c1)).toBe(StoreStatus.Exists);
    expect(store.store(StoreMode.Cas, 'k', IOBuf.copyOf('c'), 1, 0, 0, c2)).toBe(StoreStatus.Stored);
    expect(val(store, 'k')).toBe('c');
    expect(store.store(StoreMode.Cas, 'nope', IOBuf.copyOf('c'), 1, 0, 0, c2)).toBe(StoreStatus.NotFound);
    // A set carrying a CAS (binary protocol) is checked too.
    const c3 = store.peek('k')!.cas;
    expect(store.store(StoreMode.Set, 'k', IOBuf.copyOf('d'), 1, 0, 0, c3 - 1)).toBe(StoreStatus.Exists);
    expect(store.store(StoreMode.Set, 'k', IOBuf.copyOf('d'), 1, 0, 0, c3)).toBe(StoreStatus.Stored);
    expect(store.counters).toMatchObject({ cas_hits: 1, cas_badval: 1, cas_misses: 1 });
  });
});

describe('incr/decr', () => {
  it('is unsigned 64-bit: incr wraps at 2^64, decr floors at 0', () => {
    const { store } = storeWith();
    set(store, 'n', '18446744073709551614');
    expect(store.arith('n', true, 1n, null, 0)).toBe(StoreStatus.Stored);
    expect(store.lastValue).toBe(18446744073709551615n);
    expect(store.arith('n', true, 3n, null, 0)).toBe(StoreStatus.Stored);
    expect(store.lastValue).toBe(2n);
    // Rewritten in place like memcached: space-padded to the old 20-digit length.
    expect(val(store, 'n')).toBe('2'.padEnd(20));
    expect(store.arith('n', false, 5n, null, 0)).toBe(StoreStatus.Stored);
    expect(store.lastValue).toBe(0n);
    expect(store.arith('missing', true, 1n, null, 0)).toBe(StoreStatus.NotFound);
    expect(store.arith('created', true, 1n, 42n, 0)).toBe(StoreStatus.Stored);
    expect(val(store, 'created')).toBe('42');
    set(store, 'text', 'abc');
    expect(store.arith('text', true, 1n, null, 0)).toBe(StoreStatus.NonNumeric);
    set(store, 'big', '18446744073709551616'); // 2^64: not a 64-bit number
    expect(store.arith('big', true, 1n, null, 0)).toBe(StoreStatus.NonNumeric);
  });

  it('survives allocation failure by shedding items first, and reports NoMemory if that is not enough', () => {
    let fail = 0;
    const { store } = storeWith({
      allocate: (size) => {
        if (fail > 0) {
          fail--;
          throw new OutOfMemoryError('test buffer', size, 0);
        }
        return IOBuf.allocate(size);
      },
    });
    set(store, 'old', 'x');
    set(store, 'n', '1');
    fail = 1;
    expect(store.arith('n', true, 1n, null, 0)).toBe(StoreStatus.Stored);
    expect(val(store, 'n')).toBe('2');
    expect(val(store, 'old')).toBeUndefined(); // shed to make room
    fail = 2;
    expect(store.arith('n', true, 1n, null, 0)).toBe(StoreStatus.NoMemory);
  });
});

describe('append/prepend and zero copy', () => {
  it('stored values share the received storage; append builds views of old + new', () => {
    const { store } = storeWith();
    const received = chainOf(['set k 0 0 5\r\nhello\r\n']);
    const storage = received.storage;
    const view = received.clone().advance(13).trimEnd(2); // "hello"
    received.releaseChain();
    store.store(StoreMode.Set, 'k', view, 5, 0, 0, 0);
    const item = store.peek('k')!;
    expect(item.value!.storage).toBe(storage);
    expect(storage.isReleased).toBe(false);
    const tail = IOBuf.copyOf(' world');
    const tailStorage = tail.storage;
    expect(store.store(StoreMode.Append, 'k', tail, 6, 0, 0, 0)).toBe(StoreStatus.Stored);
    const appended = store.peek('k')!;
    expect(Buffer.from(appended.value!.toUint8Array()).toString()).toBe('hello world');
    expect([...appended.value!].map((e) => e.storage)).toEqual([storage, tailStorage]);
    expect(store.store(StoreMode.Prepend, 'k', IOBuf.copyOf('>'), 1, 0, 0, 0)).toBe(StoreStatus.Stored);
    expect(val(store, 'k')).toBe('>hello world');
    expect(store.store(StoreMode.Append, 'missing', IOBuf.copyOf('x'), 1, 0, 0, 0)).toBe(StoreStatus.NotStored);
    store.delete('k');
    expect(storage.isReleased).toBe(true);
    expect(tailStorage.isReleased).toBe(true);
  });
});

describe('memory accounting', () => {
  it('charges each distinct storage once, plus key and overhead; returns to 0 after delete and flush', () => {
    const { store } = storeWith();
    const buf = IOBuf.allocate(1000);
    const a = buf.clone().trimEnd(900);
    const b = buf.clone().advance(100).trimEnd(800);
    buf.release();
    store.store(StoreMode.Set, 'a', a, 100, 0, 0, 0);
    expect(store.chargedBytes).toBe(1000 + 1 + ITEM_OVERHEAD);
    store.store(StoreMode.Set, 'bb', b, 100, 0, 0, 0);
    expect(store.chargedBytes).toBe(1000 + 3 + 2 * ITEM_OVERHEAD); // the shared storage is charged once
    expect(store.pinnedStorages).toBe(1);
    store.delete('a');
    expect(store.chargedBytes).toBe(1000 + 2 + ITEM_OVERHEAD);
    store.delete('bb');
    expect(store.chargedBytes).toBe(0);
    set(store, 'x', 'y');
    set(store, 'z', 'w');
    store.flushAll(0);
    expect(store.chargedBytes).toBe(0);
    expect(store.itemCount).toBe(0);
  });
});

describe('flush_all', () => {
  it('with a delay: items stored before the deadline vanish once it passes, later ones stay', () => {
    const { store, clock } = storeWith();
    set(store, 'a', '1');
    store.flushAll(10);
    clock.advance(5_000);
    expect(val(store, 'a')).toBe('1');
    set(store, 'b', '2'); // stored before the deadline: flushed too
    clock.advance(5_000);
    expect(val(store, 'a')).toBeUndefined();
    expect(val(store, 'b')).toBeUndefined();
    expect(store.chargedBytes).toBe(0);
    set(store, 'c', '3');
    clock.advance(60_000);
    expect(val(store, 'c')).toBe('3');
  });
});

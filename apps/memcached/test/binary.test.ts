import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcachedService } from '../src/index.js';
import { Op, Status } from '../src/protocol/binary/opcodes.js';
import { fakeClock, FakeClient, segment } from './helpers.js';

interface Req {
  op: number;
  key?: string | Uint8Array;
  extras?: Uint8Array;
  value?: Uint8Array | string;
  cas?: bigint;
  opaque?: number;
  bodylen?: number;
}

/** Encodes a binary request. */
export function req(r: Req): Buffer {
  const key = typeof r.key === 'string' ? Buffer.from(r.key, 'latin1') : Buffer.from(r.key ?? []);
  const extras = Buffer.from(r.extras ?? []);
  const value = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : Buffer.from(r.value ?? []);
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = r.op;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(r.bodylen ?? extras.length + key.length + value.length, 8);
  h.writeUInt32BE(r.opaque ?? 0xdeadbeef, 12);
  h.writeBigUInt64BE(r.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

const setExtras = (flags: number, exptime: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(flags, 0);
  b.writeUInt32BE(exptime, 4);
  return b;
};
const arithExtras = (delta: bigint, initial: bigint, exptime: number): Uint8Array => {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime, 16);
  return b;
};
const u32 = (v: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

interface Res {
  opcode: number;
  status: number;
  key: string;
  extras: Buffer;
  value: Buffer;
  cas: bigint;
  opaque: number;
}

/** Decodes every response in `bytes`; throws on a malformed one. */
export function parseResponses(bytes: Buffer): Res[] {
  const out: Res[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x81) throw new Error(`bad response magic 0x${bytes[at]!.toString(16)} at ${at}`);
    const keylen = bytes.readUInt16BE(at + 2);
    const extlen = bytes[at + 4]!;
    const bodylen = bytes.readUInt32BE(at + 8);
    const body = bytes.subarray(at + 24, at + 24 + bodylen);
    if (body.length !== bodylen) throw new Error('truncated response');
    out.push({
      opcode: bytes[at + 1]!,
      status: bytes.readUInt16BE(at + 6),
      opaque: bytes.readUInt32BE(at + 12),
      cas: bytes.readBigUInt64BE(at + 16),
      extras: body.subarray(0, extlen),
      key: body.subarray(extlen, extlen + keylen).toString('latin1'),
      value: body.subarray(extlen + keylen),
    });
    at += 24 + bodylen;
  }
  return out;
}

function client(options: ConstructorParameters<typeof MemcachedService>[0] = {}) {
  const clock = fakeClock();
  const svc = new MemcachedService({ nowMs: clock.now, ...options });
  return { svc, clock, c: new FakeClient(svc) };
}

describe('binary protocol', () => {
  it('set/get/getk/getq/getkq, with CAS in the header and flags in extras', () => {
    const { c } = client();
    c.feed(
      Buffer.concat([
        req({ op: Op.Set, key: 'k', extras: setExtras(42, 0), value: 'hello' }),
        req({ op: Op.Get, key: 'k', opaque: 1 }),
        req({ op: Op.GetK, key: 'k' }),
        req({ op: Op.GetQ, key: 'missing' }),
        req({ op: Op.GetKQ, key: 'missing' }),
        req({ op: Op.GetK, key: 'missing' }),
        req({ op: Op.Get, key: 'missing' }),
        req({ op: Op.Noop }),
      ]),
    );
    const r = parseResponses(c.tcp.output());
    expect(r.map((x) => [x.opcode, x.status])).toEqual([
      [Op.Set, 0],
      [Op.Get, 0],
      [Op.GetK, 0],
      [Op.GetK, Status.KeyNotFound],
      [Op.Get, Status.KeyNotFound],
      [Op.Noop, 0],
    ]);
    expect(r[0]!.cas).toBeGreaterThan(0n);
    expect(r[1]).toMatchObject({ opaque: 1, key: '', cas: r[0]!.cas });
    expect(r[1]!.extras.readUInt32BE(0)).toBe(42);
    expect(r[1]!.value.toString()).toBe('hello');
    expect(r[2]!.key).toBe('k');
    expect(r[3]!.key).toBe('missing');
    expect(r[4]!.value.toString()).toBe('Not found');
    expect(r[4]!.cas).toBe(0n);
  });

  it('add/replace/append/prepend/delete statuses and CAS checks; quiet variants only answer errors', () => {
    const { c } = client();
    c.feed(
      Buffer.concat([
        req({ op: Op.Add, key: 'k', extras: setExtras(0, 0), value: 'a' }),
        req({ op: Op.Add, key: 'k', extras: setExtras(0, 0), value: 'b' }),
        req({ op: Op.AddQ, key: 'k', extras: setExtras(0, 0), value: 'b' }),
        req({ op: Op.Replace, key: 'x', extras: setExtras(0, 0), value: 'c' }),
        req({ op: Op.SetQ, key: 'k', extras: setExtras(0, 0), value: 'mid' }),
        req({ op: Op.Append, key: 'k', value: '>' }),
        req({ op: Op.PrependQ, key: 'k', value: '<' }),
        req({ op: Op.Append, key: 'nope', value: '!' }),
        req({ op: Op.Set, key: 'k', extras: setExtras(0, 0), value: 'v', cas: 999_999n }),
        req({ op: Op.Set, key: 'nope', extras: setExtras(0, 0), value: 'v', cas: 1n }),
        req({ op: Op.Get, key: 'k' }),
        req({ op: Op.DeleteQ, key: 'nope' }),
        req({ op: Op.Delete, key: 'k' }),
        req({ op: Op.DeleteQ, key: 'k' }),
      ]),
    );
    const r = parseResponses(c.tcp.output());
    expect(r.map((x) => [x.opcode, x.status])).toEqual([
      [Op.Add, 0],
      [Op.Add, Status.KeyExists],
      [Op.AddQ, Status.KeyExists],
      [Op.Replace, Status.KeyNotFound],
      [Op.Append, 0],
      [Op.Append, Status.NotStored],
      [Op.Set, Status.KeyExists],
      [Op.Set, Status.KeyNotFound],
      [Op.Get, 0],
      [Op.DeleteQ, Status.KeyNotFound],
      [Op.Delete, 0],
      [Op.DeleteQ, Status.KeyNotFound],
    ]);
    expect(r[8]!.value.toString()).toBe('<mid>');
    expect(r[10]!.cas).toBe(0n); // memcached's DELETE success carries no CAS (memccapable checks)
  });

  it('delete with a CAS in the header: a mismatch keeps the item (KeyExists), a match deletes it', () => {
    const { c } = client();
    c.feed(req({ op: Op.Set, key: 'k', extras: setExtras(0, 0), value: 'v' }));
    const cas = parseResponses(c.tcp.output())[0]!.cas;
    c.feed(
      Buffer.concat([
        req({ op: Op.Delete, key: 'k', cas: cas + 1n }),
        req({ op: Op.Get, key: 'k' }),
        req({ op: Op.Delete, key: 'k', cas }),
        req({ op: Op.Get, key: 'k' }),
      ]),
    );
    expect(parseResponses(c.tcp.output()).slice(1).map((x) => [x.opcode, x.status])).toEqual([
      [Op.Delete, Status.KeyExists],
      [Op.Get, 0],
      [Op.Delete, 0],
      [Op.Get, Status.KeyNotFound],
    ]);
  });

  it('incr/decr: initial value, 0xffffffff = do not create, 64-bit wrap, non-numeric', () => {
    const { c } = client();
    c.feed(
      Buffer.concat([
        req({ op: Op.Increment, key: 'n', extras: arithExtras(5n, 10n, 0) }),
        req({ op: Op.Increment, key: 'n', extras: arithExtras(5n, 10n, 0) }),
        req({ op: Op.Decrement, key: 'n', extras: arithExtras(100n, 0n, 0) }),
        req({ op: Op.Increment, key: 'm', extras: arithExtras(1n, 0n, 0xffffffff) }),
        req({ op: Op.Increment, key: 'n', extras: arithExtras((1n << 64n) - 1n, 0n, 0) }),
        req({ op: Op.IncrementQ, key: 'n', extras: arithExtras(7n, 0n, 0) }),
        req({ op: Op.Set, key: 's', extras: setExtras(0, 0), value: 'abc' }),
        req({ op: Op.Decrement, key: 's', extras: arithExtras(1n, 0n, 0) }),
        req({ op: Op.Get, key: 'n' }),
      ]),
    );
    const r = parseResponses(c.tcp.output());
    const values = r.filter((x) => x.opcode === Op.Increment || x.opcode === Op.Decrement).map((x) => (x.status === 0 ? x.value.readBigUInt64BE(0) : x.status));
    expect(values).toEqual([10n, 15n, 0n, Status.KeyNotFound, (1n << 64n) - 1n, Status.NonNumeric]);
    expect(r.at(-1)!.value.toString()).toBe('6'.padEnd(20)); // (2^64-1) + 7 wraps to 6, in place (space-padded) as memcached
  });

  it('flush (with and without extras), noop, version, verbosity, stat, touch/gat, quit', () => {
    const { c, clock } = client();
    c.feed(
      Buffer.concat([
        req({ op: Op.Set, key: 'k', extras: setExtras(7, 0), value: 'v' }),
        req({ op: Op.Touch, key: 'k', extras: u32(10) }),
        req({ op: Op.Gat, key: 'k', extras: u32(10) }),
        req({ op: Op.GatQ, key: 'missing', extras: u32(10) }),
        req({ op: Op.GatK, key: 'k', extras: u32(10) }),
        req({ op: Op.Version }),
        req({ op: Op.Verbosity, extras: u32(1) }),
      ]),
    );
    clock.advance(10_000);
    c.feed(Buffer.concat([req({ op: Op.Get, key: 'k' }), req({ op: Op.Stat }), req({ op: Op.Stat, key: 'settings' }), req({ op: Op.Stat, key: 'nope' })]));
    c.feed(Buffer.concat([req({ op: Op.Set, key: 'k', extras: setExtras(0, 0), value: 'v' }), req({ op: Op.FlushQ, extras: u32(0) }), req({ op: Op.Get, key: 'k' }), req({ op: Op.Flush })]));
    c.feed(Buffer.concat([req({ op: Op.Quit }), req({ op: Op.Noop })]));
    const r = parseResponses(c.tcp.output());
    const ops = r.map((x) => x.opcode);
    expect(ops.slice(0, 6)).toEqual([Op.Set, Op.Touch, Op.Gat, Op.GatK, Op.Version, Op.Verbosity]);
    expect(r[1]!.value.length).toBe(0); // touch returns flags only
    expect(r[1]!.extras.readUInt32BE(0)).toBe(7);
    expect(r[2]!.value.toString()).toBe('v');
    expect(r[3]!.key).toBe('k');
    expect(r[4]!.value.toString()).toBe('1.6.0-ebbrt-ts');
    expect(r[6]).toMatchObject({ opcode: Op.Get, status: Status.KeyNotFound }); // expired by touch's 10 s
    const stats = r.filter((x) => x.opcode === Op.Stat);
    const general = stats.slice(0, stats.findIndex((x) => x.key === '') + 1);
    expect(general.at(-1)).toMatchObject({ key: '', status: 0 });
    expect(new Map(general.map((x) => [x.key, x.value.toString()])).get('curr_items')).toBe('0');
    expect(stats.some((x) => x.key === 'item_size_max')).toBe(true);
    expect(stats.at(-1)).toMatchObject({ status: Status.KeyNotFound });
    const tail = r.slice(-4).map((x) => [x.opcode, x.status]);
    expect(tail).toEqual([
      [Op.Set, 0],
      [Op.Get, Status.KeyNotFound],
      [Op.Flush, 0],
      [Op.Quit, 0],
    ]);
    expect(c.tcp.closed).toBe(true);
  });

  it('unknown opcodes get 0x81 and their body is skipped; bad shapes get invalid arguments and a close (as memcached)', () => {
    const { c } = client();
    c.feed(
      Buffer.concat([
        req({ op: 0x55, key: 'junk', value: 'more junk' }),
        req({ op: Op.Noop }),
        req({ op: Op.Get, key: 'k', extras: u32(1) }),
        req({ op: Op.Noop }),
      ]),
    );
    const r = parseResponses(c.tcp.output());
    expect(r.map((x) => [x.opcode, x.status])).toEqual([
      [0x55, Status.UnknownCommand],
      [Op.Noop, 0],
      [Op.Get, Status.InvalidArguments],
    ]);
    expect(c.tcp.closed).toBe(true);
  });

  it('a too-large value is refused (and swallowed); an absurd body length closes the connection', () => {
    const { svc, c } = client({ maxItemSize: 100 });
    c.feed(req({ op: Op.Set, key: 'k', extras: setExtras(0, 0), value: 'x'.repeat(101) }), req({ op: Op.Noop }));
    expect(parseResponses(c.tcp.output()).map((x) => x.status)).toEqual([Status.TooLarge, 0]);
    const d = new FakeClient(svc).feed(req({ op: Op.Get, key: 'k', bodylen: 1 << 30 }).subarray(0, 24));
    expect(parseResponses(d.tcp.output()).map((x) => x.status)).toEqual([Status.InvalidArguments]);
    expect(d.tcp.closed).toBe(true);
    expect(new FakeClient(svc).feed(Buffer.concat([req({ op: Op.Noop }), Buffer.from('not binary at all, 24 bytes+')])).tcp.closed).toBe(true);
  });
});

// ------------------------------------------------------------------ properties

const keyArb = fc.constantFrom('a', 'b', 'ccc');
const requestArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(fc.constantFrom(Op.Set, Op.SetQ, Op.Add, Op.AddQ, Op.Replace, Op.ReplaceQ), keyArb, fc.uint8Array({ maxLength: 50 }), fc.nat(0xffff)).map(([op, key, v, flags]) =>
    req({ op, key, extras: setExtras(flags, 0), value: v }),
  ),
  fc.tuple(fc.constantFrom(Op.Append, Op.AppendQ, Op.Prepend, Op.PrependQ), keyArb, fc.uint8Array({ maxLength: 20 })).map(([op, key, v]) => req({ op, key, value: v })),
  fc.tuple(fc.constantFrom(Op.Get, Op.GetQ, Op.GetK, Op.GetKQ, Op.Delete, Op.DeleteQ), keyArb).map(([op, key]) => req({ op, key })),
  fc.tuple(fc.constantFrom(Op.Increment, Op.IncrementQ, Op.Decrement, Op.DecrementQ), keyArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0, 0xffffffff)).map(([op, key, d, exp]) =>
    req({ op, key, extras: arithExtras(d, 3n, exp) }),
  ),
  fc.tuple(fc.constantFrom(Op.Touch, Op.Gat, Op.GatK), keyArb).map(([op, key]) => req({ op, key, extras: u32(100) })),
  fc.constantFrom(req({ op: Op.Noop }), req({ op: Op.Version }), req({ op: Op.Flush }), req({ op: 0x60, value: 'xyz' })),
);

describe('binary parser properties', () => {
  it('any segmentation of a valid request stream gives the same responses as one piece', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (reqs, cuts) => {
        const stream = Buffer.concat(reqs);
        const whole = client().c.feed(stream);
        const split = client().c.feed(...segment(stream, cuts));
        expect(split.tcp.output().equals(whole.tcp.output())).toBe(true);
        expect(() => parseResponses(whole.tcp.output())).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('random garbage after the binary magic never throws and never disturbs another connection', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), (garbage, cuts) => {
        const { svc } = client();
        const bad = new FakeClient(svc);
        const good = new FakeClient(svc);
        good.feed(req({ op: Op.Set, key: 'mine', extras: setExtras(1, 0), value: 'safe' }));
        const chunks = segment(Buffer.concat([Buffer.from([0x80]), garbage]), cuts);
        for (const chunk of chunks) {
          expect(() => bad.feed(chunk)).not.toThrow();
          good.feed(req({ op: Op.Get, key: 'mine' }));
        }
        const r = parseResponses(good.tcp.output());
        expect(r.length).toBe(1 + chunks.length);
        for (const x of r.slice(1)) expect(x.value.toString()).toBe('safe');
      }),
      { numRuns: 200 },
    );
  });
});

/** Properties of the key and value encoding (no etcd needed). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeData, encodeData, idOfKey, keyFor } from '../src/index.js';
import { fromBase64, toBase64 } from '../src/codec.js';

const anyId = fc.integer({ min: 1, max: 0xffffffff });
const namespace = fc.stringMatching(/^[\w.-]{1,20}$/);
const prefix = fc.constantFrom('/ebbrt/ids/', '/', 'x', '/a/b/c/');

describe('key encoding', () => {
  it('round-trips every id in the 32-bit range', () => {
    fc.assert(
      fc.property(prefix, namespace, anyId, (p, ns, id) => {
        const key = keyFor(p, ns, id);
        expect(key).toMatch(/\/[0-9a-f]{8}$/);
        expect(idOfKey(p, ns, key)).toBe(id);
        // through the gateway's base64 too
        expect(idOfKey(p, ns, fromBase64(toBase64(key), 'key').toString('utf8'))).toBe(id);
      }),
      { numRuns: 2000 },
    );
    for (const id of [1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff]) {
      expect(idOfKey('/ebbrt/ids/', 'default', keyFor('/ebbrt/ids/', 'default', id))).toBe(id);
    }
  });

  it('key order is id order (fixed-width hex), so a range lists ids in order', () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        const ka = keyFor('/ebbrt/ids/', 'ns', a);
        const kb = keyFor('/ebbrt/ids/', 'ns', b);
        expect(Math.sign(Buffer.compare(Buffer.from(ka), Buffer.from(kb)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('does not mistake keys of another namespace or malformed suffixes for ids', () => {
    expect(idOfKey('/e/', 'a', keyFor('/e/', 'ab', 5))).toBeUndefined();
    expect(idOfKey('/e/', 'a', '/e/a/0000000g')).toBeUndefined();
    expect(idOfKey('/e/', 'a', '/e/a/00000000')).toBeUndefined();
    expect(idOfKey('/e/', 'a', '/e/a/000000001')).toBeUndefined();
  });
});

describe('value encoding', () => {
  it('round-trips arbitrary well-formed unicode strings through UTF-8 and base64', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 50 }), fc.string()), (data) => {
        fc.pre(!/\p{Surrogate}/u.test(data));
        const bytes = encodeData(1, data, 1 << 20);
        expect(decodeData(fromBase64(toBase64(bytes), 'value'))).toBe(data);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a leading byte-order mark', () => {
    expect(decodeData(encodeData(1, '\ufeffx', 100))).toBe('\ufeffx');
  });

  it('rejects any string with a lone surrogate instead of storing U+FFFD', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string(), (a, s, b) => {
        const data = `${a}${String.fromCharCode(s)}${b}`;
        fc.pre(/\p{Surrogate}/u.test(data));
        expect(() => encodeData(1, data, 1 << 20)).toThrow(/lone UTF-16 surrogate/);
      }),
    );
  });

  it('measures the limit in UTF-8 bytes', () => {
    expect(encodeData(1, '€€', 6).length).toBe(6);
    expect(() => encodeData(1, '€€€', 8)).toThrow(/9 UTF-8 bytes, over the 8-byte limit/);
  });

  it('base64 decoding is strict', () => {
    for (const bad of ['!', 'abc', 'ab=c', 'a b=', 5, undefined]) expect(() => fromBase64(bad, 'v')).toThrow(/v is not base64/);
    expect(fromBase64('', 'v').length).toBe(0);
  });
});

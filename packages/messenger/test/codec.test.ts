import { IOBuf } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesCodec, CodecError, jsonCodec, stringCodec, structCodec } from '../src/index.js';

/** Re-chains a buffer into pieces, as a TCP receive would hand it over. */
function rechain(buf: IOBuf, cut: number): IOBuf {
  const bytes = buf.toUint8Array();
  buf.releaseChain();
  const at = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
  return IOBuf.copyOf(bytes.subarray(0, at)).appendChain(IOBuf.copyOf(bytes.subarray(at)));
}

describe('codecs', () => {
  const point = structCodec({ seq: 'u32', delta: 'i32', x: 'f64', big: 'u64', ok: 'bool', name: 'string', blob: 'bytes', tag: 'u8', port: 'u16' });

  it('structCodec round-trips across any chaining', () => {
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 0, max: 0xffffffff }),
          delta: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
          x: fc.double({ noNaN: true }),
          big: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
          ok: fc.boolean(),
          name: fc.string(),
          blob: fc.uint8Array({ maxLength: 50 }),
          tag: fc.integer({ min: 0, max: 255 }),
          port: fc.integer({ min: 0, max: 0xffff }),
        }),
        fc.nat(),
        (v, cut) => {
          const out = point.decode(rechain(point.encode(v), cut));
          expect({ ...out, blob: [...out.blob] }).toEqual({ ...v, blob: [...v.blob], x: Object.is(v.x, -0) ? -0 : v.x });
        },
      ),
    );
  });

  it('structCodec rejects truncated or trailing input and out-of-range fields', () => {
    const enc = point.encode({ seq: 1, delta: -1, x: 0.5, big: 2n, ok: true, name: 'n', blob: new Uint8Array(2), tag: 1, port: 2 }).toUint8Array();
    expect(() => point.decode(IOBuf.copyOf(enc.subarray(0, enc.length - 1)))).toThrow(CodecError);
    expect(() => point.decode(IOBuf.copyOf(Buffer.concat([enc, Buffer.from([0])])))).toThrow(/trailing/);
    expect(() => structCodec({ a: 'u8' }).encode({ a: 256 })).toThrow(/field a/);
  });

  it('structCodec never throws anything but CodecError on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (g) => {
        try {
          point.decode(IOBuf.copyOf(g));
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
    );
  });

  it('json, string and bytes codecs round-trip across chaining', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.uint8Array(), fc.nat(), (j, s, b, cut) => {
        const json = jsonCodec<unknown>();
        expect(json.decode(rechain(json.encode(j), cut))).toEqual(JSON.parse(JSON.stringify(j)));
        expect(stringCodec.decode(rechain(stringCodec.encode(s), cut))).toBe(s);
        expect([...bytesCodec.decode(rechain(bytesCodec.encode(b), cut))]).toEqual([...b]);
      }),
    );
    expect(() => jsonCodec().decode(IOBuf.copyOf('{'))).toThrow(CodecError);
  });
});

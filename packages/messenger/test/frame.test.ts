import { IOBuf, IOBufStorage } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeHello, FrameDecoder, HELLO_MAGIC, type DecodeError } from '../src/index.js';

interface Frame {
  ebbId: number;
  type: number;
  payload: Uint8Array;
}

/** Tracks storages so a test can check every received byte was given back. */
class Pool {
  created = 0;
  released = 0;
  wrap(bytes: Uint8Array, headroom: number): IOBuf {
    // Place the bytes at an offset inside a larger storage, as a NIC's RX buffer would.
    const backing = new Uint8Array(headroom + bytes.length + 3);
    backing.set(bytes, headroom);
    this.created++;
    const storage = new IOBufStorage(backing, { onRelease: () => this.released++ });
    return IOBuf.fromStorage(storage, headroom, bytes.length);
  }
}

function streamOf(networkId: number, frames: Frame[]): Uint8Array {
  const parts = [encodeHello(networkId).toUint8Array()];
  for (const f of frames) parts.push(encodeFrame(f.ebbId, f.type, IOBuf.copyOf(f.payload)).toUint8Array());
  return Buffer.concat(parts);
}

/** Cuts `bytes` at `cuts` into segments; each segment is a chain of 1..3 elements. */
function segment(pool: Pool, bytes: Uint8Array, cuts: number[], split: number[]): IOBuf[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: IOBuf[] = [];
  let at = 0;
  let k = 0;
  for (const p of [...points, bytes.length]) {
    if (p < at) continue;
    const seg = bytes.subarray(at, p);
    const s = split[k++ % Math.max(1, split.length)] ?? 0;
    const mid = seg.length === 0 ? 0 : s % (seg.length + 1);
    const head = pool.wrap(seg.subarray(0, mid), k % 7);
    if (mid < seg.length || seg.length === 0) head.appendChain(pool.wrap(seg.subarray(mid), 5));
    out.push(head);
    at = p;
  }
  return out;
}

function decodeAll(pool: Pool, chunks: IOBuf[], max = 1 << 20): { hello: number[]; frames: Frame[]; error: DecodeError | undefined } {
  const hello: number[] = [];
  const frames: Frame[] = [];
  let error: DecodeError | undefined;
  const d = new FrameDecoder(max, {
    hello: (id) => void hello.push(id),
    message: (ebbId, type, payload) => {
      frames.push({ ebbId, type, payload: payload.toUint8Array() });
      payload.releaseChain();
    },
  });
  for (const c of chunks) error ??= d.push(c);
  d.dispose();
  void pool;
  return { hello, frames, error };
}

const frameArb = fc.record({
  ebbId: fc.integer({ min: 1, max: 0xffffffff }),
  type: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 600 }),
});

describe('FrameDecoder', () => {
  it('decodes any segmentation of a stream of frames into the same messages, releasing every buffer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(frameArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (id, frames, cuts, split) => {
          const pool = new Pool();
          const out = decodeAll(pool, segment(pool, streamOf(id, frames), cuts, split));
          expect(out.error).toBeUndefined();
          expect(out.hello).toEqual([id]);
          expect(out.frames.length).toBe(frames.length);
          out.frames.forEach((f, i) => {
            expect(f.ebbId).toBe(frames[i]!.ebbId);
            expect(f.type).toBe(frames[i]!.type);
            expect(Buffer.from(f.payload).equals(Buffer.from(frames[i]!.payload))).toBe(true);
          });
          expect(pool.released).toBe(pool.created);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hands payloads out as views of the received buffers (no copy)', () => {
    const pool = new Pool();
    const bytes = streamOf(1, [{ ebbId: 9, type: 1, payload: new Uint8Array(1000).fill(7) }]);
    const views: IOBuf[] = [];
    const d = new FrameDecoder(1 << 20, { hello: () => undefined, message: (_e, _t, p) => views.push(p) });
    d.push(segment(pool, bytes, [100, 700], [50])[0]!);
    for (const c of segment(pool, bytes, [100, 700], [50]).slice(1)) d.push(c);
    expect(views).toHaveLength(1);
    const storages = new Set([...views[0]!].map((e) => e.storage));
    expect(storages.size).toBeGreaterThan(1); // the payload spans received elements, still not coalesced
    views[0]!.releaseChain();
  });

  it('never throws on random bytes in any segmentation, and reports an error at most once', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 20 }), (greet, garbage, cuts) => {
        const pool = new Pool();
        const bytes = greet ? Buffer.concat([encodeHello(5).toUint8Array(), garbage]) : garbage;
        let errors = 0;
        const d = new FrameDecoder(1000, { hello: () => undefined, message: (_e, _t, p) => p.releaseChain() });
        for (const c of segment(pool, bytes, cuts, [3])) if (d.push(c) !== undefined) errors++;
        d.dispose();
        expect(errors).toBeLessThanOrEqual(1);
        expect(pool.released).toBe(pool.created);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['bad-magic', () => encodeHello(1, HELLO_MAGIC + 1).toUint8Array()],
    ['bad-version', () => encodeHello(1, HELLO_MAGIC, 9).toUint8Array()],
    ['before-hello', () => encodeFrame(5, 1, IOBuf.copyOf('x')).toUint8Array()],
    ['duplicate-hello', () => Buffer.concat([encodeHello(1).toUint8Array(), encodeHello(1).toUint8Array()])],
    ['too-long', () => Buffer.concat([encodeHello(1).toUint8Array(), encodeFrame(5, 1, IOBuf.copyOf(new Uint8Array(2000))).toUint8Array()])],
    ['unknown-control', () => Buffer.concat([encodeHello(1).toUint8Array(), encodeFrame(5, 2, IOBuf.allocate(0)).toUint8Array().map((b, i) => (i >= 8 && i < 12 ? 0 : b))])],
  ] as const)('reports %s', (kind, bytes) => {
    const d = new FrameDecoder(1000, { hello: () => undefined, message: (_e, _t, p) => p.releaseChain() });
    const error = d.push(IOBuf.wrap(bytes()));
    expect(error?.kind).toBe(kind);
    // Further input is released and ignored.
    expect(d.push(IOBuf.copyOf('more'))).toBeUndefined();
  });

  it('a refused HELLO fails the stream', () => {
    const d = new FrameDecoder(1000, { hello: (id) => (id === 3 ? 'expected node 2' : undefined), message: (_e, _t, p) => p.releaseChain() });
    expect(d.push(encodeHello(3))?.message).toBe('expected node 2');
  });
});

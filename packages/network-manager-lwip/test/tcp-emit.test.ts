// Segments built from any mix of JS-heap and physical-memory buffers (tcp/output.ts emit: the
// heap bytes that lead a segment are copied into its header buffer, the rest go as views) carry
// the right bytes under a valid checksum: the receiving stack verifies every segment's checksum,
// so one wrong sum would show as badChecksum and a retransmission that can never succeed.
import fc from 'fast-check';
import { IOBuf, IOBufStorage } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { Harness } from './tcp-harness.js';

/** An element whose storage claims a physical address, as the allocator's buffers do. */
function physical(bytes: Uint8Array, addr: number): IOBuf {
  return IOBuf.fromStorage(new IOBufStorage(bytes, { physAddr: addr }), 0, bytes.length);
}

describe('TCP emit over mixed heap / physical payload chains', () => {
  it('any chain of heap and physical pieces (odd lengths, any order, any MSS) arrives byte-exact with valid checksums', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.integer({ min: 1, max: 3000 }), phys: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 48, max: 1460 }),
        fc.integer({ min: 1, max: 255 }),
        (pieces, mss, salt) => {
          const w = new Harness({ mss });
          const got: number[] = [];
          w.b.listen(80, () => ({ receive: (_c, d) => (got.push(...d.toUint8Array()), d.releaseChain()) }), 0);
          const client = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain() }, 0);
          w.run(w.now + 1e6);
          const all: number[] = [];
          let chain: IOBuf | undefined;
          let addr = 0x10000;
          for (const p of pieces) {
            const bytes = new Uint8Array(p.len).map((_, i) => (all.length + i) * salt + 7);
            all.push(...bytes);
            const e = p.phys ? physical(bytes, addr) : IOBuf.copyOf(bytes);
            addr += p.len + 64;
            if (chain === undefined) chain = e;
            else chain.appendChain(e);
          }
          client.sendQueued(chain!);
          w.run(w.now + 5e9);
          expect(w.b.stats.badChecksum).toBe(0);
          expect(w.a.stats.retransmits).toBe(0);
          expect(Buffer.from(got).equals(Buffer.from(all))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

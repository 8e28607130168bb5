import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latin1 } from '../src/protocol/bytes.js';

describe('latin1', () => {
  it('maps every byte to one code unit, for any range of any array (against Buffer latin1)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
          const s = latin1(bytes, start, end);
          expect(s.length).toBe(end - start);
          expect(s).toBe(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', start, end));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keys near the end of the array (no 16-byte window left) still come out whole', () => {
    const bytes = Uint8Array.from([0x6b, 0x65, 0x79, 0xff, 0x00, 0x80]);
    expect(latin1(bytes, 0, 6)).toBe('key\u00ff\u0000\u0080');
    expect(latin1(bytes, 3, 6)).toBe('\u00ff\u0000\u0080');
    expect(latin1(bytes, 6, 6)).toBe('');
  });
});

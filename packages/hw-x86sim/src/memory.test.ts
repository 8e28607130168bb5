import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './memory.js';

describe('PhysicalMemory', () => {
  it('reads back little-endian values and copies in/out', () => {
    const m = new PhysicalMemory(8192);
    m.writeU32(0x100, 0x11223344);
    expect(m.readU8(0x100)).toBe(0x44);
    expect(m.readU16(0x102)).toBe(0x1122);
    m.writeU64(0x200, 0x0102030405060708n);
    expect(m.readU64(0x200)).toBe(0x0102030405060708n);
    expect(m.readU32(0x204)).toBe(0x01020304);
    m.copyIn(8190, new Uint8Array([9, 8]));
    expect(Array.from(m.copyOut(8190, 2))).toEqual([9, 8]);
    const v = m.view(0x300, 4);
    v[0] = 0xab; // a view is live
    expect(m.readU8(0x300)).toBe(0xab);
    expect(m.dataView.getUint8(0x300)).toBe(0xab);
  });

  it('bounds errors name the address, length and memory size', () => {
    const m = new PhysicalMemory(4096);
    expect(() => m.view(4090, 7)).toThrow(RangeError);
    expect(() => m.view(4090, 7)).toThrow(/addr=0xffa len=7 memory size=4096/);
    expect(() => m.readU32(4093)).toThrow(/len=4 memory size=4096/);
    expect(() => m.writeU8(-1, 0)).toThrow(/out of bounds/);
    expect(() => m.readU8(1.5)).toThrow(/out of bounds/);
    expect(() => m.copyIn(4095, new Uint8Array(2))).toThrow(/len=2/);
    expect(m.view(4096, 0).length).toBe(0);
  });

  it('rejects sizes that are not positive multiples of 4096', () => {
    expect(() => new PhysicalMemory(0)).toThrow(/memoryBytes/);
    expect(() => new PhysicalMemory(5000)).toThrow(/memoryBytes/);
  });

  it('NUMA regions partition memory into equal contiguous slices', () => {
    const size = 4 * 1024 * 1024;
    const m = new PhysicalMemory(size, 4);
    expect(m.regions.map((r) => r.node)).toEqual([0, 1, 2, 3]);
    let next = 0;
    for (const r of m.regions) {
      expect(r.base).toBe(next);
      expect(r.size).toBe(size / 4);
      next += r.size;
    }
    expect(next).toBe(size);
    expect(m.regionOf(0).node).toBe(0);
    expect(m.regionOf(size / 4 - 1).node).toBe(0);
    expect(m.regionOf(size / 4).node).toBe(1);
    expect(m.regionOf(size - 1).node).toBe(3);
    expect(() => m.regionOf(size)).toThrow(RangeError);
    expect(() => new PhysicalMemory(8192, 3)).toThrow(/numaNodes/);
  });

  it('untouched memory costs (almost) no resident memory', () => {
    const before = process.memoryUsage().rss;
    const m = new PhysicalMemory(1024 * 1024 * 1024);
    m.writeU32(m.size - 4, 1);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });
});

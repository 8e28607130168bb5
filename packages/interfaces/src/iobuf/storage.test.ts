import { describe, expect, it, vi } from 'vitest';
import { IOBufStorage } from './index.js';

describe('IOBufStorage', () => {
  it('starts unowned, counts references, and fires the hook once at zero', () => {
    const hook = vi.fn();
    const s = new IOBufStorage(new Uint8Array(8), { onRelease: hook });
    expect([s.refCount, s.isReleased, s.physAddr, s.capacity]).toEqual([0, false, -1, 8]);
    s.retain().retain();
    expect(s.release()).toBe(false);
    expect(hook).not.toHaveBeenCalled();
    expect(s.release()).toBe(true);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(hook).toHaveBeenCalledWith(s);
    expect(s.isReleased).toBe(true);
  });

  it('rejects release without retain, double release and retain after release', () => {
    const s = new IOBufStorage(new Uint8Array(1));
    expect(() => s.release()).toThrow(/without a matching retain/);
    s.retain();
    s.release();
    expect(() => s.release()).toThrow(/double release/);
    expect(() => s.retain()).toThrow(/after the storage was released/);
    expect(s.refCount).toBe(0);
  });

  it('is released even when the hook throws, and the hook is not called again', () => {
    const hook = vi.fn(() => {
      throw new Error('allocator exploded');
    });
    const s = new IOBufStorage(new Uint8Array(1), { onRelease: hook });
    s.retain();
    expect(() => s.release()).toThrow('allocator exploded');
    expect(s.isReleased).toBe(true);
    expect(() => s.release()).toThrow(/double release/);
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it('creates one DataView, lazily, covering exactly bytes (respecting byteOffset)', () => {
    const backing = new Uint8Array([0, 0, 0xab, 0xcd, 0]);
    const s = new IOBufStorage(backing.subarray(2, 4));
    const dv = s.dataView;
    expect(s.dataView).toBe(dv);
    expect(dv.byteLength).toBe(2);
    expect(dv.getUint16(0)).toBe(0xabcd);
  });

  it('validates physAddr', () => {
    expect(new IOBufStorage(new Uint8Array(1), { physAddr: 0x1000 }).physAddr).toBe(0x1000);
    expect(() => new IOBufStorage(new Uint8Array(1), { physAddr: -2 })).toThrow(RangeError);
    expect(() => new IOBufStorage(new Uint8Array(1), { physAddr: 1.5 })).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { ModuleCache } from '../src/index.js';

describe('ModuleCache', () => {
  it('loads once per key and keeps nothing between caches', async () => {
    const a = new ModuleCache();
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    expect(await a.once('k', load)).toBe(1);
    expect(await a.once('k', load)).toBe(1);
    expect(await a.once('other', load)).toBe(2);
    // A second owner (another run) starts empty: nothing is process-wide.
    expect(await new ModuleCache().once('k', load)).toBe(3);
  });

  it('forgets a failed load, so a fixed file is loaded again', async () => {
    const cache = new ModuleCache();
    let attempt = 0;
    const load = async (): Promise<string> => {
      attempt++;
      if (attempt === 1) throw new Error('broken');
      return 'fixed';
    };
    await expect(cache.once('k', load)).rejects.toThrow('broken');
    expect(await cache.once('k', load)).toBe('fixed');
    expect(attempt).toBe(2);
  });
});

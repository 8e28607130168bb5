import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryRecycler } from './memory-recycler.js';
import { PhysicalMemory } from './memory.js';
import { Simulation } from './simulation.js';

describe('MemoryRecycler', () => {
  it('a recycled machine memory is the same buffer, zero-filled again, whatever was written', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(4095), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 50 }), (writes) => {
        const recycler = new MemoryRecycler();
        const sim = new Simulation({ memory: recycler });
        const m = sim.createMachine({ cores: 1, memoryBytes: 4096 });
        for (const [addr, value] of writes) m.memory.writeU8(addr, value);
        const buffer = m.memory.bytes.buffer;
        sim.recycleMemory();
        const next = new Simulation({ memory: recycler }).createMachine({ cores: 1, memoryBytes: 4096 });
        expect(next.memory.bytes.buffer).toBe(buffer);
        expect(next.memory.bytes.every((b) => b === 0)).toBe(true);
        expect(recycler.reused).toBe(1);
      }),
      { numRuns: 30 },
    );
  });

  it('hands a buffer only to a machine of its size, once, and keeps no more than maxBytes', () => {
    const recycler = new MemoryRecycler(8192);
    const sim = new Simulation({ memory: recycler });
    for (const size of [4096, 4096, 8192]) sim.createMachine({ cores: 1, memoryBytes: size });
    sim.recycleMemory();
    sim.recycleMemory(); // idempotent: nothing given twice
    expect(recycler.returned).toBe(2); // 4096 + 4096 fit in 8192; the 8192 one is dropped
    expect(recycler.take(8192)).toBeUndefined();
    expect(recycler.take(4096)).toBeDefined();
    expect(recycler.take(4096)).toBeDefined();
    expect(recycler.take(4096)).toBeUndefined();
    expect(() => sim.createMachine({ cores: 1, memoryBytes: 4096 })).toThrow(/gave its memory back/);
    expect(() => new MemoryRecycler(-1)).toThrow(/maxBytes must be an integer >= 0, got -1/);
  });

  it('a destroyed machine gives its memory back too; without a recycler nothing is kept', () => {
    const recycler = new MemoryRecycler();
    const sim = new Simulation({ memory: recycler });
    sim.destroyMachine(sim.createMachine({ cores: 1, memoryBytes: 4096 }));
    sim.createMachine({ cores: 1, memoryBytes: 4096 });
    sim.recycleMemory();
    expect(recycler.returned).toBe(2);
    const plain = new Simulation();
    plain.createMachine({ cores: 1, memoryBytes: 4096 });
    plain.recycleMemory();
    expect(() => plain.createMachine({ cores: 1, memoryBytes: 4096 })).not.toThrow();
  });

  it('PhysicalMemory refuses a buffer of the wrong size, naming both', () => {
    expect(() => new PhysicalMemory(8192, 1, new ArrayBuffer(4096))).toThrow(/must be 8192 bytes, got 4096/);
  });
});

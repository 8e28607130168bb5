import { describe, expect, it } from 'vitest';
import { allocateGuestMemory, allocateHostTable, defaultGuestMemoryKind, PhysicalMemory } from './memory.js';
import { MemoryRecycler } from './memory-recycler.js';
import { Simulation } from './simulation.js';

/** Full collections with a task turn between (dead buffers are freed only then). */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('gc() is not exposed: vitest.config.ts passes --expose-gc to the test forks');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('guest memory kinds', () => {
  it('on Node the default is shared (a SharedArrayBuffer); private is an ArrayBuffer; both read back alike', () => {
    expect(defaultGuestMemoryKind()).toBe('shared');
    const shared = new Simulation().createMachine({ cores: 1, memoryBytes: 8192 });
    const priv = new Simulation({ guestMemory: 'private' }).createMachine({ cores: 1, memoryBytes: 8192 });
    expect(shared.memory.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.memory.kind).toBe('shared');
    expect(priv.memory.bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(priv.memory.kind).toBe('private');
    for (const m of [shared.memory, priv.memory]) {
      expect(m.bytes.every((b) => b === 0)).toBe(true);
      m.writeU64(0x1ff8, 0x0102030405060708n);
      m.copyIn(16, new Uint8Array([1, 2, 3]));
      expect(m.readU32(0x1ffc)).toBe(0x01020304);
      expect(Array.from(m.copyOut(16, 3))).toEqual([1, 2, 3]);
      // Text decoding straight from guest memory (the messenger and file system do it) works on Node.
      m.copyIn(32, new TextEncoder().encode('hé'));
      expect(new TextDecoder('utf-8', { fatal: true }).decode(m.view(32, 3))).toBe('hé');
    }
  });

  it('a bad kind is refused naming the option; a failed allocation names the machine and size', () => {
    expect(() => new Simulation({ guestMemory: 'heap' as never })).toThrow(/guestMemory must be 'shared' or 'private', got heap/);
    expect(() => allocateGuestMemory(2 ** 45, 'shared')).toThrow(/could not allocate 33554432 MiB of shared guest memory: /);
    expect(() => allocateGuestMemory(2 ** 45, 'private')).toThrow(/could not allocate 33554432 MiB of private guest memory: /);
    expect(() => new PhysicalMemory(4096, 1, undefined, 'none' as never)).toThrow(/guestMemory must be 'shared' or 'private'/);
  });

  it('a recycler hands a buffer back only to a machine asking for the same kind', () => {
    const recycler = new MemoryRecycler();
    const sim = new Simulation({ memory: recycler, guestMemory: 'shared' });
    const buffer = sim.createMachine({ cores: 1, memoryBytes: 4096 }).memory.bytes.buffer;
    sim.recycleMemory();
    expect(new Simulation({ memory: recycler, guestMemory: 'private' }).createMachine({ cores: 1, memoryBytes: 4096 }).memory.bytes.buffer).not.toBe(buffer);
    expect(recycler.reused).toBe(0);
    expect(new Simulation({ memory: recycler }).createMachine({ cores: 1, memoryBytes: 4096 }).memory.bytes.buffer).toBe(buffer);
    expect(recycler.reused).toBe(1);
  });

  it('many machines of untouched shared memory cost no resident memory for it', () => {
    // 64 machines of 64 MiB = 4 GiB reserved; the OS backs only touched pages.
    const sim = new Simulation();
    const before = process.memoryUsage().rss;
    const machines = Array.from({ length: 64 }, () => sim.createMachine({ cores: 1, memoryBytes: 64 << 20 }));
    for (const m of machines) m.memory.writeU8(m.memory.size - 1, 1);
    expect(process.memoryUsage().rss - before).toBeLessThan(512 << 20);
  });

  // The nodes.bench defect (issue 17): with plain buffers from calloc, glibc serves every 16 MiB
  // machine after the first collected one from its heap, zero-filled by memset, so each costs all
  // 16 MiB of RSS (12 GB in 20 s in the bench). Rounds of machines built, touched like a boot and
  // dropped must stay near their touched pages, for both kinds.
  it.each(['shared', 'private'] as const)('rounds of %s 16 MiB machines built and dropped keep only their touched pages resident', async (guestMemory) => {
    const machinesPerRound = 48;
    await collect();
    const before = process.memoryUsage().rss;
    let peak = 0;
    for (let round = 0; round < 4; round++) {
      const sim = new Simulation({ guestMemory });
      const machines = Array.from({ length: machinesPerRound }, (_, i) => sim.createMachine({ name: `m${i}`, cores: 1, memoryBytes: 16 << 20 }));
      // A few pages per machine, as an idle boot writes (allocator tables, a stack, a ring).
      for (const m of machines) for (let page = 0; page < 8; page++) m.memory.writeU32(page * 0x20_0000, round + 1);
      for (const m of machines) expect(m.memory.readU32(0x20_0000)).toBe(round + 1);
      peak = Math.max(peak, process.memoryUsage().rss - before);
      machines.length = 0;
      await collect();
    }
    // Touched: 48 x 8 pages = 1.5 MiB a round; the defect made it 768 MiB a round from round 2 on.
    expect(peak).toBeLessThan(192 << 20);
  });

  it('host tables (a live bitmap, a tx slab) read zero, and rounds of them built and dropped keep only written pages resident', async () => {
    const bytes = 4 << 20;
    await collect();
    const before = process.memoryUsage().rss;
    let peak = 0;
    for (let round = 0; round < 4; round++) {
      const tables = Array.from({ length: 48 }, () => new Uint32Array(allocateHostTable(bytes), 0, bytes / 4));
      for (const t of tables) {
        expect(t.length).toBe(bytes / 4);
        expect(t[t.length - 1]).toBe(0);
        t[0] = round + 1;
      }
      expect(tables.every((t) => t[0] === round + 1 && t[1024] === 0)).toBe(true);
      peak = Math.max(peak, process.memoryUsage().rss - before);
      tables.length = 0;
      await collect();
    }
    // Written: 2 pages a table. calloc'd tables were memset whole once glibc's threshold rose: 192 MiB a round.
    expect(peak).toBeLessThan(96 << 20);
  });
});

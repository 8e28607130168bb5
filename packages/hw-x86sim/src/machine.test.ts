import { describe, expect, it, vi } from 'vitest';
import { Simulation } from './simulation.js';
import { VirtioNetDevice } from './net/virtio-net.js';

describe('Machine', () => {
  it('assigns ids in creation order and default names', () => {
    const sim = new Simulation();
    const a = sim.createMachine({ cores: 2, memoryBytes: 8192, numaNodes: 2 });
    const b = sim.createMachine({ name: 'server', cores: 1, memoryBytes: 4096 });
    expect([a.id, a.name, b.id, b.name]).toEqual([0, 'machine0', 1, 'server']);
    expect(a.cores.map((c) => c.index)).toEqual([0, 1]);
    expect(a.memory.regions.length).toBe(2);
    expect([a.nodeOfCore(0), a.nodeOfCore(1)]).toEqual([0, 1]);
    expect(sim.machines).toEqual([a, b]);
  });

  it.each([
    [{ cores: 0, memoryBytes: 4096 }, /'cores'/],
    [{ cores: 1.5, memoryBytes: 4096 }, /'cores'/],
    [{ cores: 257, memoryBytes: 4096 }, /'cores'/],
    [{ cores: 1, memoryBytes: 0 }, /'memoryBytes'/],
    [{ cores: 1, memoryBytes: 4097 }, /'memoryBytes'/],
    [{ cores: 1, memoryBytes: 2 ** 33 }, /'memoryBytes'/],
    [{ cores: 2, memoryBytes: 8192, numaNodes: 3 }, /'numaNodes'/],
    [{ cores: 4, memoryBytes: 8192, numaNodes: 4 }, /'numaNodes'/],
    [{ cores: 1, memoryBytes: 4096, name: '' }, /'name'/],
  ])('rejects %o naming the field', (config, field) => {
    expect(() => new Simulation().createMachine(config)).toThrow(field);
  });

  it('devices plugged in by the platform are claimed once, by kind, in order', () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 1 << 20 });
    const other = sim.createMachine({ cores: 1, memoryBytes: 1 << 20 });
    const a = new VirtioNetDevice(sim, m);
    const b = new VirtioNetDevice(sim, m, { mac: '02:00:00:00:00:02' });
    m.attachDevice(a);
    m.attachDevice(b);
    expect(() => m.attachDevice(a)).toThrow(/already attached/);
    expect(() => other.attachDevice(a)).toThrow(/belongs to machine/);
    expect(m.devices).toEqual([a, b]);
    expect(m.claimDevice('disk')).toBeUndefined();
    expect(m.claimDevice(VirtioNetDevice.KIND)).toBe(a);
    expect(m.claimDevice(VirtioNetDevice.KIND)).toBe(b);
    expect(m.claimDevice(VirtioNetDevice.KIND)).toBeUndefined();
  });

  it('destroyMachine powers off and removes a machine; ids are never reused', () => {
    const sim = new Simulation();
    const a = sim.createMachine({ cores: 1, memoryBytes: 4096 });
    const b = sim.createMachine({ cores: 1, memoryBytes: 4096 });
    sim.destroyMachine(a);
    sim.destroyMachine(a);
    expect(a.poweredOn).toBe(false);
    expect(sim.machines).toEqual([b]);
    expect(sim.createMachine({ cores: 1, memoryBytes: 4096 }).id).toBe(2);
  });

  it('powerOff stops cores and cancels their timers', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    let slices = 0;
    for (const c of m.cores) {
      c.start({
        runSlice(core) {
          slices++;
          core.apic.nextPending();
          return 'halt';
        },
      });
      c.apic.timerPeriodic(1000, 0x40);
    }
    await sim.run({ untilNs: 2500 });
    const before = slices;
    m.powerOff();
    const r = await sim.run();
    expect(r).toMatchObject({ reason: 'quiescent', slices: 0, finalTimeNs: 2500 });
    expect(slices).toBe(before);
    expect(m.cores.map((c) => c.state)).toEqual(['off', 'off']);
    expect(() => m.cores[0].start({ runSlice: () => 'halt' })).toThrow(/powered off/);
  });

  it('serial console keeps lines and notifies listeners', () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 1, memoryBytes: 4096 });
    const seen: string[] = [];
    const off = m.serial.onLine((l) => seen.push(l));
    m.serial.write('boot');
    m.serial.write('ing\nok\npart');
    off();
    m.serial.write('ial\n');
    expect(m.serial.lines()).toEqual(['booting', 'ok', 'partial']);
    expect(seen).toEqual(['booting', 'ok']);
  });

  it("console: 'stdout' prefixes lines with the machine name; the default is silent", () => {
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      new Simulation().createMachine({ name: 'quiet', cores: 1, memoryBytes: 4096 }).serial.write('a\n');
      new Simulation({ console: 'stdout' }).createMachine({ name: 'vm', cores: 1, memoryBytes: 4096 }).serial.write('hi\n');
      expect(spy.mock.calls.map((c) => c[0])).toEqual(['[vm] hi\n']);
    } finally {
      spy.mockRestore();
    }
  });
});

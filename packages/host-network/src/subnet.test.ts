import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppNetwork } from './app-network.js';
import { Subnet, nodeHost } from './subnet.js';
import { Simulation } from '@ebbrt/hw-x86sim';
import { networkSchema } from '@ebbrt/interfaces';

describe('Subnet', () => {
  it('every host n lies in the subnet, distinct, and outside it is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 30 }), (a, b, len) => {
        const s = new Subnet(`10.${a}.${b}.0/${len}`);
        const n = Math.min(s.hostCount, 50);
        const hosts = Array.from({ length: n }, (_, i) => s.host(i + 1));
        expect(new Set(hosts).size).toBe(n);
        for (const h of hosts) expect(s.contains(h)).toBe(true);
        expect(() => s.host(0)).toThrow(RangeError);
        expect(() => s.host(s.hostCount + 1)).toThrow(RangeError);
      }),
    );
  });
});

describe('host access policy', () => {
  it('admits only attached nodes, only on listed or opened ports; an opened port closes with its last opener', () => {
    const simulation = new Simulation({ seed: 1, clock: 'virtual', console: 'silent' });
    const net = new AppNetwork(simulation, networkSchema.parse({ hostAccess: [8080] }), '.', true);
    const machine = simulation.createMachine({ name: 'node1', cores: 1, memoryBytes: 1 << 20 });
    const node1 = new Subnet('10.0.0.0/24').host(nodeHost(1));
    expect(net.admits(node1, 8080)).toBe(false); // not attached yet
    net.attachBackend(machine, 1);
    expect(net.admits(node1, 8080)).toBe(true);
    expect(net.admits('10.0.0.200', 8080)).toBe(false); // not a node of the app
    expect(net.admits('10.0.0.254', 8080)).toBe(false); // the TAP's side
    expect(net.admits(node1, 22)).toBe(false);
    net.openHostPort(7000);
    net.openHostPort(7000);
    net.closeHostPort(7000);
    expect(net.admits(node1, 7000)).toBe(true);
    net.closeHostPort(7000);
    expect(net.admits(node1, 7000)).toBe(false);
    net.closeHostPort(8080); // a config port stays open
    expect(net.admits(node1, 8080)).toBe(true);
    net.detachBackend(1);
    expect(net.admits(node1, 8080)).toBe(false);
    net.close();
  });
});

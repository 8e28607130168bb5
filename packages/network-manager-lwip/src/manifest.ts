import { defineEbbManifest, type NetworkManager } from '@ebbrt/interfaces';
import { Machine, Simulation } from '@ebbrt/hw-x86sim';
import { lwipOptionsSchema, type LwipOptions } from './options.js';
import { LwipNetworkManagerRoot } from './root.js';

/** The native NetworkManager: a virtio-net driver and an IPv4/ARP/ICMP/UDP interface layer. */
export const manifest = defineEbbManifest<LwipOptions, NetworkManager>({
  name: '@ebbrt/network-manager-lwip',
  implements: 'NetworkManager',
  targets: ['native'],
  description: 'TCP/IP stack after lwIP over the simulated virtio-net NIC (driver, ARP, IPv4, ICMP, UDP)',
  options: lwipOptionsSchema,
  create(context, options) {
    const { machine, simulation } = context;
    if (!(machine instanceof Machine) || !(simulation instanceof Simulation)) {
      throw new TypeError(`node ${context.node.id}: @ebbrt/network-manager-lwip needs a hw-x86sim Machine and Simulation (native target)`);
    }
    // `options` were parsed by `lwipOptionsSchema` (the runtime does it with the config path in
    // its errors); parsing again here would only repeat the work.
    return new LwipNetworkManagerRoot(context.node, machine, simulation, options);
  },
});

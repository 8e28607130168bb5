import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type NetworkManager } from '@ebbrt/interfaces';
import { HostedNetworkManager } from './network-manager.js';
import { hostedNetworkOptionsSchema, type HostedNetworkOptions } from './options.js';

/** The NetworkManager of a front-end: node:net and node:dgram behind EbbRT's interface. */
export const manifest = defineEbbManifest<HostedNetworkOptions, NetworkManager>({
  name: '@ebbrt/network-manager-hosted',
  implements: 'NetworkManager',
  targets: ['hosted'],
  description: "EbbRT's NetworkManager interface over node:net and node:dgram, for front-ends",
  options: hostedNetworkOptionsSchema,
  create(context, options) {
    if (context.target !== 'hosted') {
      throw new TypeError('@ebbrt/network-manager-hosted runs only on hosted nodes (the front-end)');
    }
    // The schema fills defaults; a direct caller may pass a partial object.
    const parsed = hostedNetworkOptionsSchema.parse(options ?? {});
    return new HostedNetworkManager(nodeContextOf(context.node), parsed, (line) => context.log(line));
  },
});

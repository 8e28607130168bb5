import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type Messenger } from '@ebbrt/interfaces';
import { MessengerRoot } from './root.js';
import { messengerOptionsSchema, type MessengerOptions } from './options.js';

/** The Messenger over any NetworkManager: front-end (hosted) and back-ends (native) alike. */
export const manifest = defineEbbManifest<MessengerOptions, Messenger>({
  name: '@ebbrt/messenger',
  implements: 'Messenger',
  targets: ['native', 'hosted'],
  description: 'Messages to Ebbs on other nodes: one lazy TCP connection per peer, HELLO + length-prefixed frames',
  options: messengerOptionsSchema,
  create(context, options) {
    const parsed = messengerOptionsSchema.parse(options ?? {});
    return new MessengerRoot(nodeContextOf(context.node), context.id, parsed, (line) => context.log(line));
  },
});

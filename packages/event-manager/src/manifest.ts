import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type EventManager } from '@ebbrt/interfaces';
import { nativeHardware } from './common/hardware.js';
import { eventManagerOptionsSchema, type EventManagerOptions } from './common/options.js';
import { HostedEventManagerRoot } from './hosted/hosted-root.js';
import { NativeEventManagerRoot } from './native/native-root.js';

/** The Event Manager: native on simulated cores, hosted on Node's event loop. */
export const manifest = defineEbbManifest<EventManagerOptions, EventManager>({
  name: '@ebbrt/event-manager',
  implements: 'EventManager',
  targets: ['native', 'hosted'],
  description: "EbbRT's non-preemptive per-core event loop",
  options: eventManagerOptionsSchema,
  create(context, options) {
    const node = nodeContextOf(context.node);
    const log = (line: string) => context.log(line);
    if (context.target === 'hosted') return new HostedEventManagerRoot(node, context.id, options, log);
    const { machine, simulation } = nativeHardware(context);
    return new NativeEventManagerRoot(node, context.id, machine, simulation, options, log);
  },
});

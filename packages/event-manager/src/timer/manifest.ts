import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, defineEbbManifest, type EventManager, type Timer } from '@ebbrt/interfaces';
import { z } from 'zod';
import { nativeHardware } from '../common/hardware.js';
import { HostedTimer } from './hosted-timer.js';
import { NativeTimer } from './native-timer.js';

/** The Timer Ebb: per-core reps made on first use, each over its core's timer hardware. */
export const manifest = defineEbbManifest<Record<string, never>, Timer>({
  name: '@ebbrt/event-manager/timer',
  implements: 'Timer',
  targets: ['native', 'hosted'],
  description: 'per-core one-shot and repeating timers',
  options: z.strictObject({}),
  create(context) {
    // The rep is made on its own core, so the Event Manager ref resolves to that core's loop.
    const events = new EbbRef<EventManager>(SystemEbbIds.EventManager);
    if (context.target === 'hosted') return { handleFault: () => new HostedTimer(events.deref()) };
    const { machine } = nativeHardware(context);
    return {
      handleFault: (core) => new NativeTimer(events.deref(), machine.cores[core.index]!),
    };
  },
});

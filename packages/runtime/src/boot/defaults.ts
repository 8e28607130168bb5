import type { SystemInterfaceName, Target } from '@ebbrt/interfaces';

/**
 * The implementation each node gets when its config names none. These packages
 * are the runtime's own dependencies, so an app need not install them.
 */
export const DEFAULT_EBBS: Readonly<Record<Target, Partial<Record<SystemInterfaceName, string>>>> = {
  native: {
    EventManager: '@ebbrt/event-manager',
    Timer: '@ebbrt/event-manager/timer',
    MemoryAllocator: '@ebbrt/memory-allocator-slqb',
  },
  hosted: {
    EventManager: '@ebbrt/event-manager',
    Timer: '@ebbrt/event-manager/timer',
  },
};

import { cpu, type CoreContext } from '@ebbrt/core-translation';
import type { CorePromise, EventFn } from '@ebbrt/interfaces';

/**
 * A promise whose waiter always resumes on `owner`: settling it from another
 * core (or from outside any event) posts the settlement to the owner core as an
 * event, so the awaiting continuation runs in that core's microtask drain.
 */
export function corePromise<T>(owner: CoreContext, post: (core: number, fn: EventFn) => void): CorePromise<T> {
  let resolveFn!: (value: T) => void;
  let rejectFn!: (reason: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    resolveFn = resolve;
    rejectFn = reject;
  });
  return {
    promise,
    resolve(value: T) {
      if (cpu.current === owner) resolveFn(value);
      else post(owner.index, () => resolveFn(value));
    },
    reject(reason: unknown) {
      if (cpu.current === owner) rejectFn(reason);
      else post(owner.index, () => rejectFn(reason));
    },
  };
}

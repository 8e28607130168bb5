/**
 * `promise`, or a rejection with `message()` after `ms` of wall time. The front-end lives in real
 * time whatever the simulation's clock, so a real timer is right here; it is always cleared, so a
 * settled allocation never keeps the process alive.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Vectors 0..31 are x86 exceptions; the event manager owns the rest of the IDT. */
export const REMOTE_EVENT_VECTOR = 32;
export const FIRST_FREE_VECTOR = 33;
export const LAST_VECTOR = 255;

/** Per-core table of interrupt handlers allocated through `allocateVector`. */
export class VectorTable {
  private readonly handlers: ((() => void) | undefined)[] = new Array(LAST_VECTOR + 1).fill(undefined);
  private nextFree = FIRST_FREE_VECTOR;

  allocate(handler: () => void): number {
    for (let v = this.nextFree; v <= LAST_VECTOR; v++) {
      if (this.handlers[v] === undefined) {
        this.handlers[v] = handler;
        this.nextFree = v + 1;
        return v;
      }
    }
    throw new RangeError(`no free interrupt vector: all ${LAST_VECTOR - FIRST_FREE_VECTOR + 1} are allocated`);
  }

  free(vector: number): void {
    if (!Number.isInteger(vector) || vector < FIRST_FREE_VECTOR || vector > LAST_VECTOR || this.handlers[vector] === undefined) {
      throw new RangeError(`freeVector(${vector}): vector is not allocated`);
    }
    this.handlers[vector] = undefined;
    if (vector < this.nextFree) this.nextFree = vector;
  }

  handler(vector: number): (() => void) | undefined {
    return this.handlers[vector];
  }
}

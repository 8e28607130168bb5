// Parse results shared by every wire parser.
//
// Why this shape: parsers run once per received frame, so the failure path must not allocate
// (a flood of garbage should cost no garbage-collector work). Every failure is a frozen
// module-level constant (immutable, so it is not "module-level mutable state"); the success path
// returns the view itself, which carries `ok: true`. Callers narrow with `if (!r.ok) drop(r.reason)`.

/** A rejected packet: `reason` names what was wrong, for the stack's drop counters. */
export interface ParseFailure<R extends string = string> {
  readonly ok: false;
  readonly reason: R;
}

/** Builds the frozen, shareable failure for one reason. Call once per reason at module load. */
export function failure<R extends string>(reason: R): ParseFailure<R> {
  return Object.freeze({ ok: false as const, reason });
}

/** Result of parsing a plain-object repr (reprs allocate by nature; they are the slow path). */
export type ReprResult<T, R extends string = string> = { readonly ok: true; readonly value: T } | ParseFailure<R>;

/** Throws the RangeError that `emit*` functions use for an invalid repr: names the field. */
export function badField(field: string, value: unknown, why: string): never {
  throw new RangeError(`invalid ${field} (${String(value)}): ${why}`);
}

export function checkUint(field: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) {
    badField(field, value, `must be an integer in [0, ${2 ** bits - 1}]`);
  }
}

export function checkSpace(bytes: Uint8Array, offset: number, needed: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > bytes.length) {
    badField('offset', offset, `need ${needed} bytes but buffer has ${bytes.length - offset} from offset`);
  }
}

/** True when (offset, length) names a valid range of `bytes`; guards every parse entry point. */
export function rangeOk(bytes: Uint8Array, offset: number, length: number): boolean {
  return (
    Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= bytes.length
  );
}

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

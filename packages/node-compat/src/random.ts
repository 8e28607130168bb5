import * as realCrypto from 'node:crypto';

/**
 * A node's randomness. Seeded (a replayable run): sfc32 from the seed and the node's id, so the
 * same seed gives the same `Math.random`, `crypto.randomBytes` and `randomUUID` on every run.
 * System: the host's CSPRNG (a real deployment; session ids must not be guessable).
 */
export class NodeRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(
    readonly seeded: boolean,
    seed: number,
    nodeId: number,
  ) {
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ nodeId;
    this.c = 0xb7e15162 ^ Math.floor(seed / 2 ** 32);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.next32();
  }

  /** sfc32: 32 random bits. */
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A double in [0, 1) with 53 random bits, as V8's. */
  random = (): number => {
    if (!this.seeded) return Math.random();
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  };

  fill<T extends ArrayBufferView>(view: T): T {
    if (!this.seeded) {
      realCrypto.randomFillSync(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      return view;
    }
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    for (let i = 0; i < bytes.length; i += 4) {
      let r = this.next32();
      for (let k = 0; k < 4 && i + k < bytes.length; k++, r >>>= 8) bytes[i + k] = r & 0xff;
    }
    return view;
  }

  /** `Math` with `random` from this source (every other member is the real one). */
  math(): Math {
    // Inheriting from the real Math keeps every other member a fast, inline-cached lookup (a
    // null-prototype copy would be a dictionary-mode object: measurably slower Math.sqrt in loops).
    const m = Object.create(Math) as Record<string, unknown>;
    m.random = this.random;
    return Object.freeze(m) as unknown as Math;
  }

  uuid(): string {
    const b = this.fill(new Uint8Array(16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = Buffer.from(b).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** `node:crypto`: the real module, with every source of randomness replaced by this one. */
  cryptoModule(defer: (fn: () => void) => void): Record<string, unknown> {
    const randomBytes = (size: number, callback?: (err: Error | null, buf: Buffer) => void): Buffer | undefined => {
      if (!Number.isSafeInteger(size) || size < 0) {
        throw Object.assign(new RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${size}`), { code: 'ERR_OUT_OF_RANGE' });
      }
      const buf = this.fill(Buffer.alloc(size));
      if (callback === undefined) return buf;
      defer(() => callback(null, buf));
      return undefined;
    };
    const randomInt = (min: number, max?: number | ((e: Error | null, n: number) => void), callback?: (e: Error | null, n: number) => void): number | undefined => {
      if (typeof max === 'function' || max === undefined) {
        callback = typeof max === 'function' ? max : callback;
        max = min;
        min = 0;
      }
      const range = max - min;
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range <= 0 || range > 2 ** 48) {
        throw Object.assign(new RangeError(`randomInt: the range [${min}, ${max}) is not a whole, non-empty range of at most 2^48`), { code: 'ERR_OUT_OF_RANGE' });
      }
      const n = min + Math.floor(this.random() * range);
      if (callback === undefined) return n;
      const cb = callback;
      defer(() => cb(null, n));
      return undefined;
    };
    const getRandomValues = <T extends ArrayBufferView>(view: T): T => this.fill(view);
    const randomUUID = (): string => this.uuid();
    const randomFillSync = <T extends ArrayBufferView>(view: T, offset = 0, size?: number): T => {
      const end = size === undefined ? view.byteLength : offset + size;
      this.fill(new Uint8Array(view.buffer, view.byteOffset + offset, end - offset));
      return view;
    };
    const randomFill = <T extends ArrayBufferView>(view: T, ...rest: unknown[]): void => {
      const callback = rest.pop() as (e: Error | null, v: T) => void;
      randomFillSync(view, ...(rest as [number?, number?]));
      defer(() => callback(null, view));
    };
    const webcrypto = { getRandomValues, randomUUID, subtle: realCrypto.webcrypto.subtle, CryptoKey: realCrypto.webcrypto.CryptoKey };
    return { ...realCrypto, randomBytes, pseudoRandomBytes: randomBytes, randomInt, randomUUID, getRandomValues, randomFillSync, randomFill, webcrypto };
  }
}

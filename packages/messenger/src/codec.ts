/**
 * Codecs turn typed values into message payloads and back, for {@link Messagable} reps.
 *
 * - {@link rawCodec}: the IOBuf itself (zero copy; the receiver owns and releases it).
 * - {@link bytesCodec} / {@link stringCodec}: a Uint8Array / UTF-8 string.
 * - {@link jsonCodec}: any JSON value (a discriminated union makes a pleasant protocol).
 * - {@link structCodec}: a tiny fixed-layout binary codec: `{ seq: 'u32', value: 'f64', name: 'string' }`.
 *
 * `decode` takes ownership of the buffer (it releases it, except {@link rawCodec} which passes
 * it on); it throws a {@link CodecError} on malformed input, which the Messenger counts as a
 * handler error without affecting the connection.
 */
import { EbbrtError, IOBuf } from '@ebbrt/interfaces';

export interface Codec<T> {
  encode(value: T): IOBuf;
  /** Takes ownership of `data`. */
  decode(data: IOBuf): T;
}

export class CodecError extends EbbrtError {
  constructor(detail: string) {
    super('EBBRT_CODEC', detail);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Contiguous bytes of a chain, copying only when it has more than one element. */
function contiguous(data: IOBuf): Uint8Array {
  return data.isChained() ? data.toUint8Array() : data.data();
}

export const rawCodec: Codec<IOBuf> = {
  encode: (value) => value,
  decode: (data) => data,
};

export const bytesCodec: Codec<Uint8Array> = {
  encode: (value) => IOBuf.copyOf(value),
  decode(data) {
    const out = data.toUint8Array();
    data.releaseChain();
    return out;
  },
};

export const stringCodec: Codec<string> = {
  encode: (value) => IOBuf.copyOf(value),
  decode(data) {
    try {
      return decoder.decode(contiguous(data));
    } catch {
      throw new CodecError('message is not valid UTF-8');
    } finally {
      data.releaseChain();
    }
  },
};

/** JSON values, UTF-8 encoded. `T` is trusted, not validated: check untrusted input yourself (zod). */
export function jsonCodec<T>(): Codec<T> {
  return {
    encode: (value) => IOBuf.copyOf(JSON.stringify(value)),
    decode(data) {
      let text: string;
      try {
        text = decoder.decode(contiguous(data));
      } catch {
        throw new CodecError('JSON message is not valid UTF-8');
      } finally {
        data.releaseChain();
      }
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new CodecError(`malformed JSON message: ${(e as Error).message}`);
      }
    },
  };
}

export type FieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'u64' | 'bool' | 'string' | 'bytes';
type FieldValue<F extends FieldType> = F extends 'u64'
  ? bigint
  : F extends 'bool'
    ? boolean
    : F extends 'string'
      ? string
      : F extends 'bytes'
        ? Uint8Array
        : number;
export type StructOf<S extends Record<string, FieldType>> = { [K in keyof S]: FieldValue<S[K]> };

const FIXED: Readonly<Partial<Record<FieldType, number>>> = { u8: 1, u16: 2, u32: 4, i32: 4, f64: 8, u64: 8, bool: 1 };

/**
 * A fixed-layout binary codec: fields in declaration order, big-endian; `string` and `bytes`
 * are a u32 length then the bytes. `encode` throws a RangeError naming a field out of range.
 */
export function structCodec<S extends Record<string, FieldType>>(schema: S): Codec<StructOf<S>> {
  const fields = Object.entries(schema) as [string, FieldType][];
  return {
    encode(value) {
      const v = value as Record<string, unknown>;
      const blobs = new Map<string, Uint8Array>();
      let size = 0;
      for (const [name, type] of fields) {
        const fixed = FIXED[type];
        if (fixed !== undefined) size += fixed;
        else {
          const raw = v[name];
          const b = type === 'string' ? encoder.encode(String(raw)) : (raw as Uint8Array);
          if (!(b instanceof Uint8Array)) throw new RangeError(`structCodec: field ${name} must be a Uint8Array`);
          blobs.set(name, b);
          size += 4 + b.length;
        }
      }
      const buf = IOBuf.allocate(size);
      const view = buf.storage.dataView;
      const bytes = buf.bytes;
      let at = 0;
      for (const [name, type] of fields) {
        const x = v[name];
        const check = (min: number, max: number): number => {
          if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
            throw new RangeError(`structCodec: field ${name} (${String(x)}) must be an integer in ${min}..${max}`);
          }
          return x;
        };
        switch (type) {
          case 'u8':
            view.setUint8(at, check(0, 0xff));
            at += 1;
            break;
          case 'bool':
            view.setUint8(at, x ? 1 : 0);
            at += 1;
            break;
          case 'u16':
            view.setUint16(at, check(0, 0xffff), false);
            at += 2;
            break;
          case 'u32':
            view.setUint32(at, check(0, 0xffffffff), false);
            at += 4;
            break;
          case 'i32':
            view.setInt32(at, check(-0x80000000, 0x7fffffff), false);
            at += 4;
            break;
          case 'f64':
            if (typeof x !== 'number') throw new RangeError(`structCodec: field ${name} must be a number`);
            view.setFloat64(at, x, false);
            at += 8;
            break;
          case 'u64':
            if (typeof x !== 'bigint' || x < 0n || x > 0xffffffffffffffffn) {
              throw new RangeError(`structCodec: field ${name} must be a bigint in 0..2^64-1`);
            }
            view.setBigUint64(at, x, false);
            at += 8;
            break;
          case 'string':
          case 'bytes': {
            const b = blobs.get(name)!;
            view.setUint32(at, b.length, false);
            bytes.set(b, at + 4);
            at += 4 + b.length;
            break;
          }
        }
      }
      return buf;
    },
    decode(data) {
      const total = data.computeChainDataLength();
      const c = data.cursor();
      const out: Record<string, unknown> = {};
      try {
        for (const [name, type] of fields) {
          const left = total - c.position;
          const fixed = FIXED[type];
          if (fixed !== undefined && left < fixed) throw new CodecError(`struct message truncated at field ${name}`);
          switch (type) {
            case 'u8':
              out[name] = c.u8();
              break;
            case 'bool':
              out[name] = c.u8() !== 0;
              break;
            case 'u16':
              out[name] = c.u16be();
              break;
            case 'u32':
              out[name] = c.u32be();
              break;
            case 'i32':
              out[name] = c.u32be() | 0;
              break;
            case 'f64': {
              const b = new Uint8Array(8);
              c.readInto(b);
              out[name] = new DataView(b.buffer).getFloat64(0, false);
              break;
            }
            case 'u64':
              out[name] = c.u64be();
              break;
            case 'string':
            case 'bytes': {
              if (left < 4) throw new CodecError(`struct message truncated at field ${name}`);
              const n = c.u32be();
              if (n > total - c.position) throw new CodecError(`struct field ${name} claims ${n} bytes, ${total - c.position} left`);
              const b = new Uint8Array(n);
              c.readInto(b);
              if (type === 'bytes') out[name] = b;
              else {
                try {
                  out[name] = decoder.decode(b);
                } catch {
                  throw new CodecError(`struct field ${name} is not valid UTF-8`);
                }
              }
              break;
            }
          }
        }
        if (c.position !== total) throw new CodecError(`struct message has ${total - c.position} trailing bytes`);
      } finally {
        data.releaseChain();
      }
      return out as StructOf<S>;
    },
  };
}

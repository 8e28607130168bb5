import { isValidEbbId, type EbbId } from '@ebbrt/interfaces';

/**
 * How ids and data are laid out in etcd. A key is `<prefix><namespace>/<id as 8 lower-case hex
 * digits>`: fixed width, so keys sort by id and a range over the namespace lists every id in
 * order. A value is the data's UTF-8 bytes, so `etcdctl get` shows it as text. The HTTP/JSON
 * gateway carries both as base64.
 */
export function keyFor(prefix: string, namespace: string, id: EbbId): string {
  return `${prefix}${namespace}/${id.toString(16).padStart(8, '0')}`;
}

/** The id a key names, or undefined if it is not a key of this prefix and namespace. */
export function idOfKey(prefix: string, namespace: string, key: string): EbbId | undefined {
  const head = `${prefix}${namespace}/`;
  if (!key.startsWith(head)) return undefined;
  const hex = key.slice(head.length);
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
  const id = Number.parseInt(hex, 16);
  return isValidEbbId(id) ? id : undefined;
}

export function checkId(id: unknown): asserts id is EbbId {
  if (typeof id !== 'number' || !isValidEbbId(id)) {
    throw new RangeError(`@ebbrt/global-id-map-etcd: ${String(id)} is not a valid EbbId (an integer 1 .. 2^32-1)`);
  }
}

const loneSurrogate = /\p{Surrogate}/u;

/**
 * Checks `data` is a string that survives UTF-8 (no lone surrogate, which UTF-8 cannot carry and
 * would silently turn into U+FFFD) and fits `maxBytes`; returns its UTF-8 bytes.
 */
export function encodeData(id: EbbId, data: unknown, maxBytes: number): Buffer {
  if (typeof data !== 'string') {
    throw new TypeError(`@ebbrt/global-id-map-etcd: set(0x${id.toString(16)}): data must be a string, got ${data === null ? 'null' : typeof data}`);
  }
  if (loneSurrogate.test(data)) {
    throw new TypeError(
      `@ebbrt/global-id-map-etcd: set(0x${id.toString(16)}): data contains a lone UTF-16 surrogate, which UTF-8 cannot store`,
    );
  }
  const bytes = Buffer.from(data, 'utf8');
  if (bytes.length > maxBytes) {
    throw new RangeError(
      `@ebbrt/global-id-map-etcd: set(0x${id.toString(16)}): data is ${bytes.length} UTF-8 bytes, over the ${maxBytes}-byte limit (maxValueBytes)`,
    );
  }
  return bytes;
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 as the gateway sends it, strictly checked (Buffer.from would skip junk silently). */
export function fromBase64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !base64.test(text)) {
    throw new SyntaxError(`${what} is not base64`);
  }
  return Buffer.from(text, 'base64');
}

export function toBase64(bytes: string | Uint8Array): string {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)).toString('base64');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes back to the string (a leading BOM kept); throws on bytes that are not UTF-8 (a value not written by us). */
export function decodeData(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/**
 * A model of the memcached store for the checker: what each request must answer, given every
 * request before it on the same keys. Values are latin1 strings (one char per byte). CAS uniques
 * are the server's to choose: the model only knows the last one a `gets` showed, and whether the
 * item changed since (then that unique must no longer match).
 */
export interface ModelItem {
  value: string;
  flags: number;
  /** The unique the last `gets` showed, while the item is unchanged since. */
  seenCas: string | undefined;
}

/** A request of the workload (one memcached ASCII command). */
export type Op =
  | { kind: 'set' | 'add' | 'append'; key: string; value: string; flags: number }
  | { kind: 'get'; keys: string[] }
  | { kind: 'gets'; key: string }
  | { kind: 'cas'; key: string; value: string; flags: number; stale: boolean }
  | { kind: 'delete'; key: string }
  | { kind: 'incr' | 'decr'; key: string; delta: bigint };

/** One `VALUE` line and its data, as a reply carries it. */
export interface Value {
  key: string;
  flags: number;
  data: string;
  cas: string | undefined;
}

/** A parsed reply: a line (STORED, NOT_FOUND, a number, an error...) or the values of a get. */
export type Reply = { kind: 'line'; line: string } | { kind: 'values'; values: Value[] };

const U64 = (1n << 64n) - 1n;

/** The stored number's bytes after incr/decr: memcached pads a number that got no longer with spaces. */
function arithValue(old: string, next: bigint): string {
  const text = next.toString();
  return text.length < old.length ? text.padEnd(old.length, ' ') : text;
}

/** A stored value memcached's incr/decr accepts: decimal digits (trailing spaces from a padded rewrite), at most 2^64-1. */
function numeric(value: string): bigint | undefined {
  const m = /^(\d{1,20}) *$/.exec(value);
  if (m === null) return undefined;
  const n = BigInt(m[1]!);
  return n <= U64 ? n : undefined;
}

export class StoreModel {
  readonly items = new Map<string, ModelItem>();

  /**
   * Applies `op` to the model and checks the server's reply against it. Returns undefined when
   * the reply is right, else how it is wrong. A cas's unique comes from the model (`casFor`).
   */
  apply(op: Op, reply: Reply): string | undefined {
    const line = reply.kind === 'line' ? reply.line : undefined;
    const expectLine = (want: string): string | undefined => (line === want ? undefined : `expected ${want}, got ${describe(reply)}`);
    switch (op.kind) {
      case 'set':
        this.items.set(op.key, { value: op.value, flags: op.flags, seenCas: undefined });
        return expectLine('STORED');
      case 'add': {
        if (this.items.has(op.key)) return expectLine('NOT_STORED');
        this.items.set(op.key, { value: op.value, flags: op.flags, seenCas: undefined });
        return expectLine('STORED');
      }
      case 'append': {
        const item = this.items.get(op.key);
        if (item === undefined) return expectLine('NOT_STORED');
        item.value += op.value;
        item.seenCas = undefined;
        return expectLine('STORED');
      }
      case 'cas': {
        const item = this.items.get(op.key);
        if (item === undefined) return expectLine('NOT_FOUND');
        // A stale cas carries a unique that no longer (or never) matched: it must lose.
        if (op.stale || item.seenCas === undefined) return expectLine('EXISTS');
        this.items.set(op.key, { value: op.value, flags: op.flags, seenCas: undefined });
        return expectLine('STORED');
      }
      case 'delete': {
        const had = this.items.delete(op.key);
        return expectLine(had ? 'DELETED' : 'NOT_FOUND');
      }
      case 'incr':
      case 'decr': {
        const item = this.items.get(op.key);
        if (item === undefined) return expectLine('NOT_FOUND');
        const n = numeric(item.value);
        if (n === undefined) return line?.startsWith('CLIENT_ERROR ') ? undefined : `expected CLIENT_ERROR (non-numeric value), got ${describe(reply)}`;
        const next = op.kind === 'incr' ? (n + op.delta) & U64 : n > op.delta ? n - op.delta : 0n;
        item.value = arithValue(item.value, next);
        item.seenCas = undefined;
        return expectLine(next.toString());
      }
      case 'get':
        return this.checkValues(op.keys, reply, false);
      case 'gets': {
        const wrong = this.checkValues([op.key], reply, true);
        if (wrong !== undefined) return wrong;
        const item = this.items.get(op.key);
        const shown = reply.kind === 'values' ? reply.values[0]?.cas : undefined;
        if (item !== undefined && shown !== undefined) {
          // An unchanged item keeps its unique; any change gives it a new one.
          if (item.seenCas !== undefined && item.seenCas !== shown) return `gets ${op.key}: the unique changed from ${item.seenCas} to ${shown} with no write between`;
          item.seenCas = shown;
        }
        return undefined;
      }
    }
  }

  /** The unique a cas sends: the one `gets` showed (fresh), or one that cannot match (stale). */
  casFor(op: Extract<Op, { kind: 'cas' }>): string {
    const seen = this.items.get(op.key)?.seenCas;
    return op.stale || seen === undefined ? '999999999' : seen;
  }

  /** A get's values: exactly the model's items among `keys`, in order, with their flags and bytes. */
  private checkValues(keys: readonly string[], reply: Reply, withCas: boolean): string | undefined {
    if (reply.kind !== 'values') return `get ${keys.join(' ')}: expected values, got ${describe(reply)}`;
    const want = keys.filter((k) => this.items.has(k));
    const got = reply.values;
    if (got.length !== want.length || got.some((v, i) => v.key !== want[i])) {
      return `get ${keys.join(' ')}: expected keys [${want.join(' ')}], got [${got.map((v) => v.key).join(' ')}]`;
    }
    for (const v of got) {
      const item = this.items.get(v.key)!;
      if (v.data !== item.value) return `get ${v.key}: expected ${item.value.length} bytes ${preview(item.value)}, got ${v.data.length} bytes ${preview(v.data)}`;
      if (v.flags !== item.flags) return `get ${v.key}: expected flags ${item.flags}, got ${v.flags}`;
      if (withCas !== (v.cas !== undefined)) return `get ${v.key}: ${withCas ? 'gets sent no unique' : 'get sent a unique'}`;
    }
    return undefined;
  }
}

const preview = (s: string): string => JSON.stringify(s.length > 24 ? s.slice(0, 24) + '…' : s);

export function describe(reply: Reply): string {
  return reply.kind === 'line' ? JSON.stringify(reply.line) : `values [${reply.values.map((v) => v.key).join(' ')}]`;
}

import type { IOBuf, IOBufStorage } from '@ebbrt/interfaces';

/**
 * Charges what the store really pins. A stored value is a set of views into
 * received buffers, and a small value keeps its whole receive buffer alive, so
 * each distinct IOBufStorage is charged its full capacity, once, for as long as
 * any stored view references it (counted per view element).
 */
export class StorageAccounting {
  private readonly refs = new Map<IOBufStorage, number>();
  /** Sum of the capacities of the storages currently referenced. */
  storageBytes = 0;

  /** Adds the references of every element of `chain`. */
  charge(chain: IOBuf): void {
    let e = chain;
    do {
      const s = e.storage;
      const n = this.refs.get(s);
      if (n === undefined) {
        this.refs.set(s, 1);
        this.storageBytes += s.capacity;
      } else this.refs.set(s, n + 1);
      e = e.next;
    } while (e !== chain);
  }

  /** Drops the references of every element of `chain` (call before releasing it). */
  uncharge(chain: IOBuf): void {
    let e = chain;
    do {
      const s = e.storage;
      const n = this.refs.get(s);
      if (n === undefined) throw new Error('memcached store: uncharging a storage that was never charged');
      if (n === 1) {
        this.refs.delete(s);
        this.storageBytes -= s.capacity;
      } else this.refs.set(s, n - 1);
      e = e.next;
    } while (e !== chain);
  }

  /** Bytes `chain` would add if charged now (its storages not yet referenced, each once). */
  additional(chain: IOBuf, scratch: Set<IOBufStorage>): number {
    let bytes = 0;
    let e = chain;
    do {
      const s = e.storage;
      if (!this.refs.has(s) && !scratch.has(s)) {
        scratch.add(s);
        bytes += s.capacity;
      }
      e = e.next;
    } while (e !== chain);
    scratch.clear();
    return bytes;
  }

  /** Bytes `chain` pins on its own (each distinct storage once). */
  standalone(chain: IOBuf, scratch: Set<IOBufStorage>): number {
    let bytes = 0;
    let e = chain;
    do {
      const s = e.storage;
      if (!scratch.has(s)) {
        scratch.add(s);
        bytes += s.capacity;
      }
      e = e.next;
    } while (e !== chain);
    scratch.clear();
    return bytes;
  }

  /** Number of distinct storages pinned. */
  get storages(): number {
    return this.refs.size;
  }
}

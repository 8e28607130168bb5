import type { Item } from './item.js';

/**
 * Least-recently-used order as an intrusive doubly linked list threaded
 * through the items themselves: head = most recently used, tail = the next
 * eviction victim. Every operation is O(1) and allocation-free.
 */
export class Lru {
  head: Item | null = null;
  tail: Item | null = null;
  size = 0;

  /** Inserts an unlinked item as the most recently used. */
  pushFront(item: Item): void {
    item.prev = null;
    item.next = this.head;
    if (this.head !== null) this.head.prev = item;
    else this.tail = item;
    this.head = item;
    this.size++;
  }

  /** Unlinks an item that is in this list. */
  remove(item: Item): void {
    if (item.prev !== null) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next !== null) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = item.next = null;
    this.size--;
  }

  /** Marks an item as just used. */
  touch(item: Item): void {
    if (this.head === item) return;
    this.remove(item);
    this.pushFront(item);
  }

  clear(): void {
    this.head = this.tail = null;
    this.size = 0;
  }
}

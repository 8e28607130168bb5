// IOBuf chain slicing for the send path: segments are views (clones) of the caller's buffers.

import { IOBuf } from '@ebbrt/interfaces';

/** Views (clones, no copy) of bytes [off, off+n) of a chain. */
export function sliceChain(chain: IOBuf, off: number, n: number): IOBuf {
  let head: IOBuf | undefined;
  let e: IOBuf = chain;
  do {
    const len = e.length;
    if (n > 0 && off < len) {
      const take = Math.min(len - off, n);
      const v = e.clone();
      v.advance(off);
      v.trimEnd(v.length - take);
      if (head === undefined) head = v;
      else head.appendChain(v);
      n -= take;
      off = 0;
    } else if (off >= len) {
      off -= len;
    }
    e = e.next;
  } while (e !== chain && n > 0);
  return head ?? IOBuf.wrap(new Uint8Array(0));
}

/** Drops the first n bytes of a chain in place (the head element stays the head). */
export function dropFront(chain: IOBuf, n: number): void {
  let e: IOBuf = chain;
  while (n > 0) {
    const take = Math.min(e.length, n);
    e.advance(take);
    n -= take;
    e = e.next;
    if (e === chain) break;
  }
}

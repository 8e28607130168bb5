/**
 * Page -> owner table: for every physical page, what kind of allocation it
 * belongs to and the first page of that allocation. This is what makes
 * `free(addr)` O(1): one array read finds the slab (its descriptor is indexed
 * by its head page) or the page-level allocation an address falls in.
 */
export const PageKind = {
  /** Free, reserved, or otherwise not handed out. */
  None: 0,
  /** Part of a slab of some size class. */
  Slab: 1,
  /** A malloc larger than the largest class, taken straight from the page allocator. */
  Large: 2,
  /** An allocPages() block. */
  Pages: 3,
} as const;

export class PageMap {
  readonly kind: Uint8Array;
  /** Head page of the allocation containing the page (valid when kind != None). */
  readonly head: Int32Array;
  /** Order of the allocation, at its head page. */
  readonly order: Int8Array;

  constructor(readonly numPages: number) {
    this.kind = new Uint8Array(numPages);
    this.head = new Int32Array(numPages);
    this.order = new Int8Array(numPages);
  }

  /** Records 2^order pages from `headPage` as one allocation of `kind`. O(pages), paid once per slab. */
  mark(headPage: number, order: number, kind: number): void {
    const end = headPage + 2 ** order;
    this.kind.fill(kind, headPage, end);
    this.head.fill(headPage, headPage, end);
    this.order[headPage] = order;
  }

  clear(headPage: number, order: number): void {
    this.kind.fill(PageKind.None, headPage, headPage + 2 ** order);
  }
}

/**
 * What every wire view is: a window onto bytes it does not own (no copy, no
 * allocation per field). `ok` is what tells a successful parse from a
 * `ParseFailure`, so a parse result needs no wrapper object.
 */
export abstract class PacketView {
  readonly ok = true as const;

  constructor(
    public bytes: Uint8Array,
    public offset: number,
    /** Bytes this view may read: the header and whatever it carries. */
    public length: number,
  ) {}

  /** Points this view at new bytes once their check passed; returns `wrap`'s "no failure". */
  protected rebind(bytes: Uint8Array, offset: number, length: number): null {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    return null;
  }
}

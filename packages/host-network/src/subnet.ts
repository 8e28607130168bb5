/** IPv4 subnet arithmetic for the app's simulated network (config `network.subnet`). */
export class Subnet {
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefixLength: number;

  constructor(readonly text: string) {
    const [addr, len] = text.split('/');
    this.prefixLength = Number(len);
    const mask = this.prefixLength === 0 ? 0 : (0xffffffff << (32 - this.prefixLength)) >>> 0;
    this.network = (toNumber(addr!) & mask) >>> 0;
  }

  /** Usable host addresses (excluding network and broadcast). */
  get hostCount(): number {
    return 2 ** (32 - this.prefixLength) - 2;
  }

  /** Host `n` (1-based) as a dotted quad. */
  host(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > this.hostCount) {
      throw new RangeError(`host ${n} is outside ${this.text} (1..${this.hostCount})`);
    }
    return toText(this.network + n);
  }

  /** Host `n` with the prefix length, as a NetworkManager `address` option. */
  hostWithPrefix(n: number): string {
    return `${this.host(n)}/${this.prefixLength}`;
  }

  contains(address: string): boolean {
    const mask = (0xffffffff << (32 - this.prefixLength)) >>> 0;
    return ((toNumber(address) & mask) >>> 0) === this.network;
  }
}

/** Back-end node `id` (1-based) is host id + 1: host 1 is the runtime's gateway. */
export const nodeHost = (nodeId: number): number => nodeId + 1;
export const GATEWAY_HOST = 1;

function toNumber(dotted: string): number {
  const parts = dotted.split('.').map(Number);
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0);
}

function toText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

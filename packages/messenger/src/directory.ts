/**
 * The peer directory: where each node's Messenger listens. Node ids are not addresses, so the
 * runtime (or the `peers` option) fills it; a connection is identified by its peer's HELLO, never
 * by the address it came from.
 */

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

/** Parses "host:port". */
export function parsePeerAddress(spec: string): PeerAddress {
  const i = spec.lastIndexOf(':');
  const port = Number(spec.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new RangeError(`peer address "${spec}" is not host:port (port 1..65535)`);
  }
  return { address: spec.slice(0, i), port };
}

/** Network id → address, plus the nodes forgotten because they died or were freed. */
export class PeerDirectory {
  private readonly addresses = new Map<number, PeerAddress>();
  /** Nodes forgotten because they died or were freed (for a clearer error than "unknown"). */
  private readonly gone = new Set<number>();

  /** Loads the `peers` option (`{ "<networkId>": "host:port" }`). */
  load(peers: Readonly<Record<string, string>>): void {
    for (const [id, spec] of Object.entries(peers)) {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`messenger: peers key "${id}" is not a network id`);
      const { address, port } = parsePeerAddress(spec);
      this.set(n, address, port);
    }
  }

  set(networkId: number, address: string, port: number): void {
    if (!Number.isInteger(networkId) || networkId < 0 || networkId > 0xffffffff) {
      throw new RangeError(`setPeer: ${networkId} is not a network id`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`setPeer: port ${port} is not 1..65535`);
    this.addresses.set(networkId, { address, port });
    this.gone.delete(networkId);
  }

  get(networkId: number): PeerAddress | undefined {
    return this.addresses.get(networkId);
  }

  /** Forgets a node that is gone; false if it had no address. */
  forget(networkId: number): boolean {
    if (!this.addresses.delete(networkId)) return false;
    this.gone.add(networkId);
    return true;
  }

  isGone(networkId: number): boolean {
    return this.gone.has(networkId);
  }

  /** Every node with an address but `self`, ascending. */
  idsExcept(self: number): number[] {
    return [...this.addresses.keys()].filter((id) => id !== self).sort((a, b) => a - b);
  }
}

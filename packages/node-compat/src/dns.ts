import { isIP } from 'node:net';
import type { NodeEbbs } from './host.js';
import { systemError } from './net/errors.js';

/**
 * Names a node knows: IPv4 literals, `localhost` (the node's own address: a node has no
 * loopback interface of its own), the names the app was given (`hosts`), and `node<k>`: back-end
 * node k at host address k + 1 of this node's subnet (the runtime's numbering). There is no
 * resolver to ask: any other name fails with ENOTFOUND, naming it.
 */
export class NodeDns {
  constructor(
    private readonly ebbs: NodeEbbs,
    private readonly hosts: Readonly<Record<string, string>>,
  ) {}

  /** The node's first configured IPv4 address. */
  ownAddress(): string {
    for (const i of this.ebbs.network.deref().interfaces()) if (i.address !== undefined) return i.address;
    return '0.0.0.0';
  }

  /** Back-end node k's address in this node's subnet, if it has one there. */
  private nodeAddress(k: number): string | undefined {
    for (const i of this.ebbs.network.deref().interfaces()) {
      if (i.address === undefined || i.netmask === undefined) continue;
      const ip = toNumber(i.address);
      const mask = toNumber(i.netmask);
      const host = k + 1;
      if (k < 1 || host >= (~mask >>> 0)) return undefined;
      return fromNumber(((ip & mask) >>> 0) + host);
    }
    return undefined;
  }

  resolve4(host: string, syscall = 'getaddrinfo'): string {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (isIP(name) === 4) return name;
    const mapped = this.hosts[name];
    if (mapped !== undefined) return mapped;
    if (name === 'localhost' || name === '127.0.0.1' || name === '::1' || name === 'localhost.localdomain') return this.ownAddress();
    const node = /^node(\d+)$/.exec(name);
    if (node !== null) {
      const byNumber = this.nodeAddress(Number(node[1]));
      if (byNumber !== undefined) return byNumber;
    }
    if (isIP(name) === 6) throw systemError('EAFNOSUPPORT', syscall, `${host}: the node's stack is IPv4 only`, { hostname: host });
    throw systemError('ENOTFOUND', syscall === 'connect' ? 'getaddrinfo' : syscall, host, { hostname: host });
  }

  /** `node:dns` (callback) and `node:dns/promises`. */
  module(): Record<string, unknown> {
    const defer = (fn: () => void): void => this.ebbs.events.deref().spawn(fn, { async: true });
    const lookupNow = (host: string, options: unknown): { address: string; family: number }[] => {
      const family = typeof options === 'number' ? options : (options as { family?: number | string } | undefined)?.family;
      if (family === 6 || family === 'IPv6') throw systemError('ENOTFOUND', 'getaddrinfo', host, { hostname: host });
      return [{ address: this.resolve4(host), family: 4 }];
    };
    const lookup = (host: string, options: unknown, callback?: unknown): void => {
      const cb = (typeof options === 'function' ? options : callback) as (e: Error | null, a?: unknown, f?: number) => void;
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
      defer(() => {
        try {
          const found = lookupNow(host, typeof options === 'function' ? undefined : options);
          if (all) cb(null, found);
          else cb(null, found[0]!.address, 4);
        } catch (e) {
          cb(e as Error);
        }
      });
    };
    const resolve4 = (host: string, callback: (e: Error | null, a?: string[]) => void): void =>
      defer(() => {
        try {
          callback(null, [this.resolve4(host, 'queryA')]);
        } catch (e) {
          callback(e as Error);
        }
      });
    const promises = {
      lookup: async (host: string, options?: unknown) => {
        const found = lookupNow(host, options);
        return typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true ? found : found[0];
      },
      resolve4: async (host: string) => [this.resolve4(host, 'queryA')],
      resolve: async (host: string) => [this.resolve4(host, 'queryA')],
    };
    return { lookup, resolve4, resolve: resolve4, promises, ADDRCONFIG: 1024, V4MAPPED: 2048, ALL: 256, NOTFOUND: 'ENOTFOUND', getServers: () => [], setServers: () => undefined };
  }
}

function toNumber(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
}

function fromNumber(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

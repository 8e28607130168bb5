import { DEFAULT_MAX_ITEM_SIZE, DEFAULT_MEMORY_LIMIT, DEFAULT_PORT } from './server/options.js';

export interface MemcachedArgs {
  port: number;
  memoryLimit: number;
  maxItemSize: number;
  /** Free memory the node keeps (native nodes); undefined = an eighth of the node's memory. */
  memoryReserve: number | undefined;
}

export const USAGE = 'usage: memcached [--port N] [--memory-limit SIZE] [--max-item-size SIZE] [--memory-reserve SIZE]   (SIZE like 64MiB, 512KiB, 1048576)';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "64MiB", "512k", "1048576" -> bytes (binary units); throws naming the bad text. */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m === null ? undefined : UNITS[m[2]!.toLowerCase()];
  if (m === null || unit === undefined) throw new Error(`${what}: "${text}" is not a size (e.g. 64MiB, 512KiB, 1048576)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw new Error(`${what}: "${text}" must be a positive size`);
  return bytes;
}

/** Parses the app's arguments (`--port N`, `--memory-limit SIZE`, `--max-item-size SIZE`, also `--opt=value`). */
export function parseMemcachedArgs(args: readonly string[]): MemcachedArgs {
  const result: MemcachedArgs = { port: DEFAULT_PORT, memoryLimit: DEFAULT_MEMORY_LIMIT, maxItemSize: DEFAULT_MAX_ITEM_SIZE, memoryReserve: undefined };
  for (let i = 0; i < args.length; i++) {
    let name = args[i]!;
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (name.startsWith('--') && eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      const v = args[++i];
      if (v === undefined) throw new Error(`${name} needs a value\n${USAGE}`);
      return v;
    };
    switch (name) {
      case '--port':
      case '-p': {
        const text = next();
        const port = Number(text);
        if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port: "${text}" is not a port number (0-65535)`);
        result.port = port;
        break;
      }
      case '--memory-limit':
      case '-m':
        result.memoryLimit = parseByteSize(next(), '--memory-limit');
        break;
      case '--max-item-size':
      case '-I':
        result.maxItemSize = parseByteSize(next(), '--max-item-size');
        break;
      case '--memory-reserve':
        result.memoryReserve = parseByteSize(next(), '--memory-reserve');
        break;
      default:
        throw new Error(`unknown argument "${args[i]}"\n${USAGE}`);
    }
  }
  if (result.maxItemSize > result.memoryLimit) {
    throw new Error(`--max-item-size (${result.maxItemSize}) must not exceed --memory-limit (${result.memoryLimit})`);
  }
  return result;
}

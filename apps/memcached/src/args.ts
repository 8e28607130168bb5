/**
 * The app's command line: node:util's parseArgs for the grammar (`--flag value`, `--flag=value`,
 * short aliases), @ebbrt/interfaces' parseByteSize for sizes, so an app argument and a config
 * field take the same "64MiB". Every error names the flag.
 */
import { parseArgs } from 'node:util';
import { BYTE_SIZE_HINT, parseByteSize } from '@ebbrt/interfaces';
import { DEFAULT_MAX_ITEM_SIZE, DEFAULT_MEMORY_LIMIT, DEFAULT_PORT } from './server/options.js';

export interface MemcachedArgs {
  port: number;
  memoryLimit: number;
  maxItemSize: number;
  /** Free memory the node keeps (native nodes); undefined = an eighth of the node's memory. */
  memoryReserve: number | undefined;
  /** `--help` / `-h` was given: print {@link USAGE} and do not start. */
  help?: true;
}

export const USAGE = [
  'usage: memcached [--port N] [--memory-limit SIZE] [--max-item-size SIZE] [--memory-reserve SIZE]',
  '  -p, --port N              TCP port (default 11211; 0 = ephemeral)',
  '  -m, --memory-limit SIZE   item memory; a bare number is megabytes (MiB), as in memcached (default 64)',
  '  -I, --max-item-size SIZE  largest item; a bare number is bytes, k/m suffixes as in memcached (default 1m)',
  '      --memory-reserve SIZE free memory a native node keeps (default: an eighth of it)',
  '  SIZE with a unit: 512KiB, 64MiB, 1GiB, 4096B',
].join('\n');

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  'memory-limit': { type: 'string', short: 'm' },
  'max-item-size': { type: 'string', short: 'I' },
  'memory-reserve': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const BARE = /^\s*(\d+)\s*$/;
const MEMCACHED_SUFFIX = /^\s*(\d+)\s*([kKmM])\s*$/;

/**
 * memcached's own readings, so its command lines mean the same here: `-m 64` is 64 megabytes
 * (memcached: item memory in megabytes), `-I 512k` / `-I 1m` are KiB / MiB and a bare `-I` is bytes
 * (memcached.c's -I parser). Anything else is the config grammar.
 */
function memcachedSize(flag: string, text: string): number | undefined {
  const bare = BARE.exec(text);
  if (flag === 'memory-limit' && bare !== null) {
    const bytes = Number(bare[1]) * 1024 * 1024;
    return Number.isSafeInteger(bytes) ? bytes : undefined;
  }
  const suffixed = flag === 'max-item-size' ? MEMCACHED_SUFFIX.exec(text) : null;
  if (suffixed !== null) {
    const bytes = Number(suffixed[1]) * (/[kK]/.test(suffixed[2]!) ? 1024 : 1024 * 1024);
    return Number.isSafeInteger(bytes) ? bytes : undefined;
  }
  return parseByteSize(text);
}

/** A size flag's value in bytes; throws naming the flag and the text. */
function sizeFlag(flag: string, text: string): number {
  const bytes = memcachedSize(flag, text);
  if (bytes === undefined) throw new Error(`--${flag}: "${text}" is not a size (${BYTE_SIZE_HINT})\n${USAGE}`);
  if (bytes === 0) throw new Error(`--${flag}: "${text}" must be a positive size`);
  return bytes;
}

/** Parses the app's arguments (`--port N`, `--memory-limit SIZE`, `--max-item-size SIZE`, `--memory-reserve SIZE`). */
export function parseMemcachedArgs(args: readonly string[]): MemcachedArgs {
  let values: { [K in Exclude<keyof typeof OPTIONS, 'help'>]?: string } & { help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs' messages already name the flag ("Unknown option '--bogus'", "Option '-p, --port
    // <value>' argument missing"); add what the app takes.
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const result: MemcachedArgs = { port: DEFAULT_PORT, memoryLimit: DEFAULT_MEMORY_LIMIT, maxItemSize: DEFAULT_MAX_ITEM_SIZE, memoryReserve: undefined };
  if (values.help === true) return { ...result, help: true };
  if (values.port !== undefined) {
    const text = values.port;
    if (!/^\d+$/.test(text) || Number(text) > 65535) throw new Error(`--port: "${text}" is not a port number (0-65535)`);
    result.port = Number(text);
  }
  if (values['memory-limit'] !== undefined) result.memoryLimit = sizeFlag('memory-limit', values['memory-limit']);
  if (values['max-item-size'] !== undefined) result.maxItemSize = sizeFlag('max-item-size', values['max-item-size']);
  if (values['memory-reserve'] !== undefined) result.memoryReserve = sizeFlag('memory-reserve', values['memory-reserve']);
  if (result.maxItemSize > result.memoryLimit) {
    throw new Error(`--max-item-size (${result.maxItemSize}) must not exceed --memory-limit (${result.memoryLimit})`);
  }
  return result;
}

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
}

export const USAGE =
  'usage: memcached [--port N] [--memory-limit SIZE] [--max-item-size SIZE] [--memory-reserve SIZE]   (SIZE like 64MiB, 512KiB, 1048576)';

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  'memory-limit': { type: 'string', short: 'm' },
  'max-item-size': { type: 'string', short: 'I' },
  'memory-reserve': { type: 'string' },
} as const;

/** A size flag's value in bytes; throws naming the flag and the text. */
function sizeFlag(flag: string, text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`--${flag}: "${text}" is not a size (${BYTE_SIZE_HINT})\n${USAGE}`);
  if (bytes === 0) throw new Error(`--${flag}: "${text}" must be a positive size`);
  return bytes;
}

/** Parses the app's arguments (`--port N`, `--memory-limit SIZE`, `--max-item-size SIZE`, `--memory-reserve SIZE`). */
export function parseMemcachedArgs(args: readonly string[]): MemcachedArgs {
  let values: { [K in keyof typeof OPTIONS]?: string };
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs' messages already name the flag ("Unknown option '--bogus'", "Option '-p, --port
    // <value>' argument missing"); add what the app takes.
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const result: MemcachedArgs = { port: DEFAULT_PORT, memoryLimit: DEFAULT_MEMORY_LIMIT, maxItemSize: DEFAULT_MAX_ITEM_SIZE, memoryReserve: undefined };
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

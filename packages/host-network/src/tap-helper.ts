import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The packed-framing relay (`network.tap.relay: 'helper'`): native/ebbrt-tap-bridge.c, built
 * with the system C compiler on first use into a cache directory keyed by the source's hash (so
 * an edited source is rebuilt, and concurrent runs share one binary). Optional: without a C
 * compiler the TAP falls back to socat when the relay is not required.
 */
const SOURCE = fileURLToPath(new URL('../native/ebbrt-tap-bridge.c', import.meta.url));

export interface TapHelperBuild {
  /** The C compiler. Default: $CC, else `cc`. */
  cc?: string;
  /** Where built binaries are kept. Default: $EBBRT_TAP_HELPER_DIR, else <tmpdir>/ebbrt-tap-helper. */
  dir?: string;
}

/** Path of the built helper; builds it if needed. Rejects with the compiler's output on failure. */
export async function tapHelperBinary(build: TapHelperBuild = {}): Promise<string> {
  if (!existsSync(SOURCE)) throw new Error(`the TAP helper's source is missing (${SOURCE})`);
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = build.dir ?? process.env.EBBRT_TAP_HELPER_DIR ?? join(tmpdir(), 'ebbrt-tap-helper');
  const binary = join(dir, `ebbrt-tap-bridge-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Built beside its final name and renamed: a concurrent run never executes a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = build.cc ?? process.env.CC ?? 'cc';
  const result = await new Promise<{ code: number | null; output: string }>((done) => {
    let output = '';
    const child = spawn(cc, ['-O2', '-o', partial, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (e) => done({ code: -1, output: `${cc}: ${e.message}` }));
    child.once('close', (code) => done({ code, output }));
  });
  if (result.code !== 0) throw new Error(`could not build the TAP helper with ${cc} (apt-get install gcc): ${result.output.trim().slice(0, 400)}`);
  renameSync(partial, binary);
  return binary;
}

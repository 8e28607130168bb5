/**
 * Running real memcached tools (Debian's libmemcached-tools) as child processes.
 * They are always spawned asynchronously: the server under test runs on this
 * process's event loop, so a synchronous spawn would deadlock it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { it } from 'vitest';

/** True when `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/**
 * A test that needs an external tool: skipped (with the reason in its name)
 * when the tool is missing, except under CI=true where a missing tool fails.
 */
export function toolIt(name: string, tools: string[], fn: () => Promise<void>, timeoutMs: number): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) it(name, fn, timeoutMs);
  else if (process.env.CI === 'true') {
    it(name, () => {
      throw new Error(`${missing.join(', ')} not installed (apt-get install memcached libmemcached-tools; .ci/run does this)`);
    });
  } else it.skip(`${name} (skipped: ${missing.join(', ')} not installed)`, fn);
}

export interface ToolRun {
  code: number | null;
  output: string;
}

/** Runs `command` (through sh, stderr merged into stdout in order), killing it after `timeoutMs`. */
export function runTool(command: string, timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `exec ${command} 2>&1`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms; output so far:\n${Buffer.concat(chunks).toString()}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString() });
    });
  });
}

export interface CapableResult {
  passed: string[];
  failed: string[];
  skipped: string[];
  allPassedLine: boolean;
}

/**
 * Parses memccapable's output: each test prints its name padded to 40 columns,
 * then "[pass]", "[skip]" or (on stderr, possibly after the offending server
 * line) "[FAIL]". A test whose section has no status at all counts as failed.
 */
export function parseCapable(output: string): CapableResult {
  const result: CapableResult = { passed: [], failed: [], skipped: [], allPassedLine: /^All tests passed$/m.test(output) };
  const starts = [...output.matchAll(/^((?:ascii|binary)(?: [a-z]+)+) +/gm)];
  starts.forEach((m, i) => {
    const name = m[1]!;
    const section = output.slice(m.index! + m[0].length, i + 1 < starts.length ? starts[i + 1]!.index : output.length);
    const status = /\[(pass|FAIL|skip)\]/.exec(section)?.[1];
    if (status === 'pass') result.passed.push(name);
    else if (status === 'skip') result.skipped.push(name);
    else result.failed.push(name);
  });
  return result;
}

/** Starts a long-running tool (e.g. a reference memcached); stop it with `stop()` (kills that process only). */
export function spawnDaemon(command: string, args: string[]): { stop(): Promise<void> } {
  const child = spawn(command, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

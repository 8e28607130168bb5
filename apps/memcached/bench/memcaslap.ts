/**
 * Runs memcaslap (libmemcached-tools' memaslap) against one server and parses its result.
 * The workload is a memcaslap config file (`-F`): fixed key and value sizes and a get:set mix.
 */
import { spawn } from 'node:child_process';
import { tmpFile } from './servers.js';

export interface MemcaslapOptions {
  /** host:port */
  server: string;
  connections: number;
  /** memcaslap threads (at most `connections`). */
  threads: number;
  seconds: number;
  keyBytes: number;
  valueBytes: number;
  /** Fraction of gets (the rest are sets). */
  getRatio: number;
  binary: boolean;
}

export interface MemcaslapResult {
  tps: number;
  ops: number;
  runSeconds: number;
  getMisses: number | undefined;
  /** Lines that look like client-side errors (connection failures, bad responses). */
  errors: string[];
  output: string;
}

/** Writes (once per distinct workload) the `-F` file: key and value sizes, then the cmd mix. */
export function workloadFile(keyBytes: number, valueBytes: number, getRatio: number): string {
  const set = +(1 - getRatio).toFixed(4);
  const text = ['key', `${keyBytes} ${keyBytes} 1`, 'value', `${valueBytes} ${valueBytes} 1`, 'cmd', `0 ${set}`, `1 ${getRatio}`, ''].join('\n');
  return tmpFile(`memcaslap-k${keyBytes}-v${valueBytes}-g${getRatio}.cfg`, text);
}

/** Parses memcaslap's final line, `Run time: 3.0s Ops: 227114 TPS: 75696 Net_rate: 7.2M/s`. */
export function parseMemcaslap(output: string): Omit<MemcaslapResult, 'output'> | undefined {
  const runs = [...output.matchAll(/Run time:\s*([\d.]+)\s*s\s+Ops:\s*(\d+)\s+TPS:\s*(\d+)/g)];
  const last = runs[runs.length - 1];
  if (last === undefined) return undefined;
  const misses = [...output.matchAll(/^\s*get_misses:\s*(\d+)/gm)].pop();
  const errors = output
    .split('\n')
    .filter((l) => /error|fail|refused|reset|timed out|unexpected/i.test(l) && !/^\s*(cmd_|get_|written|read_|object_)/.test(l))
    .slice(0, 10);
  return {
    runSeconds: Number(last[1]),
    ops: Number(last[2]),
    tps: Number(last[3]),
    getMisses: misses === undefined ? undefined : Number(misses[1]),
    errors,
  };
}

/** One memcaslap run; never throws for a bad run: `tps` is NaN and `errors` says why. */
export function runMemcaslap(o: MemcaslapOptions): Promise<MemcaslapResult> {
  const cfg = workloadFile(o.keyBytes, o.valueBytes, o.getRatio);
  const threads = Math.max(1, Math.min(o.threads, o.connections));
  const args = ['-s', o.server, '-F', cfg, '-T', String(threads), '-c', String(o.connections), '-t', `${o.seconds}s`];
  if (o.binary) args.push('-B');
  return new Promise((resolve) => {
    let output = '';
    const child = spawn('memcaslap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // A server that stalls keeps memcaslap waiting past -t: give it setup time, then kill it.
    const timer = setTimeout(() => {
      output += `\n(bench: memcaslap killed after ${o.seconds + 20} s)\n`;
      child.kill('SIGKILL');
    }, (o.seconds + 20) * 1000);
    child.once('error', (e) => (output += `\n${String(e)}\n`));
    child.once('close', () => {
      clearTimeout(timer);
      const parsed = parseMemcaslap(output);
      if (parsed === undefined) {
        const tail = output.trim().split('\n').slice(-5);
        resolve({ tps: NaN, ops: 0, runSeconds: NaN, getMisses: undefined, errors: ['no "Run time: ... TPS:" line', ...tail], output });
      } else {
        resolve({ ...parsed, output });
      }
    });
  });
}

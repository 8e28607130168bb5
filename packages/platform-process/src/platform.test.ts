import { describe, expect, it } from 'vitest';
import type { PlatformHost } from '@ebbrt/interfaces';
import { ProcessPlatform } from './platform.js';

/**
 * A stand-in for the node agent that never reaches dormant (a boot still in flight, as a pool
 * refill is when an app ends): it only holds its IPC channel open, as the real agent does.
 */
const SLOW_AGENT = "process.on('message', () => undefined);";

function host(output: string[]): PlatformHost {
  return {
    app: { dir: process.cwd(), configFile: undefined, resolveFrom: [], seed: 1 },
    output: (line) => void output.push(line),
    reportFailure: () => undefined,
    requestExit: () => undefined,
    local: undefined,
    frontend: () => ({ messenger: { host: '127.0.0.1', port: 9 }, setPeer: () => undefined, reported: () => new Promise(() => undefined), unlink: () => undefined }),
    agent: { command: process.execPath, args: ['-e', SLOW_AGENT] },
  };
}

/** Whether process `pid` exists (signal 0 checks without sending; ESRCH: no such process). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

describe('ProcessPlatform', () => {
  it('counts a node still booting as live, and destroying the live nodes (a run ending) leaves no process behind', async () => {
    const platform = new ProcessPlatform(host([]), { bootTimeoutMs: 60_000 });
    const boot = platform.boot({ cores: 1, memoryBytes: 16 << 20 });
    const [node] = platform.liveNodes;
    expect(node).toBeDefined();
    const pid = node!.child.pid!;
    expect(alive(pid)).toBe(true);
    // What run-app does at the end of a remote-placement run.
    await Promise.all(platform.liveNodes.map((n) => n.destroy()));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    // The boot fails (its process is gone) rather than handing back a node nobody will free.
    await expect(boot).rejects.toThrow(/exited/);
    expect(platform.liveNodes).toEqual([]);
  });

  it('a boot that fails (the agent exits first) leaves neither a process nor a live node', async () => {
    const output: string[] = [];
    const h = { ...host(output), agent: { command: process.execPath, args: ['-e', 'process.exit(3)'] } };
    const platform = new ProcessPlatform(h, { bootTimeoutMs: 60_000 });
    const boot = platform.boot({ cores: 1, memoryBytes: 16 << 20 });
    const pid = platform.liveNodes[0]!.child.pid!;
    await expect(boot).rejects.toThrow(/code 3/);
    expect(alive(pid)).toBe(false);
    expect(platform.liveNodes).toEqual([]);
  });
});

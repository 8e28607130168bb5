import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostedNode, type HostedNode } from './hosted-node.js';

const fixtures = new URL('./fixtures/', import.meta.url);
const nodes: HostedNode[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const n of nodes.splice(0)) n.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function start(id: number): HostedNode {
  dir ??= mkdtempSync(join(tmpdir(), 'node-compat-uncaught-'));
  const n = hostedNode(dir, id);
  nodes.push(n);
  return n;
}

/** Sends `word`, half-closes if asked, and collects what comes back until the peer closes (bounded). */
function talk(port: number, word: string, end: boolean): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => (end ? s.end(word) : s.write(word)));
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closed: false });
    }, 3000);
    s.on('data', (d) => (data += d.toString()));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    s.on('error', () => undefined);
  });
}

describe('uncaught exceptions of an app', () => {
  it("go to the app's 'uncaughtException' listener, and the app goes on serving", async () => {
    const n = start(1);
    await n.run({ entry: new URL('throws.js', fixtures) }, ['listener']);
    const port = Number((await n.waitLog(/throws listening on (\d+)/))[1]);
    await talk(port, 'tick', true);
    await n.waitLog(/caught boom from nextTick \(uncaughtException\)/);
    await n.waitLog(/caught boom from end \(uncaughtException\)/);
    const again = await talk(port, 'ping', false);
    expect(again.data).toBe('pong\n');
    expect(n.logs.some((l) => /stopped on an uncaught exception/.test(l))).toBe(false);
    expect(n.failures).toEqual([]);
  });

  for (const trigger of ['tick', 'end'] as const) {
    it(`without a listener, one thrown from ${trigger === 'tick' ? 'process.nextTick' : "a stream's 'end'"} stops that node's app only, printed on its console`, async () => {
      const n = start(1);
      const other = start(2);
      await n.run({ entry: new URL('throws.js', fixtures) });
      await other.run({ entry: new URL('echo.js', fixtures) });
      const port = Number((await n.waitLog(/throws listening on (\d+)/))[1]);
      const otherPort = Number((await other.waitLog(/echo listening on (\d+)/))[1]);
      // 'tick' keeps the connection open: the app's death must close it.
      const first = await talk(port, trigger, trigger === 'end');
      expect(first.closed).toBe(true);
      await n.waitLog(/stopped on an uncaught exception/);
      const message = trigger === 'tick' ? 'boom from nextTick' : 'boom from end';
      expect(n.logs.some((l) => l.includes(`Error: ${message}`))).toBe(true);
      expect(n.logs.some((l) => /^\s+at /.test(l))).toBe(true); // the stack, as Node prints it
      expect(n.logs).toContain('exit event 1');
      // The app is gone: its port refuses or closes at once, its interval no longer ticks.
      const after = await talk(port, 'ping', false);
      expect(after.data).toBe('');
      const ticks = n.logs.filter((l) => l === 'still ticking').length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(n.logs.filter((l) => l === 'still ticking').length).toBe(ticks);
      // The other node's app, in this same process, goes on.
      const echo = await talk(otherPort, 'still here', true);
      expect(echo.data).toBe('still here');
      expect(n.failures).toEqual([]);
      expect(other.failures).toEqual([]);
    });
  }
});

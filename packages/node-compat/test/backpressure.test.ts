import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostedNode, type HostedNode } from './hosted-node.js';

const fixtures = new URL('./fixtures/', import.meta.url);
let node: HostedNode | undefined;
let dir: string | undefined;
afterEach(() => {
  node?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  node = dir = undefined;
});

/** One request/one line reply on the app's control port. */
function ask(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(word));
    s.once('data', (d) => {
      resolve(d.toString().trim());
      s.destroy();
    });
    s.on('error', reject);
  });
}

const TOTAL = 48 << 20; // well beyond what loopback's socket buffers and the stream can hold
const CHUNK = 64 << 10;

/**
 * Writes TOTAL bytes as fast as the kernel takes them; `accepted()` is what the kernel took so
 * far (write callbacks), which stops growing once the receiver's window is closed.
 */
function flood(port: number): { socket: Socket; accepted: () => number; sha: string; done: Promise<void> } {
  const data = Buffer.alloc(TOTAL);
  for (let i = 0; i < TOTAL; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  let accepted = 0;
  const socket = connect(port, '127.0.0.1');
  const done = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    let at = 0;
    const pump = (): void => {
      while (at < TOTAL) {
        const piece = data.subarray(at, at + CHUNK);
        at += piece.length;
        const more = socket.write(piece, () => void (accepted += piece.length));
        if (!more) return void socket.once('drain', pump);
      }
      socket.end(resolve);
    };
    socket.on('connect', pump);
  });
  return { socket, accepted: () => accepted, sha: createHash('sha256').update(data).digest('hex'), done };
}

/** Waits (bounded) until `value()` has not changed for `quietMs`. */
async function settle(value: () => number, quietMs = 400, maxMs = 15_000): Promise<number> {
  const until = Date.now() + maxMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    const v = value();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return v;
  }
  return value();
}

describe('net.Socket receive back-pressure', () => {
  for (const mode of ['pause', 'readable'] as const) {
    it(`${mode}: the sender is held to the windows while the app does not read, then everything arrives byte-exact`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'node-compat-bp-'));
      node = hostedNode(dir);
      const n = node;
      await n.run({ entry: new URL('paused.js', fixtures) }, [mode]);
      const m = await n.waitLog(/paused listening on (\d+) (\d+)/);
      const [dataPort, controlPort] = [Number(m[1]), Number(m[2])];
      const f = flood(dataPort);
      const stalled = await settle(f.accepted);
      // Stalled well short of the whole stream: the kernel's buffers plus the node's hold, not 48 MiB.
      expect(stalled).toBeLessThan(TOTAL / 2);
      // The app's stream holds at most its highWaterMark plus one delivery: the rest waits in
      // the stack with the window closed instead of piling up in the app.
      const readByApp = Number(await ask(controlPort, 'status'));
      expect(readByApp).toBeLessThan(1 << 20);
      expect(await ask(controlPort, 'resume')).toBe('ok');
      await f.done;
      const got = await n.waitLog(/received (\d+) ([0-9a-f]+)/, 60_000);
      expect(Number(got[1])).toBe(TOTAL);
      expect(got[2]).toBe(f.sha);
      expect(n.failures).toEqual([]);
      f.socket.destroy();
    }, 90_000);
  }
});

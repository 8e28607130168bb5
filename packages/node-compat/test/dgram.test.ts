import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostedNode, type HostedNode } from './hosted-node.js';

let node: HostedNode | undefined;
let dir: string | undefined;
afterEach(() => {
  node?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('node:dgram over the NetworkManager', () => {
  it('an unmodified UDP echo server answers a Node client, datagram by datagram', async () => {
    dir = mkdtempSync(join(tmpdir(), 'node-compat-udp-'));
    node = hostedNode(dir);
    await node.run({ entry: join(import.meta.dirname, 'fixtures/udp-echo.js') });
    const port = Number((await node.waitLog(/udp listening on (\d+)/))[1]);
    const client = createSocket('udp4');
    try {
      const replies: string[] = [];
      const got = new Promise<void>((resolve) =>
        client.on('message', (m) => {
          replies.push(m.toString());
          if (replies.length === 3) resolve();
        }),
      );
      for (const word of ['one', 'two', 'three']) client.send(word, port, '127.0.0.1');
      await Promise.race([got, new Promise((_, reject) => setTimeout(() => reject(new Error(`replies so far: ${replies}`)), 5000))]);
      expect(replies.sort()).toEqual(['ONE', 'THREE', 'TWO']);
      expect(node.failures).toEqual([]);
    } finally {
      client.close();
    }
  });
});

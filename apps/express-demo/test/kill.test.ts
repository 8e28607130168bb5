/**
 * Pulling a node's plug mid-request: the client of that node gets a reset (not a hang), and the
 * front-end and the other node go on serving.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startDemo } from './run-demo.js';

function get(port: number, path: string, timeoutMs = 15_000): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: e.code ?? e.message }));
      res.on('aborted', () => resolve({ status: res.statusCode, error: 'aborted' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.setTimeout(timeoutMs, () => {
      resolve({ error: 'timeout (hung)' });
      req.destroy();
    });
    req.end();
  });
}

describe('a node killed mid-request', () => {
  it('its client gets a reset; the front-end and the other node go on', async () => {
    const demo = await startDemo(['server/app.js', '3000'], {}, 2);
    try {
      const [one, two] = demo.forwardPorts as [number, number];
      expect((await get(one, '/api/hello')).status).toBe(200);
      expect((await get(two, '/api/hello')).status).toBe(200);
      // A request node 1 holds for a second; the plug is pulled while it waits.
      const pending = get(one, '/api/later?ms=1000');
      await new Promise((r) => setTimeout(r, 200));
      demo.kill(1);
      const cut = await pending;
      expect(cut.status).toBeUndefined();
      expect(['ECONNRESET', 'socket hang up']).toContain(cut.error);
      // New connections to the dead node are refused or reset at once, never left hanging.
      const after = await get(one, '/api/hello', 10_000);
      expect(after.status).toBeUndefined();
      expect(after.error).not.toBe('timeout (hung)');
      // Node 2 never noticed.
      for (let i = 0; i < 5; i++) expect(JSON.parse((await get(two, '/api/sum?n=10')).body!)).toEqual({ n: 10, sum: 55 });
    } finally {
      await demo.stop();
    }
  }, 60_000);
});

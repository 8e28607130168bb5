/**
 * The dashboard server's control endpoint and trace stream over real loopback HTTP: a valid
 * request reaches the hook, a bad one is refused with a status and a message naming the problem
 * (and never reaches the hook), and each page gets every trace event once, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlRequest } from '../control.js';
import { TraceRing } from '../trace-ring.js';
import { startLiveViewServer, type LiveViewServer } from './server.js';

const empty = () => ({ timeNs: 0, clock: 'virtual' as const, nodes: [], edges: [] });
let server: LiveViewServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(server!.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('live view server: POST /control', () => {
  it('hands valid requests to the hook; refuses bad ones with a status and a message, the hook untouched', async () => {
    const seen: ControlRequest[] = [];
    let paused = false;
    server = await startLiveViewServer({
      port: 0,
      snapshot: empty,
      control: (r) => {
        if (r.action === 'step' && !paused) throw new Error('step needs a paused simulation');
        seen.push(r);
        paused = r.action !== 'resume';
        return { paused, slices: seen.length };
      },
    });
    expect(await post('control', '{"action":"step","steps":2}')).toEqual({ status: 409, body: { error: 'step needs a paused simulation' } });
    expect(await post('control', '{"action":"pause"}')).toEqual({ status: 200, body: { ok: true, paused: true, slices: 1 } });
    expect(await post('control', '{"action":"step","steps":7}')).toEqual({ status: 200, body: { ok: true, paused: true, slices: 2 } });
    expect((await post('control', '{"action":"step","steps":-1}')).body.error).toMatch(/"steps" must be an integer in 1\.\.1000000, got -1/);
    expect((await post('control', 'pause')).status).toBe(400);
    expect((await post('control', '{"action":"pause"}', { origin: 'http://evil.example' })).body).toEqual({ error: 'control: refused a request from origin http://evil.example' });
    expect((await post('control', `{"action":"pause","pad":"${'x'.repeat(5000)}"}`)).status).toBe(413);
    const get = await fetch(server.url + 'control');
    expect(get.status).toBe(405);
    expect(seen).toEqual([{ action: 'pause' }, { action: 'step', steps: 7 }]);
  });

  it('without a control hook, /control is 404 with a reason', async () => {
    server = await startLiveViewServer({ port: 0, snapshot: empty });
    expect(await post('control', '{"action":"pause"}')).toEqual({ status: 404, body: { error: 'control: this live view has no control endpoint' } });
  });
});

describe('live view server: the trace stream', () => {
  it('sends each page every event once, in order, as compact rows', async () => {
    const ring = new TraceRing(64);
    server = await startLiveViewServer({ port: 0, snapshot: empty, intervalMs: 20, trace: (after, max) => ring.since(after, max, (pid) => pid - 1) });
    const res = await fetch(server.url + 'events');
    const reader = res.body!.getReader();
    const got: number[] = [];
    let text = '';
    let pushed = 0;
    const deadline = Date.now() + 10_000;
    while (got.length < 30 && Date.now() < deadline) {
      for (let k = 0; k < 3 && pushed < 30; k++) ring.push('X', 3, 1, `ev${++pushed}`, pushed, 1);
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      let i;
      while ((i = text.indexOf('\n\n')) >= 0) {
        const m = JSON.parse(text.slice(6, i)) as { trace: { entries: [number, number, number, string, string][]; skipped: number } };
        text = text.slice(i + 2);
        expect(m.trace.skipped).toBe(0);
        for (const e of m.trace.entries) {
          expect(e.slice(1, 5)).toEqual([2, 1, 'X', `ev${e[0]}`]);
          got.push(e[0]);
        }
      }
    }
    await reader.cancel();
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

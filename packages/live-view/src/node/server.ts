/**
 * The dashboard server (Node only): an HTTP server on loopback that serves one page and streams
 * the live view over Server-Sent Events. Each tick renders the snapshot on the server with the
 * same renderer the playground uses and sends `{ html, snapshot, trace }`; the page only swaps
 * HTML and appends trace rows. `POST /control` pauses, steps or resumes the run when the caller
 * gave a `control` hook. Nothing runs when no server was started: the CLI starts one only for `--ui`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { renderLiveView } from '../render.js';
import type { LiveSnapshot } from '../snapshot.js';
import type { TraceBatch } from '../trace-ring.js';
import { parseControlRequest, type ControlRequest } from '../control.js';
import { dashboardPage } from './page.js';

export interface LiveViewServerOptions {
  /** TCP port on 127.0.0.1; 0 = any free port. */
  port: number;
  /** Reads the world now (called once per tick while a page is connected). */
  snapshot: () => LiveSnapshot;
  /** Milliseconds between updates. Default 250. */
  intervalMs?: number;
  /** Page title. */
  title?: string;
  /** The trace events after seq `after` (at most `max`): a TraceRing's `since`. Absent: no trace panel. */
  trace?: (after: number, max: number) => TraceBatch;
  /** Trace events sent to a page per tick at most (the newest). Default 1000. */
  traceBatch?: number;
  /**
   * Carries out a validated control request; throwing refuses it (409, with the error's message,
   * e.g. pause under a realtime clock). Returns what the page shows. Absent: `/control` is 404.
   */
  control?: (request: ControlRequest) => { paused: boolean; slices: number };
}

export interface LiveViewServer {
  readonly url: string;
  /** Sends every open page a tick now (something changed that should not wait for the next one). */
  push(): void;
  /** Stops streaming and closes the server and every open page's stream. */
  close(): Promise<void>;
}

/** A control body is a few dozen bytes: anything much larger is refused unread. */
const MAX_BODY = 4096;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and dropped (not kept), so the refusal still gets through.
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startLiveViewServer(options: LiveViewServerOptions): Promise<LiveViewServer> {
  const { port, snapshot, trace, control } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`live view port must be an integer in 0..65535, got ${String(port)}`));
  const intervalMs = options.intervalMs ?? 250;
  const traceBatch = options.traceBatch ?? 1000;
  const title = options.title ?? 'EbbRT-TS live view';
  /** Each open page's stream and the last trace seq it was sent. */
  const streams = new Map<ServerResponse, number>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let origin = '';
  const send = (): void => {
    if (streams.size === 0) return;
    let view: string;
    try {
      const s = snapshot();
      view = `"html":${JSON.stringify(renderLiveView(s))},"snapshot":${JSON.stringify(s)}`;
    } catch (e) {
      view = `"html":${JSON.stringify(`<pre>live view: ${String(e instanceof Error ? e.message : e).replace(/</g, '&lt;')}</pre>`)},"snapshot":null`;
    }
    for (const [res, after] of streams) {
      let tail = '';
      if (trace !== undefined) {
        const b = trace(after, traceBatch);
        streams.set(res, b.last);
        // Compact rows: [seq, node, core, ph, name, tsNs, durNs].
        tail = `,"trace":{"skipped":${b.skipped},"entries":${JSON.stringify(b.entries.map((e) => [e.seq, e.node ?? null, e.core, e.ph, e.name, e.tsNs, e.durNs]))}}`;
      }
      res.write(`data: {${view}${tail}}\n\n`);
    }
  };
  const onControl = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (control === undefined) return json(res, 404, { error: 'control: this live view has no control endpoint' });
    if (req.method !== 'POST') return json(res, 405, { error: `control: use POST, not ${String(req.method)}` });
    // A page served from anywhere else must not drive the run (a browser sends Origin on a cross-site POST).
    if (req.headers.origin !== undefined && req.headers.origin !== origin) return json(res, 403, { error: `control: refused a request from origin ${req.headers.origin}` });
    const body = await readBody(req);
    if (body === undefined) return json(res, 413, { error: `control: the body is over ${MAX_BODY} bytes` });
    let request: ControlRequest;
    try {
      request = parseControlRequest(body);
    } catch (e) {
      return json(res, 400, { error: (e as Error).message });
    }
    try {
      const r = control(request);
      json(res, 200, { ok: true, ...r });
      send();
    } catch (e) {
      json(res, 409, { error: (e as Error).message });
    }
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      // A page joining late gets the newest events the ring still holds, not all of history.
      streams.set(res, 0);
      req.on('close', () => streams.delete(res));
      send();
      return;
    }
    if (path === '/control') {
      onControl(req, res).catch((e: unknown) => json(res, 500, { error: `control: ${String(e)}` }));
      return;
    }
    if (path === '/snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot()));
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(dashboardPage(title, trace !== undefined));
      return;
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`live view: cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      const bound = typeof a === 'object' && a !== null ? a.port : port;
      origin = `http://127.0.0.1:${bound}`;
      timer = setInterval(send, intervalMs);
      timer.unref();
      resolve({
        url: `${origin}/`,
        push: send,
        close: () =>
          new Promise<void>((done) => {
            if (timer !== undefined) clearInterval(timer);
            send();
            for (const res of streams.keys()) res.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

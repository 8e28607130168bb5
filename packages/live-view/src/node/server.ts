/**
 * The dashboard server (Node only): an HTTP server on loopback that serves one page and streams
 * the live view over Server-Sent Events. Each tick renders the snapshot on the server with the
 * same renderer the playground uses and sends `{ html, snapshot }`; the page only swaps HTML.
 * Nothing runs when no server was started: the CLI starts one only for `--ui`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { LIVE_VIEW_CSS, renderLiveView } from '../render.js';
import type { LiveSnapshot } from '../snapshot.js';

export interface LiveViewServerOptions {
  /** TCP port on 127.0.0.1; 0 = any free port. */
  port: number;
  /** Reads the world now (called once per tick while a page is connected). */
  snapshot: () => LiveSnapshot;
  /** Milliseconds between updates. Default 250. */
  intervalMs?: number;
  /** Page title. */
  title?: string;
}

export interface LiveViewServer {
  readonly url: string;
  /** Stops streaming and closes the server and every open page's stream. */
  close(): Promise<void>;
}

function page(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}</title>
<style>body{font:14px system-ui,sans-serif;margin:16px;background:#f6f8fa}h1{font-size:18px;margin:0 0 8px}#status{color:#57606a;font-size:12px}${LIVE_VIEW_CSS}</style></head>
<body><h1>${title.replace(/</g, '&lt;')}</h1><div id="status">connecting…</div><div id="view"></div>
<script>
const view = document.getElementById('view'), status = document.getElementById('status');
const es = new EventSource('./events');
es.onopen = () => { status.textContent = 'live'; };
es.onerror = () => { status.textContent = 'disconnected (the run ended?)'; };
es.onmessage = (e) => { const m = JSON.parse(e.data); view.innerHTML = m.html; window.ebbrtSnapshot = m.snapshot; };
</script></body></html>`;
}

export function startLiveViewServer(options: LiveViewServerOptions): Promise<LiveViewServer> {
  const { port, snapshot } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`live view port must be an integer in 0..65535, got ${String(port)}`));
  const intervalMs = options.intervalMs ?? 250;
  const title = options.title ?? 'EbbRT-TS live view';
  const streams = new Set<ServerResponse>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const send = (): void => {
    if (streams.size === 0) return;
    let data: string;
    try {
      const s = snapshot();
      data = JSON.stringify({ html: renderLiveView(s), snapshot: s });
    } catch (e) {
      data = JSON.stringify({ html: `<pre>live view: ${String(e instanceof Error ? e.message : e).replace(/</g, '&lt;')}</pre>`, snapshot: null });
    }
    for (const res of streams) res.write(`data: ${data}\n\n`);
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      streams.add(res);
      req.on('close', () => streams.delete(res));
      send();
      return;
    }
    if (path === '/snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot()));
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(title));
      return;
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`live view: cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      const bound = typeof a === 'object' && a !== null ? a.port : port;
      timer = setInterval(send, intervalMs);
      timer.unref();
      resolve({
        url: `http://127.0.0.1:${bound}/`,
        close: () =>
          new Promise<void>((done) => {
            if (timer !== undefined) clearInterval(timer);
            send();
            for (const res of streams) res.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

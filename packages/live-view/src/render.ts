/** The live view as HTML (pure string building: runs in a page, or on a server that streams it). */
import type { LiveSnapshot, NodeSnapshot } from './snapshot.js';
import { renderTcpPanel } from './panels/tcp.js';
import { renderCoresPanel } from './panels/cores.js';
import { renderNetworkPanel } from './panels/network.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;


/** A node graph of Messenger traffic: nodes on a circle, an arrow per direction with traffic. */
export function renderGraph(s: LiveSnapshot, size = 260): string {
  const r = size / 2 - 30;
  const pos = new Map<number, { x: number; y: number }>();
  s.nodes.forEach((n, i) => {
    const a = (2 * Math.PI * i) / s.nodes.length - Math.PI / 2;
    pos.set(n.id, { x: size / 2 + r * Math.cos(a), y: size / 2 + r * Math.sin(a) });
  });
  const lines = s.edges
    .map((e) => {
      const a = pos.get(e.from);
      const b = pos.get(e.to);
      if (a === undefined || b === undefined) return '';
      const w = Math.min(6, 1 + Math.log2(1 + e.messages) / 2);
      return `<line x1="${a.x.toFixed(1)}" y1="${a.y.toFixed(1)}" x2="${b.x.toFixed(1)}" y2="${b.y.toFixed(1)}" stroke-width="${w.toFixed(1)}" marker-end="url(#arrow)"><title>${e.from} → ${e.to}: ${e.messages} messages, ${e.bytes} bytes</title></line>`;
    })
    .join('');
  const circles = s.nodes
    .map((n) => {
      const p = pos.get(n.id)!;
      return `<g class="gnode ${n.state}"><circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="18"/><text x="${p.x.toFixed(1)}" y="${(p.y + 4).toFixed(1)}">${n.id}</text></g>`;
    })
    .join('');
  return `<svg class="graph" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="28" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z"/></marker></defs>${lines}${circles}</svg>`;
}

function renderNode(n: NodeSnapshot): string {
  const rows: string[] = [];
  if (n.events !== undefined || n.messagesSent !== undefined) {
    rows.push(`<div><b>events</b> <span class="events">${n.events ?? '?'}</span>${n.messagesSent !== undefined ? ` · <b>msgs</b> ${n.messagesSent} sent / ${n.messagesReceived ?? 0} received` : ''}</div>`);
  }
  if (n.memory !== undefined) rows.push(`<div><b>memory</b> ${mib(n.memory.totalBytes - n.memory.freePageBytes)} used of ${mib(n.memory.totalBytes)}</div>`);
  if (n.link !== undefined) rows.push(`<div><b>link</b> ${n.link.sent} sent, ${n.link.delivered} delivered, ${n.link.lost} lost</div>`);
  const network = renderNetworkPanel(n);
  if (network !== '') rows.push(network);
  if (n.connections !== undefined) rows.push(`<div><b>tcp</b> ${n.connections.map((c) => `${c.outgoing ? '→' : '←'}${c.peer ?? '?'} ${esc(c.state)}`).join(', ') || 'none'}</div>`);
  if (n.tcp !== undefined) rows.push(renderTcpPanel(n));
  if (n.cause !== undefined) rows.push(`<div class="cause"><b>died</b> ${esc(n.cause)}</div>`);
  if (n.ebbs !== undefined) rows.push(`<details><summary>Ebbs</summary>${Object.entries(n.ebbs).map(([k, v]) => `<div>${esc(k)}: <code>${esc(v)}</code></div>`).join('')}</details>`);
  return `<div class="node ${n.state}${n.role === 'frontend' ? ' frontend' : ''}" data-node="${n.id}" data-state="${n.state}"${n.role !== undefined ? ` data-role="${n.role}"` : ''}>
  <h3>${esc(n.name)} <span class="state">${n.state}</span></h3>
  ${renderCoresPanel(n)}
  ${rows.join('\n  ')}
</div>`;
}

/** The whole view as HTML (no scripts; the caller puts it in a container). */
export function renderLiveView(s: LiveSnapshot): string {
  const cards = s.nodes.map(renderNode).join('\n');
  const counters = Object.entries(s.counters ?? {})
    .map(([k, v]) => ` · <b>${esc(k)}</b> <span class="counter" data-counter="${esc(k)}">${v}</span>`)
    .join('');
  return `<div class="live-view"><div class="time">t = ${(s.timeNs / 1e6).toFixed(3)} ms (${s.clock})${counters}</div><div class="row"><div class="nodes">${cards}</div>${renderGraph(s)}</div></div>`;
}

export const LIVE_VIEW_CSS = `
.live-view{font:13px system-ui,sans-serif;color:#1b1f24}
.live-view .row{display:flex;gap:16px;align-items:flex-start}
.live-view .nodes{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px;flex:1}
.live-view .node{border:1px solid #c9d1d9;border-radius:8px;padding:8px 10px;background:#fff}
.live-view .node.dormant{background:#f6f8fa;border-style:dashed}
.live-view .node.dead{background:#fde8e8;border-color:#e5534b}
.live-view .node h3{margin:0 0 6px;font-size:14px}
.live-view .state{font-size:11px;padding:1px 6px;border-radius:8px;background:#dafbe1;color:#116329}
.live-view .dead .state{background:#e5534b;color:#fff}
.live-view .core{display:inline-block;margin:0 4px 4px 0;padding:1px 6px;border-radius:4px;background:#eef1f4;font-size:11px}
.live-view .core.running{background:#ffe8a3}
.live-view table.cores{border-collapse:collapse;margin:0 0 6px;font-size:11px;width:100%}
.live-view table.cores th{text-align:left;color:#57606a;font-weight:600;padding:1px 4px}
.live-view table.cores td{padding:1px 4px;font-variant-numeric:tabular-nums;background:none}
.live-view table.cores tr.core{display:table-row;background:none}
.live-view table.cores tr.running td:nth-child(2){background:#ffe8a3}
.live-view table.cores tr.late td.oldest{background:#e5534b;color:#fff;font-weight:bold}
.live-view .node.frontend{border-color:#8250df}
.live-view .kv{display:inline-block;margin-right:6px;font-size:11px;color:#57606a}
.live-view .nic .label,.live-view .stack .label,.live-view .drops .label{font-size:11px;margin-right:4px}
.live-view .drops .kv{color:#cf222e}
.live-view .graph line{stroke:#0969da;opacity:.7}
.live-view .graph marker path{fill:#0969da}
.live-view .graph circle{fill:#ddf4ff;stroke:#0969da;stroke-width:2}
.live-view .graph .dead circle{fill:#fde8e8;stroke:#e5534b}
.live-view .graph text{text-anchor:middle;font-weight:bold;font-size:12px}
.live-view .time{margin-bottom:6px;color:#57606a}
`;

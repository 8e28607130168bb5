/**
 * The live view: a plain-data snapshot of a running world (nodes, cores, memory, NIC and link
 * counters, Messenger connections and traffic as a graph) and an HTML renderer for it. Both are
 * pure and browser-safe; the page re-renders each snapshot it is given.
 */
import type { World } from './world.js';

export interface CoreSnapshot {
  index: number;
  state: string;
}

export interface NodeSnapshot {
  id: number;
  name: string;
  state: 'allocated' | 'dormant' | 'dead';
  ebbs: Record<string, string>;
  cores: CoreSnapshot[];
  events: number;
  memory: { totalBytes: number; freePageBytes: number };
  nic: Record<string, number>;
  link: { sent: number; delivered: number; lost: number };
  connections: { peer: number | undefined; outgoing: boolean; state: string; core: number }[];
  messagesSent: number;
  messagesReceived: number;
}

export interface EdgeSnapshot {
  from: number;
  to: number;
  messages: number;
  bytes: number;
}

export interface LiveSnapshot {
  timeNs: number;
  nodes: NodeSnapshot[];
  edges: EdgeSnapshot[];
}

export function takeSnapshot(world: World): LiveSnapshot {
  const nodes: NodeSnapshot[] = [];
  const edges: EdgeSnapshot[] = [];
  for (const n of world.nodes) {
    const m = n.messenger.stats();
    const mem = n.allocator.stats();
    const up = n.link.counters('aToB');
    nodes.push({
      id: n.node.id,
      name: n.machine.name,
      state: 'allocated',
      ebbs: n.ebbs,
      cores: n.machine.cores.map((c) => ({ index: c.index, state: c.state })),
      events: n.em.totalEvents(),
      memory: { totalBytes: mem.totalBytes, freePageBytes: mem.freePageBytes },
      nic: { ...n.nm.driver.device.stats },
      link: { sent: up.sent, delivered: up.delivered, lost: up.lost },
      connections: n.messenger.connections(),
      messagesSent: m.messagesSent,
      messagesReceived: m.messagesReceived,
    });
    for (const [peer, p] of Object.entries(m.peers)) {
      if (p.messagesSent > 0) edges.push({ from: n.node.id, to: Number(peer), messages: p.messagesSent, bytes: p.bytesSent });
    }
  }
  return { timeNs: world.sim.now(), nodes, edges };
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

function nicCounters(nic: Record<string, number>): string {
  return Object.entries(nic)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `<span class="kv"><b>${esc(k)}</b> ${v}</span>`)
    .join(' ');
}

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

/** The whole view as HTML (no scripts; the caller puts it in a container). */
export function renderLiveView(s: LiveSnapshot): string {
  const cards = s.nodes
    .map(
      (n) => `<div class="node ${n.state}" data-node="${n.id}" data-state="${n.state}">
  <h3>${esc(n.name)} <span class="state">${n.state}</span></h3>
  <div class="cores">${n.cores.map((c) => `<span class="core ${esc(c.state)}" data-core="${c.index}">core ${c.index}: ${esc(c.state)}</span>`).join('')}</div>
  <div><b>events</b> <span class="events">${n.events}</span> · <b>msgs</b> ${n.messagesSent} sent / ${n.messagesReceived} received</div>
  <div><b>memory</b> ${mib(n.memory.totalBytes - n.memory.freePageBytes)} used of ${mib(n.memory.totalBytes)}</div>
  <div><b>link</b> ${n.link.sent} sent, ${n.link.delivered} delivered, ${n.link.lost} lost</div>
  <div class="nic">${nicCounters(n.nic)}</div>
  <div><b>tcp</b> ${n.connections.map((c) => `${c.outgoing ? '→' : '←'}${c.peer ?? '?'} ${esc(c.state)}`).join(', ') || 'none'}</div>
  <details><summary>Ebbs</summary>${Object.entries(n.ebbs).map(([k, v]) => `<div>${esc(k)}: <code>${esc(v)}</code></div>`).join('')}</details>
</div>`,
    )
    .join('\n');
  return `<div class="live-view"><div class="time">t = ${(s.timeNs / 1e6).toFixed(3)} ms (virtual)</div><div class="row"><div class="nodes">${cards}</div>${renderGraph(s)}</div></div>`;
}

export const LIVE_VIEW_CSS = `
.live-view{font:13px system-ui,sans-serif;color:#1b1f24}
.live-view .row{display:flex;gap:16px;align-items:flex-start}
.live-view .nodes{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px;flex:1}
.live-view .node{border:1px solid #c9d1d9;border-radius:8px;padding:8px 10px;background:#fff}
.live-view .node.dead{background:#fde8e8;border-color:#e5534b}
.live-view .node h3{margin:0 0 6px;font-size:14px}
.live-view .state{font-size:11px;padding:1px 6px;border-radius:8px;background:#dafbe1;color:#116329}
.live-view .dead .state{background:#e5534b;color:#fff}
.live-view .core{display:inline-block;margin:0 4px 4px 0;padding:1px 6px;border-radius:4px;background:#eef1f4;font-size:11px}
.live-view .core.running{background:#ffe8a3}
.live-view .kv{display:inline-block;margin-right:6px;font-size:11px;color:#57606a}
.live-view .graph line{stroke:#0969da;opacity:.7}
.live-view .graph marker path{fill:#0969da}
.live-view .graph circle{fill:#ddf4ff;stroke:#0969da;stroke-width:2}
.live-view .graph .dead circle{fill:#fde8e8;stroke:#e5534b}
.live-view .graph text{text-anchor:middle;font-weight:bold;font-size:12px}
.live-view .time{margin-bottom:6px;color:#57606a}
`;

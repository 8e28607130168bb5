/** The node card's TCP panel: one line per live connection of the node's stack. */
import type { NodeSnapshot } from '../snapshot.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderTcpPanel(n: NodeSnapshot): string {
  if (n.tcp === undefined) return '';
  const rows = n.tcp
    .map((c) => `<div class="conn" data-tcp="${esc(c.state)}"><code>${esc(c.local)} → ${esc(c.remote)}</code> ${esc(c.state)} <span class="kv">sendq ${c.sendQueued} recvq ${c.receiveQueued}</span></div>`)
    .join('');
  return `<div class="tcp"><b>tcp connections</b> ${n.tcp.length}${rows}</div>`;
}

/**
 * The node card's NIC and stack panel: the NIC's device counters, the stack's counters and the
 * drops by reason, each on its own line, non-zero entries only. `networkFields` maps a stack's
 * declared `NetworkStats` to the snapshot's fields, so every producer (the dashboard, the
 * playground) shows the same thing the same way.
 */
import type { NetworkStats } from '@ebbrt/interfaces';
import type { NodeSnapshot } from '../snapshot.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function networkFields(net: NetworkStats): Pick<NodeSnapshot, 'nic' | 'stack' | 'drops' | 'tcp'> {
  return {
    nic: { ...net.nic },
    stack: { ...net.stack },
    drops: { ...net.drops },
    tcp: net.connections.map((c) => ({ local: `${c.localAddress}:${c.localPort}`, remote: `${c.remoteAddress}:${c.remotePort}`, state: c.state, sendQueued: c.sendQueued, receiveQueued: c.receiveQueued })),
  };
}

function counters(cls: string, label: string, values: Record<string, number> | undefined): string {
  if (values === undefined) return '';
  const kv = Object.entries(values)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `<span class="kv" data-k="${esc(k)}"><b>${esc(k)}</b> ${v}</span>`)
    .join(' ');
  return kv === '' ? '' : `<div class="${cls}"><b class="label">${label}</b> ${kv}</div>`;
}

export function renderNetworkPanel(n: NodeSnapshot): string {
  const out = [counters('nic', 'nic', n.nic), counters('stack', 'stack', n.stack)];
  // Drops always get a line once a stack is known: "none" is information too.
  if (n.drops !== undefined) out.push(counters('drops', 'drops', n.drops) || '<div class="drops none"><b class="label">drops</b> none</div>');
  return out.filter((r) => r !== '').join('\n  ');
}

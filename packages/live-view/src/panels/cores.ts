/**
 * The node card's cores panel: per core its run state, events/s, queue depth, idle % and the age
 * of its oldest unfinished event (highlighted past the watchdog budget). Cores without counters
 * (a page that only knows run states) are shown as chips.
 */
import type { CoreSnapshot, NodeSnapshot } from '../snapshot.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number | undefined, digits = 0): string => (v === undefined ? '–' : v.toFixed(digits));

function row(c: CoreSnapshot): string {
  const late = c.oldest?.late === true;
  const oldest = c.oldest === undefined ? '–' : `${esc(c.oldest.name || '(anonymous)')} ${c.oldest.ageMs.toFixed(1)} ms`;
  const data = [
    `data-core="${c.index}"`,
    c.slices !== undefined ? `data-slices="${c.slices}"` : '',
    c.eventsPerSec !== undefined ? `data-events-per-sec="${c.eventsPerSec.toFixed(1)}"` : '',
    c.queued !== undefined ? `data-queued="${c.queued}"` : '',
    c.idlePct !== undefined ? `data-idle="${c.idlePct.toFixed(1)}"` : '',
    c.oldest !== undefined ? `data-oldest-ms="${c.oldest.ageMs.toFixed(3)}"` : '',
  ].filter((s) => s !== '').join(' ');
  return `<tr class="core ${esc(c.state)}${late ? ' late' : ''}" ${data}><td>${c.index}</td><td>${esc(c.state)}</td><td>${num(c.eventsPerSec)}</td><td>${num(c.queued)}</td><td>${num(c.idlePct, 1)}</td><td class="oldest">${oldest}</td></tr>`;
}

export function renderCoresPanel(n: NodeSnapshot): string {
  const counted = n.cores.some((c) => c.slices !== undefined || c.eventsPerSec !== undefined);
  if (!counted) {
    return `<div class="cores">${n.cores.map((c) => `<span class="core ${esc(c.state)}" data-core="${c.index}">core ${c.index}: ${esc(c.state)}</span>`).join('')}</div>`;
  }
  return `<table class="cores"><thead><tr><th>core</th><th>state</th><th>events/s</th><th>queue</th><th>idle %</th><th>oldest event</th></tr></thead><tbody>${n.cores.map(row).join('')}</tbody></table>`;
}

/**
 * The dashboard page: the server-rendered view (swapped whole every tick), and, outside it so the
 * swaps leave them alone, the pause / step / resume bar and the trace panel. The trace is kept
 * by the page (the newest TRACE_KEEP events by time) so it can be frozen and filtered by node and
 * core without asking the server; its rows are on one timeline (mergeTraceRows), remote nodes'
 * included. The simulation's pause is the server's (POST ./control).
 */
import { LIVE_VIEW_CSS } from '../render.js';
import { mergeTraceRows } from '../trace-order.js';

const TRACE_KEEP = 2000;
const TRACE_SHOW = 200;

const PAGE_CSS = `body{font:14px system-ui,sans-serif;margin:16px;background:#f6f8fa}h1{font-size:18px;margin:0 0 8px}#status{color:#57606a;font-size:12px}
#controls{margin:6px 0 10px;display:flex;gap:6px;align-items:center;font-size:13px}
#controls button{font:inherit;padding:2px 10px}#controls input{width:70px;font:inherit}
#control-status{color:#57606a}#control-status.error{color:#cf222e;font-weight:600}
#trace{margin-top:12px;border:1px solid #c9d1d9;border-radius:8px;background:#fff;padding:6px 10px}
#trace .bar{display:flex;gap:8px;align-items:center;font-size:12px;margin-bottom:4px}
#trace-rows{height:220px;overflow-y:auto;font:11px ui-monospace,monospace;white-space:pre}
#trace-rows .ev.i{color:#8250df}`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const view = $('view'), status = $('status'), rows = $('trace-rows');
const KEEP = ${TRACE_KEEP}, SHOW = ${TRACE_SHOW};
let trace = [], traceFrozen = false, skipped = 0, nodeSkipped = '';
${mergeTraceRows.toString()}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
function setOptions(sel, values, label) {
  const want = ['', ...values.map(String)];
  const have = [...sel.options].map((o) => o.value);
  if (want.join() === have.join()) return;
  const cur = sel.value;
  sel.innerHTML = want.map((v) => '<option value="' + esc(v) + '">' + (v === '' ? 'all ' + label : /^\\d+$/.test(v) ? label + ' ' + v : esc(v)) + '</option>').join('');
  sel.value = want.includes(cur) ? cur : '';
}
function renderTrace() {
  const node = $('trace-node').value, core = $('trace-core').value;
  const shown = [];
  for (let i = trace.length - 1; i >= 0 && shown.length < SHOW; i--) {
    const e = trace[i];
    if (node !== '' && String(e[1]) !== node) continue;
    if (core !== '' && String(e[2]) !== core) continue;
    shown.push(e);
  }
  shown.reverse();
  // A node by its id; a machine that is no node (the gateway) by its name.
  rows.innerHTML = shown.map((e) => '<div class="ev ' + e[3] + '" data-seq="' + e[0] + '" data-ts="' + e[5] + '" data-node="' + esc(e[1] ?? '') + '" data-core="' + e[2] + '" data-name="' + esc(e[4]) + '">' +
    (e[5] / 1e6).toFixed(6).padStart(14) + ' ms  ' + (typeof e[1] === 'string' ? esc(e[1]).padEnd(7) : 'node ' + String(e[1] ?? '?').padEnd(2)) + ' core ' + e[2] + '  ' + esc(e[4]) + (e[3] === 'X' ? '  (' + (e[6] / 1e3).toFixed(1) + ' µs)' : '') + '</div>').join('');
  rows.scrollTop = rows.scrollHeight;
  $('trace-count').innerHTML = trace.length + ' kept' + (skipped > 0 ? ', ' + skipped + ' not sent (ring overwrote them)' : '') + nodeSkipped;
}
function onSnapshot(s) {
  window.ebbrtSnapshot = s;
  if (s === null) return;
  setOptions($('trace-node'), [...s.nodes.map((n) => n.id), ...new Set(trace.filter((e) => typeof e[1] === 'string').map((e) => e[1]))], 'node');
  // Events a node in its own process dropped before the dashboard read them (its ring overwrote them).
  nodeSkipped = s.nodes.filter((n) => n.traceSkipped > 0).map((n) => '; <span class="node-skipped" data-node="' + n.id + '" data-skipped="' + n.traceSkipped + '">node ' + n.id + ' dropped ' + n.traceSkipped + ' at the node</span>').join('');
  setOptions($('trace-core'), [...new Set(s.nodes.flatMap((n) => n.cores.map((c) => c.index)))].sort((a, b) => a - b), 'core');
  const c = s.control;
  const bar = $('controls');
  bar.dataset.available = String(c?.available === true);
  bar.dataset.paused = String(c?.paused === true);
  for (const b of bar.querySelectorAll('button')) b.disabled = c?.available !== true;
  if (c?.available === true) {
    $('pause').disabled = c.paused; $('step').disabled = !c.paused; $('resume').disabled = !c.paused;
    $('sim-state').textContent = c.paused ? 'paused' : 'running';
  } else $('sim-state').textContent = c?.reason ?? 'no control';
}
async function control(body) {
  const out = $('control-status');
  try {
    const res = await fetch('./control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await res.json();
    out.className = res.ok ? '' : 'error';
    const what = body.action === 'step' ? 'step ' + body.steps + ' from' : body.action === 'pause' ? 'paused at' : 'resumed at';
    out.textContent = res.ok ? what + ' slice ' + r.slices : r.error;
  } catch (e) { out.className = 'error'; out.textContent = String(e); }
}
$('pause').onclick = () => control({ action: 'pause' });
$('resume').onclick = () => control({ action: 'resume' });
$('step').onclick = () => { const v = $('steps').value; control({ action: 'step', steps: /^\\d+$/.test(v) ? Number(v) : v }); };
$('trace-pause').onclick = () => { traceFrozen = !traceFrozen; $('trace-pause').textContent = traceFrozen ? 'Unfreeze trace' : 'Freeze trace'; $('trace').dataset.frozen = String(traceFrozen); if (!traceFrozen) renderTrace(); };
$('trace-node').onchange = $('trace-core').onchange = () => renderTrace();
const es = new EventSource('./events');
es.onopen = () => { status.textContent = 'live'; };
es.onerror = () => { status.textContent = 'disconnected (the run ended?)'; };
es.onmessage = (e) => {
  const m = JSON.parse(e.data);
  view.innerHTML = m.html;
  if (m.trace !== undefined) {
    // Kept while frozen too (only the rows on screen hold still), so unfreezing catches up.
    skipped += m.trace.skipped;
    trace = mergeTraceRows(trace, m.trace.entries, KEEP);
  }
  onSnapshot(m.snapshot);
  if (m.trace !== undefined && !traceFrozen) renderTrace();
};
`;

/** The whole page; `trace` false leaves the trace panel out (the server streams none). */
export function dashboardPage(title: string, trace: boolean): string {
  const t = title.replace(/</g, '&lt;');
  const tracePanel = trace
    ? `<div id="trace" data-frozen="false"><div class="bar"><b>trace</b><button id="trace-pause">Freeze trace</button><select id="trace-node"><option value="">all node</option></select><select id="trace-core"><option value="">all core</option></select><span id="trace-count"></span></div><div id="trace-rows"></div></div>`
    : '<div id="trace" hidden><button id="trace-pause"></button><select id="trace-node"></select><select id="trace-core"></select><span id="trace-count"></span><div id="trace-rows"></div></div>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${t}</title>
<style>${PAGE_CSS}${LIVE_VIEW_CSS}</style></head>
<body><h1>${t}</h1><div id="status">connecting…</div>
<div id="controls" data-available="false" data-paused="false"><b>simulation</b> <span id="sim-state">…</span>
<button id="pause" disabled>Pause</button><input id="steps" value="1" aria-label="slices per step"><button id="step" disabled>Step</button><button id="resume" disabled>Resume</button>
<span id="control-status"></span></div>
<div id="view"></div>${tracePanel}
<script>${SCRIPT}</script></body></html>`;
}

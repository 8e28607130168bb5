/**
 * The playground page: sliders for link loss and latency, a seed field, a Run button, the live
 * view while it runs and the trace digest at the end. `?seed=S&loss=L&latencyUs=U&auto=1` runs at
 * load (the browser test uses it) and leaves the result on `window.ebbrtResult`.
 */
import { runKvDemo, type KvDemoResult } from './kv-demo.js';
import { LIVE_VIEW_CSS, renderLiveView } from '@ebbrt/live-view';

declare global {
  interface Window {
    ebbrtResult?: KvDemoResult | { error: string };
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`playground page has no #${id}`);
  return el as T;
};

const style = document.createElement('style');
style.textContent = LIVE_VIEW_CSS;
document.head.appendChild(style);

const seed = $<HTMLInputElement>('seed');
const loss = $<HTMLInputElement>('loss');
const latency = $<HTMLInputElement>('latency');
const nodes = $<HTMLInputElement>('nodes');
const run = $<HTMLButtonElement>('run');
const view = $<HTMLDivElement>('view');
const result = $<HTMLDivElement>('result');
const show = (): void => {
  $('loss-value').textContent = `${(Number(loss.value) * 100).toFixed(1)} %`;
  $('latency-value').textContent = `${latency.value} µs`;
  $('nodes-value').textContent = nodes.value;
};
for (const el of [loss, latency, nodes]) el.addEventListener('input', show);

const q = new URLSearchParams(location.search);
if (q.has('seed')) seed.value = q.get('seed')!;
if (q.has('loss')) loss.value = q.get('loss')!;
if (q.has('latencyUs')) latency.value = q.get('latencyUs')!;
if (q.has('nodes')) nodes.value = q.get('nodes')!;
show();

async function start(): Promise<void> {
  run.disabled = true;
  result.textContent = 'running…';
  delete window.ebbrtResult;
  try {
    const s = Number(seed.value);
    const r = await runKvDemo({
      seed: s,
      loss: Number(loss.value),
      latencyNs: Number(latency.value) * 1000,
      nodes: Number(nodes.value),
      onSnapshot: (snap) => (view.innerHTML = renderLiveView(snap)),
    });
    view.innerHTML = renderLiveView(r.snapshot);
    result.innerHTML = `seed ${s}: ${r.completed}/${r.expected} operations, ${r.mismatches} wrong, ${(r.finalTimeNs / 1e6).toFixed(3)} ms virtual, ${r.traceEvents} trace events<br>trace digest <code id="digest">${r.digest}</code>`;
    window.ebbrtResult = r;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    result.textContent = `error: ${message}`;
    window.ebbrtResult = { error: message };
  } finally {
    run.disabled = false;
  }
}
run.addEventListener('click', () => void start());
if (q.get('auto') === '1') void start();

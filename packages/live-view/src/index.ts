/**
 * @ebbrt/live-view: the live view of a running library OS, shared by the browser playground and
 * the `ebbrt run --ui` dashboard. This entry is browser-safe; the SSE server is `./node`.
 */
export type { ControlState, CoreSnapshot, EdgeSnapshot, LiveSnapshot, NodeSnapshot, NodeState } from './snapshot.js';
export { renderLiveView, renderGraph, LIVE_VIEW_CSS } from './render.js';
export { networkFields } from './panels/network.js';
export { TraceRing, type TraceBatch, type TraceEntry } from './trace-ring.js';
export { parseControlRequest, ControlRequestError, MAX_STEPS, type ControlRequest } from './control.js';
export { mergeTraceRows, type TraceRow } from './trace-order.js';

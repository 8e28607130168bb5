/** `@ebbrt/live-view/node`: the SSE dashboard server (Node only). */
export { startLiveViewServer, type LiveViewServer, type LiveViewServerOptions } from './server.js';

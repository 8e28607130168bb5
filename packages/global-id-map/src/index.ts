// @ebbrt/global-id-map: the default GlobalIdMap Ebb (README.md).
export { manifest } from './manifest.js';
export { globalIdMapOptionsSchema, type GlobalIdMapOptions, type GlobalIdMapOptionsInput } from './options.js';
export { GlobalIdMapRoot, type GlobalIdMapStats } from './root.js';
export { GlobalIdMapRep } from './rep.js';
export { GlobalIdMapError } from './errors.js';
export { serveGlobalIdMap, serveRequest, type GlobalIdMapServer, type ServerStats } from './server.js';
export { GlobalEbb, createGlobalEbb, fromGlobalIdMap, type GlobalEbbBuilder } from './global-ebb.js';
export { GET, SET, REPLY, encodeRequest } from './protocol.js';

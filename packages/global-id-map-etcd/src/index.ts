export { manifest } from './manifest.js';
export { EtcdGlobalIdMapRoot, EtcdGlobalIdMapRep, type EtcdGlobalIdMap } from './root.js';
export { EtcdClient, type EtcdClientOptions } from './etcd-client.js';
export { EtcdUnavailableError, EtcdResponseError } from './errors.js';
export { keyFor, idOfKey, encodeData, decodeData } from './codec.js';
export {
  etcdGlobalIdMapOptionsSchema,
  ETCD_DEFAULT_MAX_REQUEST_BYTES,
  type EtcdGlobalIdMapOptions,
  type EtcdGlobalIdMapOptionsInput,
} from './options.js';

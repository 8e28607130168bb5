/**
 * IOBuf: EbbRT's zero-copy buffer descriptors.
 *
 * - {@link IOBufStorage}: a reference-counted byte region with a release hook.
 * - {@link IOBuf}: one element viewing part of a storage, linked into a
 *   circular chain.
 * - {@link IOBufCursor} / {@link IOBufWriter}: sequential readers and writers
 *   that cross element boundaries.
 */
export { IOBufStorage, type IOBufStorageOptions, type IOBufReleaseHook } from './storage.js';
export { IOBuf, type IOBufAllocateOptions } from './iobuf.js';
export { IOBufChainPosition } from './position.js';
export { IOBufCursor } from './cursor.js';
export { IOBufWriter } from './writer.js';

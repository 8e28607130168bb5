// @ebbrt/file-system: EbbRT's FileSystem Ebb (README.md).
export { manifest } from './manifest.js';
export { fileSystemOptionsSchema, type FileSystemOptions, type FileSystemOptionsInput } from './options.js';
export { FileSystemRoot, type FileSystemStats } from './root.js';
export { FileSystemRep } from './rep.js';
export { LocalFiles } from './local-files.js';
export { MemoryIo } from './memory-io.js';
export { asyncIo, syncIo, type FileIo, type FileIoHandle, type FileIoStats } from './file-io.js';
export { REQUEST, REPLY, OPS, encodeRequest } from './protocol.js';

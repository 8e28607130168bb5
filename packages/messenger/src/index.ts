export { manifest } from './manifest.js';
export { messengerOptionsSchema, type MessengerOptions, type MessengerOptionsInput } from './options.js';
export { MessengerRoot } from './root.js';
export { MessengerRep } from './rep.js';
export { parsePeerAddress, type PeerAddress } from './directory.js';
export { emptyPeerStats, type MessengerStats, type PeerStats } from './stats.js';
export {
  FrameDecoder,
  encodeFrame,
  encodeHello,
  HEADER_BYTES,
  HELLO_MAGIC,
  PROTOCOL_VERSION,
  type DecodeError,
  type DecodeErrorKind,
  type FrameSink,
} from './frame.js';
export { Messagable, MessagableType, type MessagableRepFactory } from './messagable.js';
export {
  CodecError,
  bytesCodec,
  jsonCodec,
  rawCodec,
  stringCodec,
  structCodec,
  type Codec,
  type FieldType,
  type StructOf,
} from './codec.js';

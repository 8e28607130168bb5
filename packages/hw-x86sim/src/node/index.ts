/**
 * `@ebbrt/hw-x86sim/node`: the parts that need Node (UDP sockets, files). The main entry stays
 * browser-safe; a front end running under Node imports these beside it.
 */
export { UdpTapBridge, type UdpTapBridgeOptions, type UdpTapBridgeStats } from './tap-bridge.js';
export { packFrames, unpackFrames, MAX_PACKED_DATAGRAM, PACKED_ERRORS, type PackedError } from './packed-frames.js';
export { PcapFileWriter, pcapFileSink, type PcapFileWriterOptions } from './pcap-file.js';
export { writeTraceFile } from './trace-file.js';

// The wire layer: zero-allocation views, reprs and emitters for every protocol the stack speaks.
export * from './result.js';
export * from './packet-view.js';
export * from './checksum.js';
export * from './ipv4-address.js';
export * from './mac-address.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv4-reassembly.js';
export * from './icmpv4.js';
export * from './udp.js';
export * from './tcp-options.js';
export * from './tcp.js';
export * from './dhcp.js';

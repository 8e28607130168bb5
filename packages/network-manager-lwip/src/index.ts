// @ebbrt/network-manager-lwip. Only the wire layer exists so far; see README.md.
export * from './wire/index.js';

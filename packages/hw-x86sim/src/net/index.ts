/** Networking hardware: virtio-net, a ring-less direct port, L2 switch, links, pcap capture (the UDP TAP bridge and pcap files are in `@ebbrt/hw-x86sim/node`). */
export {
  type FramePort,
  type NetworkEndpoint,
  ETH_HEADER_BYTES,
  parseMac,
  formatMac,
  isGroupDestination,
  buildEthernetFrame,
} from './frame.js';
export { VirtioNetDevice, type VirtioNetOptions } from './virtio-net.js';
export { DirectNetPort, type DirectNetPortOptions, type DirectNetPortStats } from './direct-port.js';
export {
  type VirtioNetStats,
  VIRTIO_NET_F,
  VIRTIO_STATUS,
  VIRTIO_NET_S_LINK_UP,
  VIRTIO_NET_HDR_BYTES,
  VIRTIO_NET_MAX_FRAME,
  featureBit,
} from './virtio-net-spec.js';
export {
  type VirtqueueConfig,
  type VirtqueueState,
  VIRTQ_DESC_F,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY,
  VIRTQ_MAX_SIZE,
  virtqueueLayout,
} from './virtqueue.js';
export { rssHash, rssHashOf } from './rss.js';
export { validateVirtioNetFaults, type VirtioNetFaults, type VirtioNetFaultStats } from './virtio-faults.js';
export { L2Switch, SwitchPort, type SwitchStats } from './switch.js';
export {
  Link,
  NetworkFabric,
  type LinkProps,
  type LinkCounters,
  type LinkDirection,
  type ConnectOptions,
  DEFAULT_LINK_PROPS,
} from './link.js';
export {
  PcapWriter,
  type PcapWriterOptions,
  type PcapSink,
  type FrameCapture,
  PCAP_MAGIC_USEC,
  PCAP_MAGIC_NSEC,
  PCAP_LINKTYPE_ETHERNET,
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
} from './pcap.js';

// @ebbrt/network-manager-lwip: the wire layer, the virtio-net and direct-port drivers, the interface layer and TCP (README.md).
export * from './wire/index.js';
// Driver and interface layer (native NetworkManager).
export { manifest } from './manifest.js';
export { lwipOptionsSchema, type LwipOptions } from './options.js';
export { LwipNetworkManagerRoot } from './root.js';
export { LwipNetworkManager, type PingOptions } from './rep.js';
export { VirtioNetDriver, CoreNetDriver, type DriverConfig } from './driver/virtio-net-driver.js';
export { DirectPortDriver, type DirectPortDriverStats } from './driver/direct-port-driver.js';
export { nicDriverFor, type NicDriver, type NicTransmitter } from './driver/nic-driver.js';
export { QueuePair, type QueuePairStats, type QueuePairConfig } from './driver/queue-pair.js';
export { NetInterface, type IfaceConfig, type IfaceEnv, type NetLink } from './iface/net-interface.js';
export { UdpSocketImpl } from './iface/udp.js';
export { newCounters, totalDrops, DROP_COUNTERS, type NetCounters } from './iface/counters.js';
export { networkStatsOf, TCP_DROP_COUNTERS, NIC_DROP_COUNTERS } from './stats.js';
export { TcpStack } from './tcp/stack.js';
export { TcpPcb, SendWindowError } from './tcp/pcb.js';
export { TcpListenerImpl } from './tcp/listener.js';
export { sliceChain } from './tcp/chain.js';
export { TcpState, type TcpConfig, type TcpStats, type TcpEnv } from './tcp/types.js';
export { ReassemblyQueue } from './tcp/reassembly.js';
export { RtoEstimator, DEFAULT_RTO, type RtoConfig } from './tcp/rto.js';
export * from './tcp/seq.js';
export { DhcpClient, type DhcpState, type DhcpStats, type DhcpLease, type DhcpConfig, type DhcpEnv } from './dhcp/dhcp-client.js';

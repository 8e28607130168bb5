export { AppNetwork, GATEWAY_NODE_ID, NATIVE_NETWORK_MANAGER, type GatewayBooter, type GatewayNode } from './app-network.js';
export { HostRelay, type HostAccessPolicy } from './host-relay.js';
export { PortForward, type ForwardTarget, type PortForwardStats } from './port-forward.js';
export { SimulatedNetwork } from './simulated-network.js';
export { SocketRelay, newRelayStats, type RelayStats } from './socket-relay.js';
export { Subnet, GATEWAY_HOST, nodeHost } from './subnet.js';
export { TapUplink, tapUnavailableReason, type TapPathCounters, type TapUplinkOptions } from './tap-uplink.js';
export { tapHelperBinary, type TapHelperBuild } from './tap-helper.js';
export { BridgedNetworkManagerRoot, FrontendBridge } from './frontend-bridge.js';

export { manifest } from './manifest.js';
export { hostedNetworkOptionsSchema, type HostedNetworkOptions } from './options.js';
export { HostedNetworkManager, HostedTcpListener, HostedUdpSocket } from './network-manager.js';
export { HostedTcpConnection, SendWindowError } from './tcp-connection.js';

import { z } from 'zod';

/** Options of the hosted NetworkManager (validated from an application config). */
export const hostedNetworkOptionsSchema = z.strictObject({
  /** Address that listeners and UDP sockets bind to. */
  host: z.string().min(1).default('127.0.0.1'),
  /**
   * Send window per TCP connection, in bytes: a high-water mark on the bytes
   * Node still buffers for the socket (`socket.writableLength`). At least 16 KiB
   * (Node's own stream high-water mark), so a full window always ends in 'drain'.
   */
  sendWindow: z.number().int().min(16 * 1024).default(256 * 1024),
  /**
   * Received bytes a connection may hold waiting for its core before the socket
   * is paused (the hosted receive window).
   */
  receiveBuffer: z.number().int().min(1).default(1024 * 1024),
  /** Disable Nagle's algorithm on every TCP socket. */
  noDelay: z.boolean().default(true),
  /**
   * Core of an accepted connection: `round-robin` over the node's cores
   * (starting at the listening core), or `listener`, the core that called tcpListen.
   */
  acceptCore: z.enum(['round-robin', 'listener']).default('round-robin'),
});

export type HostedNetworkOptions = z.output<typeof hostedNetworkOptionsSchema>;

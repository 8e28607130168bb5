import { z } from 'zod';

const ipv4Text = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'a dotted-quad IPv4 address');

/**
 * Options of the native NetworkManager. `address` is 'a.b.c.d/prefix' (or 'a.b.c.d' with
 * `netmask`). Everything else has a default.
 */
export const lwipOptionsSchema = z.strictObject({
  /** This node's address, e.g. '10.0.0.2/24', or 'dhcp' (RFC 2131 client, src/dhcp/). */
  address: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|dhcp)$/, "an IPv4 address such as '10.0.0.2/24', or 'dhcp'"),
  /** Dotted-quad netmask; required when `address` has no prefix length. */
  netmask: ipv4Text.optional(),
  gateway: ipv4Text.optional(),
  /** 'aa:bb:cc:dd:ee:ff'; default 52:54:00 + the machine id. */
  mac: z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "a MAC such as '02:00:00:00:00:01'").optional(),
  mtu: z.number().int().min(576).max(9000).default(1500),
  rxRingSize: z.number().int().min(2).max(32768).default(256),
  txRingSize: z.number().int().min(2).max(32768).default(256),
  rxBufferSize: z.number().int().min(1536).max(65536 + 12).default(2048),
  txBacklogLimit: z.number().int().min(0).default(4096),
  pollFramesPerInterrupt: z.number().int().min(1).default(16),
  pollRateFrames: z.number().int().min(1).default(64),
  pollRateWindowUs: z.number().positive().default(100),
  pollIdleUs: z.number().positive().default(50),
  rxBudget: z.number().int().min(1).default(64),
  arpRetries: z.number().int().min(0).max(100).default(3),
  arpRetryUs: z.number().positive().default(1000),
  arpExpiryUs: z.number().positive().default(60_000_000),
  arpQueueLimit: z.number().int().min(1).default(64),
  arpCacheSize: z.number().int().min(1).default(256),
  /** TCP receive window offered per connection, bytes (window scaling above 64 KiB). */
  tcpReceiveWindow: z.number().int().min(1024).max(1 << 30).default(256 * 1024),
  /** TCP send buffer per connection (bytes acceptable to send()/queued until acked). */
  tcpSendBuffer: z.number().int().min(1024).default(256 * 1024),
  tcpRtoInitialUs: z.number().positive().default(1_000_000),
  tcpRtoMinUs: z.number().positive().default(200_000),
  tcpRtoMaxUs: z.number().positive().default(60_000_000),
  tcpMaxRetries: z.number().int().min(1).default(12),
  tcpMaxSynRetries: z.number().int().min(1).default(6),
  /** Maximum segment lifetime: TIME_WAIT lasts 2 × MSL. */
  tcpMslUs: z.number().positive().default(30_000_000),
  /** Half-open (SYN_RCVD) connections per listener. */
  tcpSynBacklog: z.number().int().min(1).default(128),
  /** With the SYN backlog full, answer with SYN cookies (true) or evict the oldest half-open connection (false). */
  tcpSynCookies: z.boolean().default(true),
  /** DHCP (address: 'dhcp'): first retransmission timeout, doubled per retry up to dhcpRetryMaxUs. */
  dhcpRetryInitialUs: z.number().positive().default(4_000_000),
  dhcpRetryMaxUs: z.number().positive().default(64_000_000),
  /** DISCOVERs (or REQUESTs) per attempt, and restarts in a row, before the client gives up. */
  dhcpMaxAttempts: z.number().int().min(1).default(5),
});

export type LwipOptions = z.output<typeof lwipOptionsSchema>;

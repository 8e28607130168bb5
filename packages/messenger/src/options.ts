import { z } from 'zod';

export const messengerOptionsSchema = z.strictObject({
  /** TCP port the Messenger listens on; 0 = ephemeral (read `root.port` once `root.listening` resolved). */
  port: z.number().int().min(0).max(0xffff).default(7000),
  /** Peer directory: network id -> "host:port". The runtime adds to it with `root.setPeer`. */
  peers: z.record(z.string().regex(/^\d+$/, 'must be a network id'), z.string().regex(/^.+:\d+$/, 'must be host:port')).default({}),
  /** This node's network id, sent in every HELLO. Default: the node's id (NodeContext.id). */
  networkId: z.number().int().min(0).max(0xffffffff).optional(),
  /** Largest payload accepted (and sent); a bigger length in a received header closes that connection. */
  maxMessageBytes: z.number().int().min(0).max(0xffffffff).default(16 * 1024 * 1024),
  /**
   * This node's restarts so far, sent in its HELLO when > 0 (the runtime sets it when it restarts
   * a crashed node). A peer that hears a higher incarnation than it knew drops the stale
   * connections of the node's previous life and sends on the new one.
   */
  incarnation: z.number().int().min(0).max(0xffffffff).default(0),
  /** Core that listens (accepted connections go where the NetworkManager puts them). */
  listenCore: z.number().int().min(0).default(0),
});

export type MessengerOptionsInput = z.input<typeof messengerOptionsSchema>;
export type MessengerOptions = z.output<typeof messengerOptionsSchema>;

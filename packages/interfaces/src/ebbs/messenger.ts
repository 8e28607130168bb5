import type { EbbId } from '../ids.js';
import type { IOBuf } from '../iobuf/index.js';

/** Receives a message addressed to an Ebb on this node. */
export type MessageHandler = (from: number, typeCode: number, message: IOBuf) => void;

/** Sends messages to an Ebb's reps on other nodes (one lazy connection per peer). */
export interface Messenger {
  /** Resolves once the message is handed to the transport; rejects naming the peer if it is dead. */
  send(networkId: number, ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void>;
  /** Delivers messages for `ebbId` on this node to `handler`. */
  register(ebbId: EbbId, handler: MessageHandler): void;
}

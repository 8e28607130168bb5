import type { EbbId } from '../ids.js';
import type { EbbRoot } from '../execution.js';
import type { IOBuf } from '../iobuf/index.js';
import type { MessengerTraffic } from '../introspection.js';

/** Receives a message addressed to an Ebb on this node. */
export type MessageHandler = (from: number, typeCode: number, message: IOBuf) => void;

/**
 * Builds the handler of an Ebb this node has not seen yet, when the first message for it
 * arrives with a registered type code (EbbRT's Messagable: the message faults the rep in).
 */
export type MessageTypeFaultHandler = (ebbId: EbbId, from: number) => MessageHandler;

/** Sends messages to an Ebb's reps on other nodes (one lazy connection per peer). */
export interface Messenger {
  /** Resolves once the message is handed to the transport; rejects naming the peer if it is dead. */
  send(networkId: number, ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void>;
  /** Delivers messages for `ebbId` on this node to `handler`. */
  register(ebbId: EbbId, handler: MessageHandler): void;
  /**
   * Messages for an `ebbId` with no registered handler but this `typeCode` call `fault`
   * once per Ebb per node; the handler it returns is registered and receives the message.
   */
  registerType(typeCode: number, fault: MessageTypeFaultHandler): void;
  /** Network ids of the other nodes this one knows how to reach (the application's nodes, once the runtime has told it). */
  peers(): readonly number[];
}

/**
 * A rep may take its Ebb's messages without registering (EbbRT's Messagable): a message for an
 * Ebb installed on the node, with no handler and no type registered, goes to the receiving core's
 * rep when it has this method.
 */
export interface MessageReceiver {
  receiveMessage(from: number, typeCode: number, message: IOBuf): void;
}

/**
 * Where a node's Messenger learns where the others listen. Node ids are not addresses: the runtime
 * (or a platform) fills every node's directory as nodes come and go, and reads back where this
 * one listens. Every Messenger root has one (see {@link MessengerRoot}).
 */
export interface MessengerDirectory {
  /** The bound listen port (the real one once {@link listening} has resolved, even when 0 was asked for). */
  readonly port: number;
  /** Settles once the Messenger listens; rejects if it cannot (e.g. the port is taken). */
  readonly listening: Promise<void>;
  /** Node `networkId`'s Messenger listens at `address:port`. Replaces what was known. */
  setPeer(networkId: number, address: string, port: number): void;
  /** Node `networkId` is gone (freed or dead): drop its address and its connections; later sends reject naming it. */
  forgetPeer(networkId: number): void;
}

/** What the runtime calls on a Messenger's root: the Ebb's fault handler, its lifecycle, and the directory. */
export interface MessengerRoot extends EbbRoot<Messenger>, MessengerDirectory {
  /** Present on a Messenger that counts its traffic per peer (the dashboard's node graph); read on demand. */
  traffic?(): MessengerTraffic;
}

/**
 * Messagable: lets an Ebb's reps talk to its reps on other nodes, after EbbRT's
 * `Messagable<T>`. A message for an Ebb a node has never seen faults it in: the Messenger
 * calls the type's fault handler, which installs the Ebb's root on the node; the EbbRef is
 * dereferenced on the receiving core (making that core's rep), and the rep receives.
 *
 * ```ts
 * type Msg = { kind: 'ping'; n: number } | { kind: 'pong'; n: number };
 *
 * class PingPong extends Messagable<Msg> {
 *   receive(from: number, msg: Msg): void {
 *     if (msg.kind === 'ping') void this.sendTo(from, { kind: 'pong', n: msg.n });
 *   }
 * }
 * const pingPong = new MessagableType(0x5050, jsonCodec<Msg>(), (id, type) => new PingPong(id, type));
 * // in an event on every node, at boot:   pingPong.install();
 * // then, anywhere:                        pingPong.ref(id).deref().sendTo(2, { kind: 'ping', n: 1 });
 * ```
 */
import { EbbRef, MulticoreRoot, currentNode, type NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type CoreInfo, type EbbId, type MessageHandler, type Messenger } from '@ebbrt/interfaces';
import type { Codec } from './codec.js';

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);

/** Base class of a rep that exchanges typed messages with the same Ebb's reps on other nodes. */
export abstract class Messagable<M> {
  constructor(
    readonly ebbId: EbbId,
    readonly type: MessagableType<M, Messagable<M>>,
  ) {}

  /** Encodes `data` and sends it to this Ebb on node `networkId`; resolves on this core once handed to the transport. */
  sendTo(networkId: number, data: M): Promise<void> {
    return messengerRef.deref().send(networkId, this.ebbId, this.type.typeCode, this.type.codec.encode(data));
  }

  /** A message from this Ebb on node `from`, already decoded, on the core it arrived on. */
  abstract receive(from: number, data: M): void;
}

/** Makes the rep of `ebbId` for one core. */
export type MessagableRepFactory<M, Rep extends Messagable<M>> = (
  ebbId: EbbId,
  type: MessagableType<M, Rep>,
  core: CoreInfo,
  root: MulticoreRoot<Rep, MessagableType<M, Rep>>,
) => Rep;

/**
 * A kind of Messagable Ebb: its type code on the wire, its codec, and how to make a rep.
 * Reps are per core (a `MulticoreRoot` per Ebb per node).
 */
export class MessagableType<M, Rep extends Messagable<M>> {
  /** Roots built on message arrival, per node (for tests: how often a node faulted an Ebb in). */
  readonly faults = new Map<NodeContext, number>();

  constructor(
    readonly typeCode: number,
    readonly codec: Codec<M>,
    private readonly makeRep: MessagableRepFactory<M, Rep>,
  ) {}

  /**
   * Registers the type with this node's Messenger, so the first message for an unknown Ebb of
   * this type builds it. Call once per node, in an event on that node.
   */
  install(messenger: Messenger = messengerRef.deref()): void {
    const node = currentNode();
    messenger.registerType(this.typeCode, (ebbId) => {
      if (!node.localIdMap.has(ebbId)) {
        this.faults.set(node, (this.faults.get(node) ?? 0) + 1);
        this.installRoot(node, ebbId);
      }
      return this.handler(ebbId);
    });
  }

  /**
   * Creates (or adopts) the Ebb `id` on this node and registers its handler; returns its ref.
   * Use a global or static id so every node names the same Ebb.
   */
  create(id: EbbId, messenger: Messenger = messengerRef.deref()): EbbRef<Rep> {
    const node = currentNode();
    if (!node.localIdMap.has(id)) this.installRoot(node, id);
    messenger.register(id, this.handler(id));
    return new EbbRef<Rep>(id);
  }

  /** A ref to Ebb `id` of this type. */
  ref(id: EbbId): EbbRef<Rep> {
    return new EbbRef<Rep>(id);
  }

  private installRoot(node: NodeContext, id: EbbId): void {
    node.install(id, new MulticoreRoot<Rep, MessagableType<M, Rep>>(node, id, this, (core, root) => this.makeRep(id, this, core, root)));
  }

  private handler(id: EbbId): MessageHandler {
    const ref = new EbbRef<Rep>(id);
    const codec = this.codec;
    return (from, _typeCode, message) => {
      // Deref on the receiving core: the first message on a core faults its rep in.
      const rep = ref.deref();
      rep.receive(from, codec.decode(message));
    };
  }
}

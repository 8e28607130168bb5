/**
 * Delivering received messages to this node's Ebbs: the handler and type tables (node-wide, read
 * from any core, written in whole events), type faults (EbbRT's Messagable<T>) and the fallback
 * to a rep's `receiveMessage`. Runs on the core the message arrived on.
 */
import { EbbRef, type NodeContext } from '@ebbrt/core-translation';
import {
  UsageError,
  isValidEbbId,
  type EbbId,
  type IOBuf,
  type MessageHandler,
  type MessageReceiver,
  type MessageTypeFaultHandler,
} from '@ebbrt/interfaces';
import type { CoreStats } from './stats.js';

export class Dispatcher {
  private readonly handlers = new Map<EbbId, MessageHandler>();
  private readonly types = new Map<number, MessageTypeFaultHandler>();
  private readonly loggedDrops = new Set<EbbId>();

  constructor(
    private readonly node: NodeContext,
    private readonly networkId: number,
    private readonly coreStats: () => CoreStats,
    private readonly log: (line: string) => void,
  ) {}

  register(ebbId: EbbId, handler: MessageHandler): void {
    if (!isValidEbbId(ebbId)) throw new RangeError(`register: ${ebbId} is not a valid EbbId`);
    this.handlers.set(ebbId, handler);
  }

  unregister(ebbId: EbbId): void {
    this.handlers.delete(ebbId);
  }

  registerType(typeCode: number, fault: MessageTypeFaultHandler): void {
    if (!Number.isInteger(typeCode) || typeCode < 0 || typeCode > 0xffffffff) {
      throw new RangeError(`registerType: type code ${typeCode} is not a u32`);
    }
    if (this.types.has(typeCode)) throw new UsageError(`registerType: type code ${typeCode} is already registered on node ${this.node.id}`);
    this.types.set(typeCode, fault);
  }

  /** Delivers a message on the current core. Owns `payload` until a handler takes it. */
  deliver(from: number, ebbId: EbbId, typeCode: number, payload: IOBuf): void {
    const stats = this.coreStats();
    if (from !== this.networkId) {
      const s = stats.peer(from);
      s.messagesReceived++;
      s.bytesReceived += payload.computeChainDataLength();
    }
    let handler = this.handlers.get(ebbId);
    if (handler === undefined) {
      const fault = this.types.get(typeCode) ?? this.messagableFault(ebbId);
      if (fault === undefined) {
        stats.dropsNoHandler++;
        payload.releaseChain();
        if (!this.loggedDrops.has(ebbId)) {
          this.loggedDrops.add(ebbId);
          this.log(`dropping messages from node ${from} for Ebb 0x${ebbId.toString(16)} (type ${typeCode}): no handler and no type registered (logged once per Ebb)`);
        }
        return;
      }
      try {
        stats.typeFaults++;
        handler = fault(ebbId, from);
      } catch (e) {
        stats.handlerErrors++;
        payload.releaseChain();
        this.log(`type ${typeCode} fault handler for Ebb 0x${ebbId.toString(16)} threw: ${(e as Error).message}`);
        return;
      }
      this.handlers.set(ebbId, handler);
    }
    try {
      handler(from, typeCode, payload);
    } catch (e) {
      stats.handlerErrors++;
      this.log(`handler of Ebb 0x${ebbId.toString(16)} threw on a message from node ${from}: ${(e as Error).message}`);
    }
  }

  /**
   * EbbRT's Messagable: an Ebb installed on this node whose rep has `receiveMessage(from, typeCode,
   * message)` gets its messages without registering, each on the receiving core's own rep (the
   * dereference faults the rep in on first use). System Ebbs (the Event Manager's getNum) use this.
   */
  private messagableFault(ebbId: EbbId): MessageTypeFaultHandler | undefined {
    if (this.node.localIdMap.get(ebbId) === undefined) return undefined;
    const ref = new EbbRef<Partial<MessageReceiver>>(ebbId);
    if (typeof ref.deref().receiveMessage !== 'function') return undefined;
    return () => (from, typeCode, message) => (ref.deref() as MessageReceiver).receiveMessage(from, typeCode, message);
  }
}

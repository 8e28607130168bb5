/** What a core sees through `EbbRef<Messenger>`: the node's Messenger, acting as this core. */
import type { EbbId, IOBuf, MessageHandler, MessageTypeFaultHandler, Messenger } from '@ebbrt/interfaces';
import type { MessengerRoot } from './root.js';
import type { MessengerStats } from './stats.js';

export class MessengerRep implements Messenger {
  constructor(
    readonly root: MessengerRoot,
    readonly core: number,
  ) {}

  /** Takes ownership of `message`. Resolves on this core once the transport accepted it. */
  send(networkId: number, ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void> {
    return this.root.send(this.core, networkId, ebbId, typeCode, message);
  }

  register(ebbId: EbbId, handler: MessageHandler): void {
    this.root.register(ebbId, handler);
  }

  registerType(typeCode: number, fault: MessageTypeFaultHandler): void {
    this.root.registerType(typeCode, fault);
  }

  unregister(ebbId: EbbId): void {
    this.root.unregister(ebbId);
  }

  close(networkId: number): Promise<void> {
    return this.root.close(networkId);
  }

  setPeer(networkId: number, address: string, port: number): void {
    this.root.setPeer(networkId, address, port);
  }

  peers(): number[] {
    return this.root.peerIds();
  }

  get networkId(): number {
    return this.root.networkId;
  }

  stats(): MessengerStats {
    return this.root.stats();
  }
}

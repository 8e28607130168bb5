import { EbbRef, PendingRequests, type CoreContext } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type Messenger } from '@ebbrt/interfaces';

/** Message type codes of the application-wide event count (EbbRT's getNum example). */
export const COUNT_REQUEST = 0x45564e51; // 'EVNQ'
export const COUNT_REPLY = 0x45564e52; // 'EVNR'
/** A peer that has not answered by then counts as gone; the sum of the others is returned. */
export const COUNT_TIMEOUT_US = 5_000_000;

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const emRef = new EbbRef<{ appCount: AppCount }>(SystemEbbIds.EventManager);

/** One `getNum()` in flight: the peers yet to answer and the sum so far. */
interface Count {
  readonly remaining: Set<number>;
  sum: number;
}

/**
 * One core's side of `getNum()`: asks every peer's Event Manager for its node's total over the
 * Messenger, sums the replies with this node's, and resolves on this core. The replies may arrive
 * on another core (the connection's), which forwards them here.
 */
export class AppCount {
  private readonly counts: PendingRequests<number, Count>;

  constructor(
    private readonly context: CoreContext,
    private readonly localTotal: () => number,
    private readonly onCore: (core: number, fn: () => void) => void,
  ) {
    this.counts = new PendingRequests(context, {
      here: () => emRef.deref().appCount.counts,
      timeoutUs: () => COUNT_TIMEOUT_US,
      timedOut: (count) => count.sum,
    });
  }

  getNum(): Promise<number> {
    const local = this.localTotal();
    const node = this.context.node;
    if (node.localIdMap.get(SystemEbbIds.Messenger) === undefined) return Promise.resolve(local);
    const messenger = messengerRef.deref();
    const peers = messenger.peers();
    if (peers.length === 0) return Promise.resolve(local);
    return this.counts.request({ remaining: new Set(peers), sum: local }, (id) => {
      for (const peer of peers) {
        messenger
          .send(peer, SystemEbbIds.EventManager, COUNT_REQUEST, encode(id, this.context.index, 0))
          .catch(() => this.arrived(id, peer, 0)); // a dead peer's events are gone with it
      }
    });
  }

  /** A count message for this node's Event Manager (any core). */
  receive(from: number, typeCode: number, message: IOBuf): void {
    const bytes = message.toUint8Array();
    message.releaseChain();
    if (bytes.length !== 16) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
    const id = view.getUint32(0);
    const core = view.getUint32(4);
    if (typeCode === COUNT_REQUEST) {
      messengerRef
        .deref()
        .send(from, SystemEbbIds.EventManager, COUNT_REPLY, encode(id, core, this.localTotal()))
        .catch(() => undefined); // the asker died; nobody waits for this
    } else if (typeCode === COUNT_REPLY) {
      const count = view.getFloat64(8);
      this.onCore(core, () => this.forCore(core).arrived(id, from, count));
    }
  }

  private forCore(core: number): AppCount {
    return core === this.context.index ? this : emRef.deref().appCount;
  }

  private arrived(id: number, peer: number, count: number): void {
    const c = this.counts.context(id);
    if (c === undefined || !c.remaining.delete(peer)) return;
    c.sum += count;
    if (c.remaining.size === 0) this.counts.resolve(id, c.sum);
  }
}

function encode(id: number, core: number, count: number): IOBuf {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, id);
  view.setUint32(4, core);
  view.setFloat64(8, count);
  return IOBuf.wrap(bytes);
}

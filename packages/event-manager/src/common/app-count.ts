import { EbbRef, type CoreContext } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type CorePromise, type Messenger, type Timer } from '@ebbrt/interfaces';

/** Message type codes of the application-wide event count (EbbRT's getNum example). */
export const COUNT_REQUEST = 0x45564e51; // 'EVNQ'
export const COUNT_REPLY = 0x45564e52; // 'EVNR'
/** A peer that has not answered by then counts as gone; the sum of the others is returned. */
export const COUNT_TIMEOUT_US = 5_000_000;

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

interface PendingCount {
  remaining: Set<number>;
  sum: number;
  result: CorePromise<number>;
  cancelTimeout(): void;
}

/**
 * One core's side of `getNum()`: asks every peer's Event Manager for its node's total over the
 * Messenger, sums the replies with this node's, and resolves on this core. The replies may arrive
 * on another core (the connection's), which forwards them here.
 */
export class AppCount {
  private nextRequest = 1;
  private readonly pending = new Map<number, PendingCount>();

  constructor(
    private readonly context: CoreContext,
    private readonly localTotal: () => number,
    private readonly promise: () => CorePromise<number>,
    private readonly onCore: (core: number, fn: () => void) => void,
  ) {}

  getNum(): Promise<number> {
    const local = this.localTotal();
    const node = this.context.node;
    if (node.localIdMap.get(SystemEbbIds.Messenger) === undefined) return Promise.resolve(local);
    const messenger = messengerRef.deref();
    const peers = messenger.peers();
    if (peers.length === 0) return Promise.resolve(local);
    const id = this.nextRequest++;
    const result = this.promise();
    let cancel = (): void => undefined;
    if (node.localIdMap.get(SystemEbbIds.Timer) !== undefined) {
      const handle = timerRef.deref().start(() => this.finish(id), COUNT_TIMEOUT_US);
      cancel = () => handle.stop();
    }
    this.pending.set(id, { remaining: new Set(peers), sum: local, result, cancelTimeout: cancel });
    for (const peer of peers) {
      messenger
        .send(peer, SystemEbbIds.EventManager, COUNT_REQUEST, encode(id, this.context.index, 0))
        .catch(() => this.arrived(id, peer, 0)); // a dead peer's events are gone with it
    }
    return result.promise;
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
    return core === this.context.index ? this : (new EbbRef<{ appCount: AppCount }>(SystemEbbIds.EventManager).deref().appCount);
  }

  private arrived(id: number, peer: number, count: number): void {
    const p = this.pending.get(id);
    if (p === undefined || !p.remaining.delete(peer)) return;
    p.sum += count;
    if (p.remaining.size === 0) this.finish(id);
  }

  private finish(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.cancelTimeout();
    p.result.resolve(p.sum);
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

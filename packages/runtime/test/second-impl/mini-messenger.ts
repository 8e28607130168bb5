/**
 * A second Messenger, written against @ebbrt/interfaces alone (no code of @ebbrt/messenger): one
 * connection per peer over whatever NetworkManager the node has, frames of
 * `[u32 length][u32 from][u32 ebbId][u32 type]` + payload. Its directory and its listener's
 * start are the declared `MessengerRoot` contract and `EbbLifecycle.start`, which the runtime
 * drives; nothing else of it is known to the runtime.
 */
import { EbbRef, nodeContextOf } from '@ebbrt/core-translation';
import {
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  UsageError,
  defineEbbManifest,
  isRootOf,
  type EbbId,
  type EventManager,
  type MessageHandler,
  type MessageTypeFaultHandler,
  type Messenger,
  type MessengerRoot,
  type NetworkManager,
  type NodeInfo,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
} from '@ebbrt/interfaces';

const HEADER = 16;

/** Cuts a byte stream into frames and hands each to the root. */
class Inbound implements TcpHandler {
  private buffered = new Uint8Array(0);
  constructor(private readonly root: MiniMessengerRoot) {}

  receive(_c: TcpConnection, data: IOBuf): void {
    const bytes = data.toUint8Array();
    data.releaseChain();
    const joined = new Uint8Array(this.buffered.length + bytes.length);
    joined.set(this.buffered);
    joined.set(bytes, this.buffered.length);
    let at = 0;
    const view = new DataView(joined.buffer);
    while (joined.length - at >= HEADER) {
      const length = view.getUint32(at);
      if (joined.length - at - HEADER < length) break;
      const body = joined.slice(at + HEADER, at + HEADER + length);
      this.root.deliver(view.getUint32(at + 4), view.getUint32(at + 8), view.getUint32(at + 12), body);
      at += HEADER + length;
    }
    this.buffered = joined.slice(at);
  }
}

/** The sending side to one peer: frames wait until the connection is up. */
class Outbound extends Inbound {
  conn: TcpConnection | undefined;
  up = false;
  readonly waiting: { frame: IOBuf; sent: () => void; failed: (e: Error) => void }[] = [];
  constructor(
    root: MiniMessengerRoot,
    private readonly peer: number,
    private readonly onDead: () => void,
  ) {
    super(root);
  }

  connected(c: TcpConnection): void {
    this.up = true;
    for (const w of this.waiting.splice(0)) {
      c.sendQueued(w.frame);
      w.sent();
    }
  }

  aborted(_c: TcpConnection, reason: Error): void {
    this.onDead();
    for (const w of this.waiting.splice(0)) {
      w.frame.releaseChain();
      w.failed(new NodeUnavailableError(this.peer, reason.message));
    }
  }

  closed(c: TcpConnection): void {
    this.onDead();
    c.close();
  }
}

export class MiniMessengerRoot implements MessengerRoot {
  readonly listening: Promise<void>;
  private settleListening!: [() => void, (e: unknown) => void];
  private listener: TcpListener | undefined;
  private readonly directory = new Map<number, { address: string; port: number }>();
  private readonly out = new Map<number, Outbound>();
  private readonly handlers = new Map<EbbId, MessageHandler>();
  private readonly types = new Map<number, MessageTypeFaultHandler>();
  private readonly nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
  private readonly em = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  private started = false;

  constructor(
    private readonly node: NodeInfo,
    private readonly askedPort: number,
  ) {
    this.listening = new Promise((resolve, reject) => (this.settleListening = [resolve, reject]));
    this.listening.catch(() => undefined);
  }

  get port(): number {
    return this.listener?.port ?? this.askedPort;
  }

  /** Listens from an event on core 0, once the runtime says the node runs (EbbLifecycle.start). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.postOnCore0(() => {
      const l = this.nm.deref().tcpListen(this.askedPort, () => new Inbound(this));
      this.listener = l;
      l.listening.then(...this.settleListening);
    });
  }

  /** The node's way into core 0 from outside any event: its EventManager root's declared post(). */
  private postOnCore0(fn: () => void): void {
    const em = nodeContextOf(this.node).localIdMap.get(SystemEbbIds.EventManager);
    if (!isRootOf('EventManager', em)) throw new UsageError('mini messenger: the node has no EventManager root');
    em.post(0, fn);
  }

  stop(): void {
    for (const o of this.out.values()) o.conn?.abort();
    this.out.clear();
    const l = this.listener;
    if (l !== undefined) this.postOnCore0(() => l.close());
  }

  setPeer(networkId: number, address: string, port: number): void {
    this.directory.set(networkId, { address, port });
  }

  forgetPeer(networkId: number): void {
    this.directory.delete(networkId);
    this.out.get(networkId)?.conn?.abort();
    this.out.delete(networkId);
  }

  handleFault(): Messenger {
    return {
      send: (to, ebbId, type, message) => this.send(to, ebbId, type, message),
      register: (ebbId, handler) => void this.handlers.set(ebbId, handler),
      registerType: (type, fault) => void this.types.set(type, fault),
      peers: () => [...this.directory.keys()].filter((id) => id !== this.node.id).sort((a, b) => a - b),
    };
  }

  private send(to: number, ebbId: EbbId, type: number, message: IOBuf): Promise<void> {
    const payload = message.toUint8Array();
    message.releaseChain();
    const frame = new Uint8Array(HEADER + payload.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, payload.length);
    view.setUint32(4, this.node.id);
    view.setUint32(8, ebbId);
    view.setUint32(12, type);
    frame.set(payload, HEADER);
    const done = this.em.deref().promise<void>();
    let out = this.out.get(to);
    if (out === undefined) {
      const where = this.directory.get(to);
      if (where === undefined) {
        done.reject(new NodeUnavailableError(to, 'mini messenger: no address for it'));
        return done.promise;
      }
      const fresh = new Outbound(this, to, () => this.out.get(to) === fresh && this.out.delete(to));
      out = fresh;
      this.out.set(to, fresh);
      fresh.conn = this.nm.deref().tcpConnect(where.address, where.port, fresh);
    }
    if (out.up) {
      out.conn!.sendQueued(IOBuf.copyOf(frame));
      done.resolve();
    } else {
      out.waiting.push({ frame: IOBuf.copyOf(frame), sent: () => done.resolve(), failed: (e) => done.reject(e) });
    }
    return done.promise;
  }

  deliver(from: number, ebbId: EbbId, type: number, body: Uint8Array): void {
    let handler = this.handlers.get(ebbId);
    if (handler === undefined) {
      const fault = this.types.get(type);
      if (fault === undefined) return;
      handler = fault(ebbId, from);
      this.handlers.set(ebbId, handler);
    }
    handler(from, type, IOBuf.copyOf(body));
  }
}

export const manifest = defineEbbManifest<Record<string, unknown>, Messenger>({
  name: 'mini-messenger',
  implements: 'Messenger',
  targets: ['native', 'hosted'],
  create: (context, options) => new MiniMessengerRoot(context.node, typeof options.port === 'number' ? options.port : 7000),
});

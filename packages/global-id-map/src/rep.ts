import { EbbRef, type CoreContext } from '@ebbrt/core-translation';
import {
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  isValidEbbId,
  type CorePromise,
  type EbbId,
  type EventManager,
  type GlobalIdMap,
  type MessageReceiver,
  type Messenger,
  type Timer,
  type TimerHandle,
} from '@ebbrt/interfaces';
import { GlobalIdMapError, hexId } from './errors.js';
import { FAILED, FOUND, GET, HEADER_BYTES, REPLY, SET, encodeRequest, readHeader, take, utf8Length } from './protocol.js';
import type { GlobalIdMapRoot } from './root.js';
import { serveRequest } from './server.js';

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);
const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const selfRef = new EbbRef<GlobalIdMapRep>(SystemEbbIds.GlobalIdMap);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Pending {
  readonly op: string;
  readonly result: CorePromise<string | undefined>;
  timer: TimerHandle | undefined;
}

/**
 * A core's GlobalIdMap rep. On the home node, `get`/`set` act on the table and resolve at once
 * (on this core). Elsewhere each call is a request to the home's GlobalIdMap Ebb over the
 * Messenger, matched with its reply by this core's request id; the reply may arrive on another
 * core (the connection's), which forwards it here, and the caller resumes on this core.
 */
export class GlobalIdMapRep implements GlobalIdMap, MessageReceiver {
  private nextRequest = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly root: GlobalIdMapRoot,
    readonly core: CoreContext,
  ) {}

  get(id: EbbId): Promise<string | undefined> {
    if (!isValidEbbId(id)) return Promise.reject(badId('get', id));
    const table = this.root.table;
    if (table !== undefined) {
      this.root.count('localGets');
      return Promise.resolve(table.get(id));
    }
    this.root.count('remoteGets');
    return this.request(`get(${hexId(id)})`, (requestId) => encodeRequest(requestId, this.core.index, id), GET);
  }

  set(id: EbbId, data: string): Promise<void> {
    if (!isValidEbbId(id)) return Promise.reject(badId('set', id));
    if (typeof data !== 'string') {
      return Promise.reject(new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_BAD_DATA', `GlobalIdMap set(${hexId(id)}): data must be a string, got ${data === null ? 'null' : typeof data}`));
    }
    const max = this.root.options.maxDataBytes;
    if (data.length > max / 3 && utf8Length(data) > max) {
      return Promise.reject(new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_BAD_DATA', `GlobalIdMap set(${hexId(id)}): ${utf8Length(data)} bytes of data exceed maxDataBytes (${max})`));
    }
    const table = this.root.table;
    if (table !== undefined) {
      this.root.count('localSets');
      table.set(id, data);
      return Promise.resolve();
    }
    this.root.count('remoteSets');
    const bytes = encoder.encode(data);
    return this.request(`set(${hexId(id)})`, (requestId) => encodeRequest(requestId, this.core.index, id, bytes), SET).then(() => undefined);
  }

  /** Requests pending on this core (for tests and stats). */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Requests (on the home) and replies (elsewhere) for this Ebb; the Messenger delivers them on the receiving core's rep. */
  receiveMessage(from: number, typeCode: number, message: IOBuf): void {
    if (typeCode !== REPLY) {
      if (this.root.isHome) {
        serveRequest(from, typeCode, message, this.root.server, this.root.options.maxDataBytes, () => this);
        return;
      }
      // Not the home: refuse with an error reply (a misconfigured `home` on the asker).
      const bytes = take(message);
      const header = readHeader(bytes);
      this.root.server.badRequests++;
      if (header === undefined) return;
      const body = encoder.encode(JSON.stringify({ code: 'EBBRT_GLOBAL_ID_MAP_NOT_HOME', message: `node ${this.root.node.id} does not keep the GlobalIdMap (its home is node ${this.root.options.home})` }));
      const out = new Uint8Array(HEADER_BYTES + 1 + body.length);
      out.set(bytes.subarray(0, HEADER_BYTES));
      out[HEADER_BYTES] = FAILED;
      out.set(body, HEADER_BYTES + 1);
      messengerRef.deref().send(from, SystemEbbIds.GlobalIdMap, REPLY, IOBuf.wrap(out)).catch(() => void this.root.server.replyFailures++);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = take(message);
    } catch {
      this.root.count('strayReplies');
      return;
    }
    const header = readHeader(bytes);
    if (header === undefined || bytes.length < HEADER_BYTES + 1 || header.core >= this.root.node.numCores) {
      this.root.count('strayReplies');
      return;
    }
    if (header.core === this.core.index) this.complete(header.requestId, bytes);
    else {
      this.root.count('forwardedReplies');
      emRef.deref().spawnRemote(() => selfRef.deref().complete(header.requestId, bytes), header.core);
    }
  }

  /** Settles request `requestId` of this core with its reply (status byte and body). */
  complete(requestId: number, reply: Uint8Array): void {
    const p = this.pending.get(requestId);
    if (p === undefined) {
      this.root.count('strayReplies');
      return;
    }
    this.pending.delete(requestId);
    p.timer?.stop();
    const status = reply[HEADER_BYTES];
    const body = reply.subarray(HEADER_BYTES + 1);
    if (status === FOUND) p.result.resolve(decoder.decode(body));
    else if (status === FAILED) {
      let code = 'EBBRT_GLOBAL_ID_MAP_REMOTE';
      let text = 'the home failed';
      try {
        const e = JSON.parse(decoder.decode(body)) as { code?: unknown; message?: unknown };
        if (typeof e.code === 'string') code = e.code;
        if (typeof e.message === 'string') text = e.message;
      } catch {
        // keep the generic error
      }
      p.result.reject(new GlobalIdMapError(code, `GlobalIdMap ${p.op} on node ${this.root.node.id}: home node ${this.root.options.home} answered: ${text}`));
    } else p.result.resolve(undefined);
  }

  private request(op: string, encode: (requestId: number) => IOBuf, type: typeof GET | typeof SET): Promise<string | undefined> {
    const home = this.root.options.home;
    const requestId = this.nextRequest;
    this.nextRequest = this.nextRequest === 0xffffffff ? 1 : this.nextRequest + 1;
    const result = emRef.deref().promise<string | undefined>();
    const p: Pending = { op, result, timer: undefined };
    this.pending.set(requestId, p);
    if (this.root.node.localIdMap.get(SystemEbbIds.Timer) !== undefined) {
      const ms = this.root.options.timeoutMs;
      p.timer = timerRef.deref().start(() => {
        if (this.pending.get(requestId) !== p) return;
        this.pending.delete(requestId);
        this.root.count('timeouts');
        result.reject(new NodeUnavailableError(home, `GlobalIdMap ${op} from node ${this.root.node.id}: no reply within ${ms} ms (is the home up, with a GlobalIdMap that serves requests?)`));
      }, ms * 1000);
    }
    let message: IOBuf;
    try {
      message = encode(requestId);
    } catch (e) {
      this.fail(requestId, e);
      return result.promise;
    }
    let sent: Promise<void>;
    try {
      sent = messengerRef.deref().send(home, SystemEbbIds.GlobalIdMap, type, message);
    } catch (e) {
      message.releaseChain();
      sent = Promise.reject(e);
    }
    sent.catch((e: unknown) => {
        if (this.pending.get(requestId) !== p) return;
        this.root.count('unreachable');
        const detail = e instanceof Error ? e.message : String(e);
        this.fail(requestId, new NodeUnavailableError(home, `GlobalIdMap ${op} from node ${this.root.node.id} cannot reach its home: ${detail}`));
      });
    return result.promise;
  }

  private fail(requestId: number, error: unknown): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    p.timer?.stop();
    p.result.reject(error);
  }
}

function badId(op: string, id: unknown): GlobalIdMapError {
  return new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_BAD_ID', `GlobalIdMap ${op}: ${hexId(id)} is not a valid EbbId (an integer 1 .. 2^32-1)`);
}

import { EbbRef, PendingRequests, type CoreContext } from '@ebbrt/core-translation';
import {
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  isValidEbbId,
  type EbbId,
  type GlobalIdMap,
  type MessageReceiver,
  type Messenger,
} from '@ebbrt/interfaces';
import { GlobalIdMapError, hexId } from './errors.js';
import { FAILED, FOUND, GET, HEADER_BYTES, REPLY, SET, encodeRequest, readHeader, take, utf8Length } from './protocol.js';
import type { GlobalIdMapRoot } from './root.js';
import { serveRequest } from './server.js';

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const selfRef = new EbbRef<GlobalIdMapRep>(SystemEbbIds.GlobalIdMap);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A core's GlobalIdMap rep. On the home node, `get`/`set` act on the table and resolve at once
 * (on this core). Elsewhere each call is a request to the home's GlobalIdMap Ebb over the
 * Messenger, matched with its reply by this core's request id; the reply may arrive on another
 * core (the connection's), which forwards it here, and the caller resumes on this core.
 */
export class GlobalIdMapRep implements GlobalIdMap, MessageReceiver {
  /** This core's requests to the home, by request id; each keeps its operation (`get(0x…)`) for errors. */
  readonly requests: PendingRequests<string | undefined, string, Uint8Array>;

  constructor(
    private readonly root: GlobalIdMapRoot,
    readonly core: CoreContext,
  ) {
    const node = root.node.id;
    this.requests = new PendingRequests(core, {
      here: () => selfRef.deref().requests,
      reply: (reply, op) => decodeReply(reply, op, node, root.options.home),
      timeoutUs: () => root.options.timeoutMs * 1000,
      timedOut: (op) => {
        root.count('timeouts');
        throw new NodeUnavailableError(root.options.home, `GlobalIdMap ${op} from node ${node}: no reply within ${root.options.timeoutMs} ms (is the home up, with a GlobalIdMap that serves requests?)`);
      },
      unsent: (e, op) => {
        root.count('unreachable');
        const detail = e instanceof Error ? e.message : String(e);
        throw new NodeUnavailableError(root.options.home, `GlobalIdMap ${op} from node ${node} cannot reach its home: ${detail}`);
      },
      stray: () => root.count('strayReplies'),
      forwarded: () => root.count('forwardedReplies'),
      inject: (op) => root.faults.draw({ node, op }),
      failed: (op) => {
        root.count('injectedFailures');
        return new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_OFFLOAD_FAULT', `GlobalIdMap ${op} from node ${node}: refused by an injected fault (${root.faults.field('fail')}); it was not sent, so nothing was applied`);
      },
    });
  }

  get(id: EbbId): Promise<string | undefined> {
    if (!isValidEbbId(id)) return Promise.reject(badId('get', id));
    const table = this.root.table;
    if (table !== undefined) {
      this.root.count('localGets');
      return Promise.resolve(table.get(id));
    }
    this.root.count('remoteGets');
    return this.request(`get(${hexId(id)})`, GET, id);
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
    return this.request(`set(${hexId(id)})`, SET, id, bytes).then(() => undefined);
  }

  /** Requests pending on this core (for tests and stats). */
  get pendingRequests(): number {
    return this.requests.size;
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
    if (header === undefined || bytes.length < HEADER_BYTES + 1) {
      this.root.count('strayReplies');
      return;
    }
    this.requests.deliver(header.core, header.requestId, bytes);
  }

  private request(op: string, type: typeof GET | typeof SET, id: EbbId, data?: Uint8Array): Promise<string | undefined> {
    const home = this.root.options.home;
    return this.requests.request(op, (requestId) => {
      const message = encodeRequest(requestId, this.core.index, id, data);
      try {
        return messengerRef.deref().send(home, SystemEbbIds.GlobalIdMap, type, message);
      } catch (e) {
        message.releaseChain();
        throw e;
      }
    });
  }
}

/** A reply (status byte and body) as the request's value, or the home's error. */
function decodeReply(reply: Uint8Array, op: string, node: number, home: number): string | undefined {
  const status = reply[HEADER_BYTES];
  const body = reply.subarray(HEADER_BYTES + 1);
  if (status === FOUND) return decoder.decode(body);
  if (status !== FAILED) return undefined;
  let code = 'EBBRT_GLOBAL_ID_MAP_REMOTE';
  let text = 'the home failed';
  try {
    const e = JSON.parse(decoder.decode(body)) as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.message === 'string') text = e.message;
  } catch {
    // keep the generic error
  }
  throw new GlobalIdMapError(code, `GlobalIdMap ${op} on node ${node}: home node ${home} answered: ${text}`);
}

function badId(op: string, id: unknown): GlobalIdMapError {
  return new GlobalIdMapError('EBBRT_GLOBAL_ID_MAP_BAD_ID', `GlobalIdMap ${op}: ${hexId(id)} is not a valid EbbId (an integer 1 .. 2^32-1)`);
}

import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, isValidEbbId, type GlobalIdMap, type IOBuf, type Messenger } from '@ebbrt/interfaces';
import { hexId } from './errors.js';
import { FAILED, FOUND, GET, HEADER_BYTES, NOT_FOUND, SET, encodeReply, readHeader, readU32, take } from './protocol.js';

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const mapRef = new EbbRef<GlobalIdMap>(SystemEbbIds.GlobalIdMap);
const encoder = new TextEncoder();

/** Counters of the serving side (one object per node). */
export interface ServerStats {
  /** Requests answered (found, not found, or an error reply). */
  served: number;
  /** Requests that could not be parsed: too short (dropped), unknown type, bad id, bad UTF-8 (answered with an error). */
  badRequests: number;
  /** Replies the Messenger could not hand over (the asker died). */
  replyFailures: number;
}

export function newServerStats(): ServerStats {
  return { served: 0, badRequests: 0, replyFailures: 0 };
}

/**
 * Serves one request that arrived for the GlobalIdMap Ebb, on the receiving core, against the
 * GlobalIdMap rep of that core (whatever implementation is installed) or `map`. Never throws:
 * garbage is counted, and answered with an error reply when it carries a usable header.
 */
export function serveRequest(
  from: number,
  typeCode: number,
  message: IOBuf,
  stats: ServerStats,
  maxDataBytes: number,
  map: () => GlobalIdMap = () => mapRef.deref(),
): void {
  let bytes: Uint8Array;
  try {
    bytes = take(message);
  } catch {
    stats.badRequests++;
    return;
  }
  const header = readHeader(bytes);
  if (header === undefined) {
    stats.badRequests++; // no request id to answer: drop
    return;
  }
  const messenger = messengerRef.deref();
  const reply = (status: number, body?: Uint8Array): void => {
    stats.served++;
    messenger.send(from, SystemEbbIds.GlobalIdMap, 3, encodeReply(header, status, body)).catch(() => void stats.replyFailures++);
  };
  const fail = (code: string, text: string): void => reply(FAILED, encoder.encode(JSON.stringify({ code, message: text })));
  if ((typeCode !== GET && typeCode !== SET) || bytes.length < HEADER_BYTES + 4 || (typeCode === GET && bytes.length !== HEADER_BYTES + 4)) {
    stats.badRequests++;
    fail('EBBRT_GLOBAL_ID_MAP_BAD_REQUEST', `malformed GlobalIdMap request from node ${from} (type ${typeCode}, ${bytes.length} bytes)`);
    return;
  }
  const id = readU32(bytes, HEADER_BYTES);
  if (!isValidEbbId(id)) {
    stats.badRequests++;
    fail('EBBRT_GLOBAL_ID_MAP_BAD_ID', `${hexId(id)} is not a valid EbbId`);
    return;
  }
  let pending: Promise<string | undefined | void>;
  try {
    if (typeCode === GET) pending = map().get(id);
    else {
      const raw = bytes.subarray(HEADER_BYTES + 4);
      if (raw.length > maxDataBytes) {
        stats.badRequests++;
        fail('EBBRT_GLOBAL_ID_MAP_BAD_DATA', `set(${hexId(id)}): ${raw.length} bytes exceed the home's maxDataBytes (${maxDataBytes})`);
        return;
      }
      let data: string;
      try {
        data = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        stats.badRequests++;
        fail('EBBRT_GLOBAL_ID_MAP_BAD_DATA', `set(${hexId(id)}): the data is not valid UTF-8`);
        return;
      }
      pending = map().set(id, data);
    }
  } catch (e) {
    pending = Promise.reject(e);
  }
  pending.then(
    (value) => {
      if (typeCode === SET) reply(FOUND);
      else if (typeof value === 'string') reply(FOUND, encoder.encode(value));
      else reply(NOT_FOUND);
    },
    (e: unknown) => {
      const code = (e as { code?: unknown } | null)?.code;
      fail(typeof code === 'string' ? code : 'EBBRT_GLOBAL_ID_MAP_REMOTE', e instanceof Error ? e.message : String(e));
    },
  );
}

/** What {@link serveGlobalIdMap} returns. */
export interface GlobalIdMapServer {
  readonly stats: ServerStats;
  stop(): void;
}

/**
 * Makes this node answer back-ends' GlobalIdMap requests with whatever GlobalIdMap it has
 * installed (e.g. `@ebbrt/global-id-map-etcd` on the front-end while back-ends run
 * `@ebbrt/global-id-map`). Not needed when this package is the node's GlobalIdMap: its reps
 * receive the requests themselves. Call in an event on the node, after its Messenger is installed.
 */
export function serveGlobalIdMap(options: { maxDataBytes?: number } = {}): GlobalIdMapServer {
  const stats = newServerStats();
  const maxDataBytes = options.maxDataBytes ?? 15 * 1024 * 1024;
  const messenger = messengerRef.deref() as Messenger & { unregister?(id: number): void };
  messenger.register(SystemEbbIds.GlobalIdMap, (from, typeCode, message) => {
    if (typeCode === 3) {
      // A reply to a node that asks nobody: nothing waits for it.
      message.releaseChain();
      stats.badRequests++;
      return;
    }
    serveRequest(from, typeCode, message, stats, maxDataBytes);
  });
  return {
    stats,
    stop: () => messenger.unregister?.(SystemEbbIds.GlobalIdMap),
  };
}


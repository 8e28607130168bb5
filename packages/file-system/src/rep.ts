import { EbbRef, PendingRequests, type CoreContext } from '@ebbrt/core-translation';
import {
  FileSystemError,
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  type EventManager,
  type FileData,
  type FileStat,
  type FileSystem,
  type MessageReceiver,
  type Messenger,
} from '@ebbrt/interfaces';
import { osError } from './local-files.js';
import { CARRIES_DATA, ERROR, HEADER_BYTES, OK, OPS, REPLY, REQUEST, byteLength, encodeReply, encodeRequest, numberAt, numbers, readHeader, take, toIOBuf, type Op } from './protocol.js';
import type { FileSystemRoot } from './root.js';

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const selfRef = new EbbRef<FileSystemRep>(SystemEbbIds.FileSystem);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a pending request keeps for its errors. */
interface Call {
  readonly op: Op;
  readonly path: string;
}

/**
 * A core's FileSystem rep. On the home (the front-end) calls go to node:fs, confined to the
 * root, and resume on this core. Elsewhere every call is a request to the home's FileSystem Ebb
 * over the Messenger (a file travels as one message), matched with its reply by this core's
 * request id; a reply arriving on another core is forwarded here.
 */
export class FileSystemRep implements FileSystem, MessageReceiver {
  /** This core's requests to the home, by request id. */
  readonly requests: PendingRequests<Uint8Array, Call, Uint8Array>;

  constructor(
    private readonly root: FileSystemRoot,
    readonly core: CoreContext,
  ) {
    const counters = root.counters;
    const what = (call: Call): string => `FileSystem ${call.op} ${JSON.stringify(call.path)} from node ${root.node.id}`;
    this.requests = new PendingRequests(core, {
      here: () => selfRef.deref().requests,
      reply: (bytes, call) => {
        const body = bytes.subarray(HEADER_BYTES);
        if (bytes[6] === OK) {
          counters.bytesReceived += body.length;
          return body;
        }
        throw remoteError(body, call, root.options.home);
      },
      timeoutUs: () => root.options.timeoutMs * 1000,
      timedOut: (call) => {
        counters.timeouts++;
        throw new NodeUnavailableError(root.options.home, `${what(call)}: no reply within ${root.options.timeoutMs} ms (is a FileSystem installed there?)`);
      },
      unsent: (e, call) => {
        counters.unreachable++;
        throw e instanceof NodeUnavailableError ? new NodeUnavailableError(root.options.home, `${what(call)} cannot reach the front-end: ${e.message}`) : e;
      },
      stray: () => void counters.strayReplies++,
      forwarded: () => void counters.forwardedReplies++,
      inject: (call) => root.faults.draw({ node: root.node.id, op: call.op, path: call.path }),
      failed: (call) => {
        counters.injectedFailures++;
        return new FileSystemError('EBBRT_FS_OFFLOAD_FAULT', call.op, call.path, `refused by an injected fault (${root.faults.field('fail')}) on node ${root.node.id}; it was not sent, so nothing was applied`);
      },
    });
  }

  async readFile(path: string): Promise<IOBuf> {
    return IOBuf.wrap(await this.call('readFile', path));
  }

  async writeFile(path: string, data: FileData): Promise<void> {
    await this.call('writeFile', path, data);
  }

  async appendFile(path: string, data: FileData): Promise<void> {
    await this.call('appendFile', path, data);
  }

  async stat(path: string): Promise<FileStat> {
    return JSON.parse(decoder.decode(await this.call('stat', path))) as FileStat;
  }

  async readdir(path: string): Promise<string[]> {
    return JSON.parse(decoder.decode(await this.call('readdir', path))) as string[];
  }

  async lstat(path: string): Promise<FileStat> {
    return JSON.parse(decoder.decode(await this.call('lstat', path))) as FileStat;
  }

  async read(path: string, offset: number, length: number): Promise<IOBuf> {
    const bad = badNumber('read', path, { offset, length }, this.root.options.maxFileBytes);
    if (bad !== undefined) throw bad;
    return IOBuf.wrap(await this.call('read', path, numbers(offset, length)));
  }

  async write(path: string, offset: number, data: FileData): Promise<void> {
    const bad = badNumber('write', path, { offset }, Number.MAX_SAFE_INTEGER);
    if (bad !== undefined) {
      if (data instanceof IOBuf) data.releaseChain();
      throw bad;
    }
    if (typeof data !== 'string' && !(data instanceof Uint8Array) && !(data instanceof IOBuf)) {
      throw new FileSystemError('EBBRT_FS_INVALID_DATA', 'write', path, 'data must be an IOBuf, a Uint8Array or a string');
    }
    await this.call('write', path, IOBuf.wrap(numbers(offset)).appendChain(toIOBuf(data)));
  }

  async truncate(path: string, length: number): Promise<void> {
    const bad = badNumber('truncate', path, { length }, this.root.options.maxFileBytes);
    if (bad !== undefined) throw bad;
    await this.call('truncate', path, numbers(length));
  }

  async mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.call('mkdir', path, Uint8Array.of(options.recursive === true ? 1 : 0));
  }

  async unlink(path: string): Promise<void> {
    await this.call('unlink', path);
  }

  async rmdir(path: string): Promise<void> {
    await this.call('rmdir', path);
  }

  async rename(from: string, to: string): Promise<void> {
    if (typeof to !== 'string' || to.length === 0 || to.includes('\0')) {
      throw new FileSystemError('EBBRT_FS_INVALID_PATH', 'rename', String(to), 'the target path must be a non-empty string without NUL bytes');
    }
    await this.call('rename', from, to);
  }

  get pendingRequests(): number {
    return this.requests.size;
  }

  /** Runs `op` here (home) or at the home; the result's bytes resume on this core. */
  private call(op: Op, path: string, data?: FileData): Promise<Uint8Array> {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      if (data instanceof IOBuf) data.releaseChain();
      const why = typeof path !== 'string' || path.length === 0 ? 'the path must be a non-empty string' : 'the path contains a NUL byte';
      return Promise.reject(new FileSystemError('EBBRT_FS_INVALID_PATH', op, String(path), why));
    }
    if (data !== undefined && typeof data !== 'string' && !(data instanceof Uint8Array) && !(data instanceof IOBuf)) {
      return Promise.reject(new FileSystemError('EBBRT_FS_INVALID_DATA', op, path, 'data must be an IOBuf, a Uint8Array or a string'));
    }
    if (data !== undefined) {
      const n = byteLength(data);
      if (n > this.root.options.maxFileBytes) {
        if (data instanceof IOBuf) data.releaseChain();
        return Promise.reject(new FileSystemError('EBBRT_FS_TOO_LARGE', op, path, `${n} bytes exceed maxFileBytes (${this.root.options.maxFileBytes})`));
      }
    }
    const files = this.root.files;
    if (files !== undefined) {
      this.root.counters.localCalls++;
      const result = emRef.deref().promise<Uint8Array>();
      runLocal(files, op, path, data).then(result.resolve, result.reject);
      return result.promise;
    }
    return this.request(op, path, data);
  }

  // ------------------------------------------------------------ messages

  receiveMessage(from: number, typeCode: number, message: IOBuf): void {
    if (typeCode === REPLY) {
      this.reply(message);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = take(message);
    } catch {
      this.root.counters.badRequests++;
      return;
    }
    const header = readHeader(bytes);
    if (header === undefined) {
      this.root.counters.badRequests++;
      return;
    }
    const messenger = messengerRef.deref();
    const counters = this.root.counters;
    const answer = (status: number, body?: Uint8Array): void => {
      counters.served++;
      messenger.send(from, SystemEbbIds.FileSystem, REPLY, encodeReply(header, status, body)).catch(() => void counters.replyFailures++);
    };
    const fail = (e: FileSystemError): void => answer(ERROR, encoder.encode(JSON.stringify({ code: e.code, detail: e.detail })));
    const op = OPS[header.byte6];
    let path = '';
    let data: Uint8Array | undefined;
    if (typeCode !== REQUEST || op === undefined || bytes.length < HEADER_BYTES + 4) {
      counters.badRequests++;
      fail(new FileSystemError('EBBRT_FS_BAD_REQUEST', op ?? `op#${header.byte6}`, '', `malformed FileSystem request from node ${from} (type ${typeCode}, ${bytes.length} bytes)`));
      return;
    }
    const pathLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(HEADER_BYTES);
    if (HEADER_BYTES + 4 + pathLength > bytes.length) {
      counters.badRequests++;
      fail(new FileSystemError('EBBRT_FS_BAD_REQUEST', op, '', `the path length ${pathLength} runs past the ${bytes.length}-byte request`));
      return;
    }
    try {
      path = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES + 4, HEADER_BYTES + 4 + pathLength));
    } catch {
      counters.badRequests++;
      fail(new FileSystemError('EBBRT_FS_INVALID_PATH', op, '', 'the path is not valid UTF-8'));
      return;
    }
    data = bytes.subarray(HEADER_BYTES + 4 + pathLength);
    if (!CARRIES_DATA.has(op)) data = undefined;
    const files = this.root.files;
    if (files === undefined) {
      counters.badRequests++;
      fail(new FileSystemError('EBBRT_FS_NOT_HOME', op, path, `node ${this.root.node.id} does not serve files (the home is node ${this.root.options.home})`));
      return;
    }
    counters.localCalls++;
    const done = emRef.deref().promise<Uint8Array>();
    runLocal(files, op, path, data).then(done.resolve, done.reject);
    done.promise.then(
      (body) => answer(OK, body),
      (e: unknown) => fail(e instanceof FileSystemError ? e : osError(op, path, e)),
    );
  }

  /** A reply for one of this node's requests (any core): settle it on the asking core. */
  private reply(message: IOBuf): void {
    let bytes: Uint8Array;
    try {
      bytes = take(message);
    } catch {
      this.root.counters.strayReplies++;
      return;
    }
    const header = readHeader(bytes);
    if (header === undefined) {
      this.root.counters.strayReplies++;
      return;
    }
    this.requests.deliver(header.core, header.requestId, bytes);
  }

  private request(op: Op, path: string, data: FileData | undefined): Promise<Uint8Array> {
    const counters = this.root.counters;
    counters.remoteCalls++;
    return this.requests.request({ op, path }, (requestId) => {
      const payload = data === undefined ? undefined : toIOBuf(data);
      if (payload !== undefined) counters.bytesSent += payload.computeChainDataLength();
      return messengerRef.deref().send(this.root.options.home, SystemEbbIds.FileSystem, REQUEST, encodeRequest(requestId, this.core.index, op, path, payload));
    });
  }
}

/** The home's error reply (JSON `{ code, detail }`) as a FileSystemError. */
function remoteError(body: Uint8Array, call: Call, home: number): FileSystemError {
  let code = 'EIO';
  let detail = 'the front-end failed';
  try {
    const e = JSON.parse(decoder.decode(body)) as { code?: unknown; detail?: unknown };
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.detail === 'string') detail = e.detail;
  } catch {
    // keep the generic error
  }
  return new FileSystemError(code, call.op, call.path, `${detail} (on node ${home})`);
}

function runLocal(files: NonNullable<FileSystemRoot['files']>, op: Op, path: string, data: FileData | Uint8Array | undefined): Promise<Uint8Array> {
  const bytes = (): Uint8Array => {
    if (data === undefined) return new Uint8Array(0);
    if (typeof data === 'string') return encoder.encode(data);
    if (data instanceof Uint8Array) return data;
    const out = data.toUint8Array();
    data.releaseChain();
    return out;
  };
  switch (op) {
    case 'readFile':
      return files.readFile(path);
    case 'writeFile':
      return files.writeFile(path, bytes()).then(() => new Uint8Array(0));
    case 'appendFile':
      return files.writeFile(path, bytes(), true).then(() => new Uint8Array(0));
    case 'stat':
      return files.stat(path).then((s) => encoder.encode(JSON.stringify(s)));
    case 'readdir':
      return files.readdir(path).then((names) => encoder.encode(JSON.stringify(names)));
    case 'lstat':
      return files.lstat(path).then((s) => encoder.encode(JSON.stringify(s)));
    case 'read': {
      const b = bytes();
      return checked(op, path, { offset: numberAt(b, 0), length: numberAt(b, 1) }, files.maxFileBytes).then((n) => files.read(path, n.offset!, n.length!));
    }
    case 'write': {
      const b = bytes();
      return checked(op, path, { offset: numberAt(b, 0) }, Number.MAX_SAFE_INTEGER).then((n) => files.write(path, n.offset!, b.subarray(8))).then(() => new Uint8Array(0));
    }
    case 'truncate': {
      const b = bytes();
      return checked(op, path, { length: numberAt(b, 0) }, files.maxFileBytes).then((n) => files.truncate(path, n.length!)).then(() => new Uint8Array(0));
    }
    case 'mkdir':
      return files.mkdir(path, bytes()[0] === 1).then(() => new Uint8Array(0));
    case 'unlink':
      return files.unlink(path).then(() => new Uint8Array(0));
    case 'rmdir':
      return files.rmdir(path).then(() => new Uint8Array(0));
    case 'rename':
      return files.rename(path, decoder.decode(bytes())).then(() => new Uint8Array(0));
  }
}

/** A FileSystemError for an offset or length that is not a whole number in [0, max], else undefined. */
function badNumber(op: Op, path: string, values: Record<string, number>, max: number): FileSystemError | undefined {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isSafeInteger(v) || v < 0) return new FileSystemError('EBBRT_FS_INVALID_ARGUMENT', op, path, `${name} must be a whole number >= 0 (got ${v})`);
    if (name === 'length' && v > max) return new FileSystemError('EBBRT_FS_TOO_LARGE', op, path, `${name} ${v} exceeds maxFileBytes (${max})`);
  }
  return undefined;
}

/** The same check where a request is served (a remote node's numbers are not trusted). */
function checked(op: Op, path: string, values: Record<string, number>, max: number): Promise<Record<string, number>> {
  const bad = badNumber(op, path, values, max);
  return bad === undefined ? Promise.resolve(values) : Promise.reject(bad);
}

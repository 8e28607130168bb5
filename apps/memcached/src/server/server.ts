import { IOBuf, type NetworkManager, type TcpConnection, type TcpListener } from '@ebbrt/interfaces';
import { ConnectionCounters, type ProtocolContext } from '../protocol/context.js';
import { MemcachedStore } from '../store/index.js';
import { MemcachedConnection, type ConnectionHost } from './connection.js';
import { DEFAULT_MAX_ITEM_SIZE, DEFAULT_MEMORY_LIMIT, DEFAULT_PORT, PRESSURE_CHECK_INTERVAL, VERSION, type MemcachedOptions, type MemoryPressureProbe } from './options.js';

/** A running memcached server. */
export interface MemcachedServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** The node-wide store every connection shares. */
  readonly store: MemcachedStore;
  /** Store counters plus connection counters (what `stats` reports). */
  readonly stats: ProtocolContext;
  /** Open connections. */
  readonly connections: number;
  /** Stops listening and closes every connection. */
  close(): void;
}

const OOM_ASCII = 'SERVER_ERROR out of memory\r\n';

/**
 * Everything of a memcached server except the listener: the store, the
 * counters, and a handler factory for accepted connections. Tests drive it
 * with in-memory connections; {@link startMemcached} puts it on a NetworkManager.
 */
export class MemcachedService implements ConnectionHost {
  readonly store: MemcachedStore;
  readonly ctx: ProtocolContext;
  private readonly live = new Set<MemcachedConnection>();
  private readonly allocator: (size: number) => IOBuf;
  private readonly logLine: (line: string) => void;
  // Allocated up front so that "out of memory" can always be said.
  private readonly oomAscii = IOBuf.copyOf(OOM_ASCII);
  private readonly oomBinary = binaryOutOfMemory();
  private closed = false;
  private readonly pressure: MemoryPressureProbe | undefined;
  private sinceCheck = 0;

  constructor(options: MemcachedOptions = {}) {
    const nowMs = options.nowMs ?? Date.now;
    this.allocator = options.allocate ?? ((size: number) => IOBuf.allocate(size));
    this.logLine = options.log ?? (() => {});
    this.pressure = options.memoryPressure;
    this.store = new MemcachedStore({
      memoryLimit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      maxItemSize: options.maxItemSize ?? DEFAULT_MAX_ITEM_SIZE,
      nowMs,
      allocate: this.allocator,
    });
    this.ctx = {
      store: this.store,
      connections: new ConnectionCounters(),
      version: VERSION,
      threads: options.threads ?? 1,
      pid: typeof process === 'object' ? process.pid : 0,
      startedMs: nowMs(),
      verbosity: 0,
    };
  }

  /** The TcpHandler for a newly accepted connection. */
  accept(tcp: TcpConnection): MemcachedConnection {
    const connection = new MemcachedConnection(this, tcp);
    this.live.add(connection);
    this.ctx.connections.curr_connections++;
    this.ctx.connections.total_connections++;
    return connection;
  }

  get connections(): number {
    return this.live.size;
  }

  // ------------------------------------------------------------ ConnectionHost

  allocate(size: number): IOBuf {
    return this.allocator(size);
  }

  onOutOfMemory(bytes: number): void {
    this.store.shed(bytes);
  }

  outOfMemoryReply(binary: boolean): IOBuf {
    return (binary ? this.oomBinary : this.oomAscii).clone();
  }

  received(): void {
    const pressure = this.pressure;
    if (pressure === undefined || ++this.sinceCheck < PRESSURE_CHECK_INTERVAL) return;
    this.sinceCheck = 0;
    const short = pressure.reserveBytes - pressure.freeBytes();
    if (short <= 0) return;
    // Give back twice the shortfall: freed buffers first return to per-core caches, so the free
    // figure lags what eviction released.
    this.store.counters.pressure_evictions += this.store.shed(2 * short) > 0 ? 1 : 0;
  }

  forget(connection: MemcachedConnection): void {
    if (this.live.delete(connection)) this.ctx.connections.curr_connections--;
  }

  log(line: string): void {
    this.logLine(line);
  }

  /** Closes every connection and empties the store. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.live]) c.shutdown();
    this.store.clear();
    this.oomAscii.release();
    this.oomBinary.release();
  }
}

/**
 * Starts memcached on `nm`, written only against the NetworkManager interface
 * (so it runs on the hosted and the native stack alike). Call it inside an
 * event on the core that should own the listener; resolves once bound.
 *
 * There is one store per server, shared by the connections of every core
 * (like EbbRT's memcached): the runtime is non-preemptive, so each request
 * runs to completion and no locking is needed.
 */
export async function startMemcached(nm: NetworkManager, options: MemcachedOptions = {}): Promise<MemcachedServer> {
  const service = new MemcachedService(options);
  const listener: TcpListener = nm.tcpListen(options.port ?? DEFAULT_PORT, (tcp) => service.accept(tcp));
  try {
    await listener.listening;
  } catch (error) {
    service.close();
    throw error;
  }
  return {
    get port() {
      return listener.port;
    },
    store: service.store,
    stats: service.ctx,
    get connections() {
      return service.connections;
    },
    close() {
      listener.close();
      service.close();
    },
  };
}

/** A binary "out of memory" response (opcode and opaque unknown: 0). */
function binaryOutOfMemory(): IOBuf {
  const text = 'Out of memory';
  const b = new Uint8Array(24 + text.length);
  b[0] = 0x81;
  b[7] = 0x82;
  b[11] = text.length;
  for (let i = 0; i < text.length; i++) b[24 + i] = text.charCodeAt(i);
  return IOBuf.copyOf(b);
}

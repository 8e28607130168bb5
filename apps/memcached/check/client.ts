/**
 * The checker's client node: a few TCP connections to the memcached node, each issuing the seeded
 * workload over keys of its own in pipelined batches, checking every reply against the model as
 * it arrives; then a fresh connection reads every key back (no acknowledged write lost). It logs
 * what ebbrt.invariants.ts checks: each wrong reply (`memcheck: wrong reply ...`), a dropped
 * connection, and the closing `memcheck done ...` line.
 */
import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type NetworkManager, type TcpConnection, type Timer } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { StoreModel, type Op, type Reply } from './model.js';
import { ReplyParser } from './replies.js';
import { encode, expectsValues, nextOp, Rng } from './workload.js';

export interface ClientOptions {
  server: string;
  port: number;
  connections: number;
  keysPerConnection: number;
  opsPerConnection: number;
  seed: number;
}

const latin1 = new TextDecoder('latin1');
/** How many times (and how often) a connection that is refused (the server not listening yet) is retried. */
const CONNECT_TRIES = 50;
const CONNECT_RETRY_US = 2_000;

/** One TCP connection that sends request batches and hands back their replies in order. */
class Conn {
  private readonly parser = new ReplyParser();
  private inflight: Op[] = [];
  private done: (() => void) | undefined;
  private readonly replies: Reply[] = [];
  failure: string | undefined;
  tcp!: TcpConnection;

  constructor(readonly name: string) {}

  receive(data: IOBuf): void {
    const text = latin1.decode(data.toUint8Array());
    data.releaseChain();
    for (const r of this.parser.push(text, (i) => expectsValues(this.inflight[this.replies.length + i]!))) this.replies.push(r);
    if (this.replies.length >= this.inflight.length) this.done?.();
  }

  fail(why: string): void {
    this.failure ??= why;
    this.done?.();
  }

  /** Sends `ops` pipelined (one write) and resolves with their replies, or undefined if the connection died. */
  batch(ops: Op[], wire: string): Promise<Reply[] | undefined> {
    this.inflight = ops;
    this.replies.length = 0;
    return new Promise((resolve) => {
      this.done = () => {
        if (this.failure === undefined && this.replies.length < ops.length) return;
        this.done = undefined;
        resolve(this.failure === undefined ? this.replies.splice(0, ops.length) : undefined);
      };
      this.tcp.sendQueued(IOBuf.copyOf(wire));
    });
  }

  get stray(): number {
    return this.parser.pending + this.replies.length;
  }
}

async function open(nm: NetworkManager, timer: Timer, o: ClientOptions, name: string): Promise<Conn> {
  for (let attempt = 1; ; attempt++) {
    const conn = new Conn(name);
    const up = await new Promise<string | undefined>((resolve) => {
      conn.tcp = nm.tcpConnect(o.server, o.port, {
        connected: () => resolve(undefined),
        receive: (_c, data) => conn.receive(data),
        closed: () => conn.fail(`${name}: the server closed the connection`),
        aborted: (_c, reason) => {
          resolve(reason.message);
          conn.fail(`${name}: connection aborted: ${reason.message}`);
        },
      });
    });
    if (up === undefined) return conn;
    if (attempt >= CONNECT_TRIES || !/refused|ECONNREFUSED|reset/i.test(up)) throw new Error(`${name}: cannot connect to ${o.server}:${o.port}: ${up}`);
    await timer.sleep(CONNECT_RETRY_US);
  }
}

/** Runs the workload; resolves once every connection has finished (or died) and the read-back is done. */
export async function runClient(ctx: AppContext, o: ClientOptions): Promise<void> {
  const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref();
  const timer = new EbbRef<Timer>(SystemEbbIds.Timer).deref();
  const model = new StoreModel();
  let requests = 0;
  let wrong = 0;
  const report = (where: string, op: Op, why: string): void => {
    wrong++;
    if (wrong <= 3) ctx.log(`memcheck: wrong reply ${where} to ${describeOp(op)}: ${why}`);
  };
  const drive = async (c: number): Promise<void> => {
    const rng = new Rng(o.seed * 31 + c);
    const keys = Array.from({ length: o.keysPerConnection }, (_, i) => `k${c}-${i}`);
    const conn = await open(nm, timer, o, `connection ${c}`);
    let pending: Op | undefined;
    for (let sent = 0; sent < o.opsPerConnection; ) {
      // A batch of 1..8 pipelined requests. A cas goes first in its batch, once every earlier
      // reply is in, so its unique is the one the model last saw.
      const ops: Op[] = [];
      let wire = '';
      const depth = 1 + rng.int(8);
      while (ops.length < depth && sent + ops.length < o.opsPerConnection) {
        const op = pending ?? nextOp(rng, keys);
        pending = undefined;
        if (op.kind === 'cas' && ops.length > 0) {
          pending = op;
          break;
        }
        ops.push(op);
        wire += encode(op, op.kind === 'cas' ? model.casFor(op) : '');
      }
      const replies = await conn.batch(ops, wire);
      if (replies === undefined) break;
      ops.forEach((op, i) => {
        const why = model.apply(op, replies[i]!);
        if (why !== undefined) report(`on connection ${c} (request ${sent + i + 1})`, op, why);
      });
      sent += ops.length;
      requests += ops.length;
    }
    if (conn.failure !== undefined) ctx.log(`memcheck: ${conn.failure}`);
    else if (conn.stray > 0) ctx.log(`memcheck: connection ${c}: ${conn.stray} bytes or replies nobody asked for`);
    conn.tcp.close();
  };
  await Promise.all(Array.from({ length: o.connections }, (_, c) => drive(c)));
  // Read-back on a fresh connection: every write the server acknowledged is still there.
  const keys = [...Array.from({ length: o.connections }, (_, c) => Array.from({ length: o.keysPerConnection }, (_, i) => `k${c}-${i}`)).flat()];
  const check = await open(nm, timer, o, 'read-back');
  let lost = 0;
  for (const key of keys) {
    const op: Op = { kind: 'get', keys: [key] };
    const replies = await check.batch([op], encode(op, ''));
    if (replies === undefined) {
      ctx.log(`memcheck: ${check.failure}`);
      break;
    }
    const why = model.apply(op, replies[0]!);
    if (why !== undefined) {
      lost++;
      if (lost <= 3) ctx.log(`memcheck: lost write: read-back ${why}`);
    }
  }
  check.tcp.close();
  ctx.log(`memcheck done: ${requests} requests, ${wrong} wrong replies, ${keys.length} keys read back, ${lost} lost`);
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'get':
      return `get ${op.keys.join(' ')}`;
    case 'incr':
    case 'decr':
      return `${op.kind} ${op.key} ${op.delta}`;
    case 'gets':
    case 'delete':
      return `${op.kind} ${op.key}`;
    case 'cas':
      return `cas ${op.key} (${op.value.length} bytes${op.stale ? ', stale unique' : ''})`;
    default:
      return `${op.kind} ${op.key} (${op.value.length} bytes)`;
  }
}

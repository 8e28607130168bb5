import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type Messenger, type Timer } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { readCheckpoint, type RetryCounts } from './checkpoint.js';
import { readJournal } from './journal.js';
import { COUNTER, COUNTER_NODES, text } from './protocol.js';

/** How long the driver waits for a reply before it resends (µs of the node's clock). */
const RETRY_US = 8_000;
const ADDS = 60;
/** Adds in flight at once: the counter nodes see concurrent adds, as a real client's would be. */
const WINDOW = 4;

/**
 * The driver: 60 adds (n = 1..60) spread over the counter nodes, 4 in flight at a time, each resent
 * until acked; a read of every node after every 10th add; then `done`. It logs what the
 * invariants check: every read with the sums acked and sent to that node so far, and at the end
 * each node's acked sum and add count, and what each node's checkpoints in the front-end's
 * GlobalIdMap add up to (read once every node is done: every add was acked, so durable).
 */
export async function drive(ctx: AppContext): Promise<void> {
  const messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  const timer = new EbbRef<Timer>(SystemEbbIds.Timer).deref();
  const waiting = new Map<number, (reply: string) => void>();
  messenger.register(COUNTER, (_from, _type, message) => {
    const reply = text(message);
    const id = Number(reply.split(' ')[1]);
    const resolve = waiting.get(id);
    waiting.delete(id);
    resolve?.(reply);
  });
  let nextId = 1;
  /** Sends until answered. A send that fails (the connection is down) is retried like a lost one. */
  const request = (node: number, op: string, arg = ''): Promise<string> => {
    const id = nextId++;
    return new Promise<string>((resolve) => {
      const transmit = (): void => void messenger.send(node, COUNTER, 0, IOBuf.copyOf(`${op} ${id} ${arg}`)).catch(() => undefined);
      const retry = timer.start(transmit, RETRY_US, true);
      waiting.set(id, (reply) => {
        timer.stop(retry);
        resolve(reply);
      });
      transmit();
    });
  };
  const acked = new Map<number, number>(COUNTER_NODES.map((n) => [n, 0]));
  const sent = new Map<number, number>(COUNTER_NODES.map((n) => [n, 0]));
  const count = new Map<number, number>(COUNTER_NODES.map((n) => [n, 0]));
  const inflight = new Set<Promise<void>>();
  for (let n = 1; n <= ADDS; n++) {
    const node = COUNTER_NODES[n % COUNTER_NODES.length]!;
    sent.set(node, sent.get(node)! + n);
    count.set(node, count.get(node)! + 1);
    const p: Promise<void> = request(node, 'add', String(n)).then(() => {
      acked.set(node, acked.get(node)! + n);
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size >= WINDOW) await Promise.race(inflight);
    if (n % 10 === 0) {
      for (const node of COUNTER_NODES) {
        const low = acked.get(node)!;
        const reply = await request(node, 'read');
        ctx.log(`read node ${node} value ${reply.split(' ')[2]} acked ${low} sent ${sent.get(node)}`);
      }
    }
  }
  await Promise.all(inflight);
  const cores = new Map<number, number>();
  for (const node of COUNTER_NODES) cores.set(node, Number((await request(node, 'done')).split(' ')[3]));
  const retries: RetryCounts = { refused: 0, unavailable: 0 };
  for (const node of COUNTER_NODES) {
    let sum = 0;
    for (let core = 0; core < cores.get(node)!; core++) sum += await readCheckpoint(node, core, retries);
    ctx.log(`checkpoint node ${node} sum ${sum}`);
  }
  ctx.log(`checkpoint reads retried: refused ${retries.refused} unavailable ${retries.unavailable}`);
  const fileRetries = { refused: 0 };
  for (const node of COUNTER_NODES) {
    const j = await readJournal(node, fileRetries);
    ctx.log(`journal node ${node} sum ${j.sum} distinct ${j.distinct} records ${j.records}`);
  }
  ctx.log(`journal reads retried ${fileRetries.refused}`);
  ctx.log(`driver done ${COUNTER_NODES.map((node) => `node ${node} acked ${acked.get(node)} adds ${count.get(node)}`).join(', ')}`);
}

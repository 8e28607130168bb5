import { EbbRef, MulticoreEbb } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type EventManager, type Messenger } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { CheckpointWriter, durableCount, type DurableCount, type RetryCounts } from './checkpoint.js';
import { JournalWriter } from './journal.js';
import { COUNTER, text, type Bug } from './protocol.js';

/**
 * A counter node: the distributed counter's per-core reps (EbbRT's MulticoreEbb: each core adds
 * only to its own rep; a read gathers them). `add <id> <n>` is applied once per id (a retried add
 * is acked again, not applied again) on core id mod cores, and acked once applied; `read <id>`
 * answers the sum once a marker has run on every core (a core's mailbox is FIFO, so every add
 * before the read is in); `done <id>` logs the node's total for the invariants.
 *
 * An add is acked only once it is durable: each core's count is checkpointed to the front-end's
 * GlobalIdMap (checkpoint.ts), and the ack waits for the set that holds it. A retried add that
 * was applied but is not yet durable gets no ack (the original's ack follows, or the next retry).
 * It is also appended to the node's journal file on the front-end (journal.ts) before the ack; an
 * add that arrives before the journal is open is not applied (the driver resends it).
 *
 * The planted `lost-update` bug reads the rep's count on the receiving core and writes count + n
 * back on the rep's core later: two adds for one core in flight at once lose one of them.
 */
export function serveCounter(ctx: AppContext, bug: Bug): void {
  const messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  const em = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  const counter = MulticoreEbb.create<DurableCount>(durableCount, { node: ctx.node });
  const root = MulticoreEbb.rootOf(counter, ctx.node);
  const applied = new Set<number>();
  /** Adds whose checkpoint the front-end holds: only these are acked again when retried. */
  const durable = new Set<number>();
  const retries: RetryCounts = { refused: 0, unavailable: 0 };
  const checkpoints = new CheckpointWriter(ctx.node.id, retries, bug === 'stale-checkpoint');
  const journal = new JournalWriter(ctx.node.id, bug === 'lost-journal');
  journal.open().catch((e: unknown) => ctx.log(`journal: cannot open ${e instanceof Error ? e.message : String(e)}`));
  const reply = (to: number, body: string): void => void messenger.send(to, COUNTER, 0, IOBuf.copyOf(body)).catch(() => undefined);
  /** Runs `then` once every core has run everything queued on it before now. */
  const afterEveryCore = (then: (sum: number) => void): void => {
    let left = ctx.node.numCores;
    for (let c = 0; c < ctx.node.numCores; c++) {
      em.deref().spawnRemote(() => {
        if (--left > 0) return;
        let sum = 0;
        root.forEachRep((rep) => (sum += rep.count));
        then(sum);
      }, c);
    }
  };
  messenger.register(COUNTER, (from, _type, message) => {
    const [op, idText, arg] = text(message).split(' ');
    const id = Number(idText);
    if (op === 'add') {
      if (!journal.ready) return;
      if (applied.has(id)) {
        if (durable.has(id)) reply(from, `ok ${id}`);
        return;
      }
      applied.add(id);
      const n = Number(arg);
      const core = id % ctx.node.numCores;
      // Acked once both the checkpoint and the journal hold it.
      let pending = 2;
      const acked = (): void => {
        if (--pending > 0) return;
        durable.add(id);
        reply(from, `ok ${id}`);
      };
      if (bug === 'lost-update') {
        const before = root.repOn(core)?.count ?? 0;
        em.deref().spawnRemote(() => {
          const rep = counter.deref();
          rep.count = before + n;
          checkpoints.afterAdd(core, rep, acked);
          journal.append(id, n, acked);
        }, core);
      } else {
        em.deref().spawnRemote(() => {
          const rep = counter.deref();
          rep.count += n;
          checkpoints.afterAdd(core, rep, acked);
          journal.append(id, n, acked);
        }, core);
      }
    } else if (op === 'read') afterEveryCore((sum) => reply(from, `value ${id} ${sum}`));
    else if (op === 'done') {
      afterEveryCore((sum) => {
        ctx.log(`node ${ctx.node.id} total ${sum} applied ${applied.size} checkpoint retries refused ${retries.refused} unavailable ${retries.unavailable} journal retries ${journal.retries.refused}`);
        reply(from, `ok ${id} cores ${ctx.node.numCores}`);
      });
    }
  });
  ctx.log('counter up');
}

import { EbbRef, MulticoreEbb } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type EventManager, type Messenger } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { COUNTER, text, type Bug } from './protocol.js';

interface Rep {
  count: number;
}

/**
 * A counter node: the distributed counter's per-core reps (EbbRT's MulticoreEbb: each core adds
 * only to its own rep; a read gathers them). `add <id> <n>` is applied once per id (a retried add
 * is acked again, not applied again) on core id mod cores, and acked once applied; `read <id>`
 * answers the sum once a marker has run on every core (a core's mailbox is FIFO, so every add
 * before the read is in); `done <id>` logs the node's total for the invariants.
 *
 * The planted `lost-update` bug reads the rep's count on the receiving core and writes count + n
 * back on the rep's core later: two adds for one core in flight at once lose one of them.
 */
export function serveCounter(ctx: AppContext, bug: Bug): void {
  const messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  const em = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  const counter = MulticoreEbb.create<Rep>(() => ({ count: 0 }), { node: ctx.node });
  const root = MulticoreEbb.rootOf(counter, ctx.node);
  const applied = new Set<number>();
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
      if (applied.has(id)) return reply(from, `ok ${id}`);
      applied.add(id);
      const n = Number(arg);
      const core = id % ctx.node.numCores;
      if (bug === 'lost-update') {
        const before = root.repOn(core)?.count ?? 0;
        em.deref().spawnRemote(() => {
          counter.deref().count = before + n;
          reply(from, `ok ${id}`);
        }, core);
      } else {
        em.deref().spawnRemote(() => {
          counter.deref().count += n;
          reply(from, `ok ${id}`);
        }, core);
      }
    } else if (op === 'read') afterEveryCore((sum) => reply(from, `value ${id} ${sum}`));
    else if (op === 'done') {
      afterEveryCore((sum) => {
        ctx.log(`node ${ctx.node.id} total ${sum} applied ${applied.size}`);
        reply(from, `ok ${id}`);
      });
    }
  });
  ctx.log('counter up');
}

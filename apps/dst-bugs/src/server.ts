import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type Messenger, type Timer } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { COUNTER, text, type Bug } from './protocol.js';

/**
 * The counter: `add <id> <n>` adds n and acks, `read <id>` answers the total, `done <id>` logs
 * the server's state for the invariants. Every reply names the server's boot. An add is not idempotent, so the fixed server
 * remembers which ids it applied; with bug `retry` it does not, and a client's retry of an add
 * whose ack was only slow is applied twice.
 */
export function serve(ctx: AppContext, bug: Bug): void {
  const messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  // Which life of the server answers: its clock at boot. A server that crashed and restarted
  // starts from nothing (fresh memory), so the client keeps its sums per boot.
  const boot = Math.floor(new EbbRef<Timer>(SystemEbbIds.Timer).deref().now());
  let total = 0;
  const applied = new Set<number>();
  messenger.register(COUNTER, (from, _type, message) => {
    const [op, idText, arg] = text(message).split(' ');
    const id = Number(idText);
    if (op === 'add') {
      if (bug === 'retry' || !applied.has(id)) total += Number(arg);
      applied.add(id);
    } else if (op === 'done') ctx.log(`server total ${total} boot ${boot}`);
    const reply = op === 'read' ? `value ${id} ${total} ${boot}` : `ok ${id} _ ${boot}`;
    // A lost reply is the client's to retry; a failed one is logged (a crashed client: the error names it).
    void messenger.send(from, COUNTER, 0, IOBuf.copyOf(reply)).catch((e: unknown) => ctx.log(`reply ${id} to node ${from} failed: ${e instanceof Error ? e.message : String(e)}`));
  });
  ctx.log(`server up boot ${boot}`);
}

import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type Messenger, type Timer } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { CLIENT, COUNTER, text, type Bug } from './protocol.js';

/** How often an unanswered announcement is sent again (µs), and how many times at most. */
const ANNOUNCE_EVERY_US = 50_000;
const ANNOUNCE_TRIES = 40;

/**
 * The counter: `add <id> <n>` adds n and acks, `read <id>` answers the total, `done <id>` logs
 * the server's state for the invariants. Every reply names the server's boot. An add is not idempotent, so the fixed server
 * remembers which ids it applied; with bug `retry` it does not, and a client's retry of an add
 * whose ack was only slow is applied twice. With `announce` the server sends `up 0 _ <boot>`
 * to the client at boot (the client ignores it: no request of its has id 0), retrying a send
 * that failed.
 */
export function serve(ctx: AppContext, bug: Bug, announce = false): void {
  const messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  // Which life of the server answers: its clock at boot. A server that crashed and restarted
  // starts from nothing (fresh memory), so the client keeps its sums per boot.
  const timer = new EbbRef<Timer>(SystemEbbIds.Timer).deref();
  const boot = Math.floor(timer.now());
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
  if (announce) {
    let tries = 0;
    const send = (): void => {
      if (++tries > ANNOUNCE_TRIES) return;
      messenger.send(CLIENT, COUNTER, 0, IOBuf.copyOf(`up 0 _ ${boot}`)).then(
        () => ctx.log(`server announced boot ${boot}`),
        () => void timer.start(send, ANNOUNCE_EVERY_US),
      );
    };
    send();
  }
}

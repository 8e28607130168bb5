import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type Messenger, type Timer, type TimerHandle } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { COUNTER, SERVER, text, type Bug } from './protocol.js';

/** How long the client waits for a reply before it retries (µs of the node's clock). */
const TIMEOUT_US = 8_000;
const OPS = 30;
/** The adder's pause between two adds: the run lasts long enough for a partition to hit it. */
const THINK_US = 1_000;
/** The reader's pause between two reads of the counter. */
const READ_EVERY_US = 20_000;
/**
 * How long a read waits before the `stale-read` client decides the server is partitioned away
 * and answers from its cache. TCP's retransmissions back off 20, 40, 80, 160 ms: lost frames
 * alone reach 500 ms only if one segment is lost five times running (200 ms was reached: seed
 * 145 of 200 with the link faults alone), while the partition lasts longer than that.
 */
const STALE_AFTER_US = 500_000;

/**
 * The client: an adder makes 30 adds (n = 1..30, one every 1 ms), while a reader (a dashboard)
 * reads the counter every 20 ms; then `done`. Each request is retried on timeout until answered.
 * The planted bugs live here and in the server:
 * - `stale-read`: a read unanswered for 500 ms answers the last value read instead (as a client
 *   that "serves from cache during a partition" does): the read misses adds acked before it.
 * - `late-timeout`: the reply to a retried request stops its retry timer but not its deadline,
 *   which fires after the reply has come and reports the request failed.
 */
export async function client(ctx: AppContext, bug: Bug): Promise<void> {
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
  // Which life of the client this is (its clock at start, as the server's boot): a client that
  // crashed and restarted numbers its requests afresh, so ids carry the life and stay unique for
  // the server's dedupe. A first life at time 0 numbers them 1, 2, ...
  const session = Math.floor(timer.now());
  let nextId = session * 1000 + 1;
  /** Sends until answered; `onTimeout`, asked at each retry, may answer instead (the stale-read bug). */
  const request = (op: string, arg: string, onTimeout?: () => string | undefined): Promise<string> => {
    const id = nextId++;
    return new Promise<string>((resolve) => {
      let answered = false;
      let handle: TimerHandle | undefined;
      let deadline: TimerHandle | undefined;
      // A send that fails (the connection is down) is retried by the timer like a lost one.
      // The error names the node (a crashed server: `node 2: connection to node 2 ... was lost`).
      const transmit = (): void =>
        void messenger.send(SERVER, COUNTER, 0, IOBuf.copyOf(`${op} ${id} ${arg}`)).catch((e: unknown) => ctx.log(`send ${id} failed: ${e instanceof Error ? e.message : String(e)}`));
      /** One repeating retry timer per request, stopped by the reply. */
      const arm = (): void => {
        const mine: TimerHandle = timer.start(() => {
          const instead = onTimeout?.();
          if (instead !== undefined) finish(instead);
          else {
            transmit();
            // A request that needed a retry gets a deadline, three timeouts on, past which a
            // caller would be told it failed (unanswered by then, it simply keeps retrying).
            deadline ??= timer.start(() => {
              if (answered) ctx.log(`request ${id} failed: timed out`);
            }, 3 * TIMEOUT_US);
          }
        }, TIMEOUT_US, true);
        handle = mine;
      };
      const finish = (reply: string): void => {
        if (answered) return;
        answered = true;
        waiting.delete(id);
        if (handle !== undefined) timer.stop(handle);
        // The late-timeout bug: the reply stops the retries but forgets the deadline.
        if (deadline !== undefined && bug !== 'late-timeout') timer.stop(deadline);
        resolve(reply);
      };
      waiting.set(id, finish);
      transmit();
      arm();
    });
  };
  /** The sum of the adds each boot of the server acked: a restarted server starts from 0. */
  const ackedBy = new Map<string, number>();
  /** The server's boot that answered last (its restart shows as a new one). */
  let boot = '';
  const answeredBy = (reply: string): void => {
    const from = reply.split(' ')[3] ?? '';
    if (from !== boot && boot !== '') ctx.log(`server restarted: boot ${boot} -> ${from}`);
    boot = from;
  };
  ctx.log(`client up session ${session}`);
  answeredBy(await request('ping', ''));
  let acked = 0;
  let adding = true;
  // The reader checks each value against the adds acked (by the boot that answers) before the
  // read was sent: it must see all of them (and may see adds in flight, not yet acked).
  const reader = (async (): Promise<void> => {
    let last = { value: 0, boot };
    while (adding) {
      const before = new Map(ackedBy);
      const sentAt = timer.now();
      const cached = last;
      const stale = bug === 'stale-read' ? () => (timer.now() - sentAt >= STALE_AFTER_US ? `value 0 ${cached.value} ${cached.boot}` : undefined) : undefined;
      const [, , value = '', from = ''] = (await request('read', '', stale)).split(' ');
      ctx.log(`read ${value} after acked total ${before.get(from) ?? 0} (server boot ${from})`);
      last = { value: Number(value), boot: from };
      await timer.sleep(READ_EVERY_US);
    }
  })();
  for (let n = 1; n <= OPS; n++) {
    answeredBy(await request('add', String(n)));
    acked += n;
    ackedBy.set(boot, (ackedBy.get(boot) ?? 0) + n);
    ctx.log(`acked add ${n} (acked total ${acked})`);
    await timer.sleep(THINK_US);
  }
  adding = false;
  await reader;
  answeredBy(await request('done', ''));
  for (const [b, sum] of ackedBy) ctx.log(`client acked ${sum} to server boot ${b}`);
  ctx.log(`client done acked total ${acked}`);
}

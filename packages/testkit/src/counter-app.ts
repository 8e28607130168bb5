/**
 * The distributed counter's back-end entry (an app module's source text): the counter's type is
 * registered with the Messenger, and its root and per-core reps are made by the first message
 * that reaches the node. `add N` adds on core floor(N/4) mod cores; `total` answers the sum once
 * a marker has run on every core. Shared by the runtime's and the platforms' distributed tests.
 *
 * `lastLog` is the JavaScript expression of the node's last boot line (e.g. its pid or job id).
 */
export function counterNodeMain(lastLog = "'pid ' + process.pid"): string {
  return `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, MulticoreRoot } from '@ebbrt/core-translation';
export const COUNTER = 0x434e5452;
export function main(ctx) {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const em = new EbbRef(SystemEbbIds.EventManager);
  messenger.registerType(COUNTER, (ebbId) => {
    const root = new MulticoreRoot(ctx.node, ebbId, undefined, (core) => {
      ctx.log('rep made on core ' + core.index);
      return { count: 0 };
    });
    ctx.node.install(ebbId, root);
    const counter = new EbbRef(ebbId);
    return (from, type, message) => {
      const text = new TextDecoder().decode(message.toUint8Array());
      message.releaseChain();
      const [op, arg] = text.split(' ');
      if (op === 'add') {
        const n = Number(arg);
        // Spread the work over the node's cores: each core adds to its own rep.
        em.deref().spawnRemote(() => { counter.deref().count += n; }, Math.floor(n / 4) % ctx.node.numCores);
      } else if (op === 'total') {
        // A core's mailbox is FIFO: once a marker has run on every core, every add has too.
        const markers = [];
        for (let c = 0; c < ctx.node.numCores; c++) {
          const done = em.deref().promise();
          em.deref().spawnRemote(() => done.resolve(), c);
          markers.push(done.promise);
        }
        Promise.all(markers).then(() => {
          let sum = 0;
          root.forEachRep((rep) => (sum += rep.count));
          return messenger.send(from, ebbId, COUNTER, IOBuf.copyOf('total ' + sum));
        });
      }
    };
  });
  ctx.log('counter type registered');
  ctx.log(${lastLog});
}
`;
}

/**
 * A front-end entry for the counter (module source text): `body` runs inside `main(ctx)` with
 * `ids` (the back-ends), `messenger`, `timer`, `add(id, n)` (a send of `add n`), `askTotal(id)`
 * (a send of `total`; the answer lands in `totals`), `gather(targets)` (asks each target for its total; resolves with the map of totals once all
 * answered) and `totals` (every total that came back) in scope.
 */
export function counterFrontendMain(body: string): string {
  return `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const COUNTER = 0x434e5452;
export async function main(ctx) {
  const ids = await ctx.backends();
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  const counterId = staticEbbId('test.distributed-counter');
  const totals = new Map();
  let onTotal = () => {};
  messenger.register(counterId, (from, type, message) => {
    totals.set(from, Number(new TextDecoder().decode(message.toUint8Array()).split(' ')[1]));
    message.releaseChain();
    onTotal();
  });
  const add = (id, n) => messenger.send(id, counterId, COUNTER, IOBuf.copyOf('add ' + n));
  const askTotal = (id) => messenger.send(id, counterId, COUNTER, IOBuf.copyOf('total'));
  async function gather(targets) {
    const all = new Promise((resolve) => (onTotal = () => targets.every((id) => totals.has(id)) && resolve()));
    for (const id of targets) await askTotal(id);
    await all;
    return totals;
  }
${body}
}
`;
}

export interface ExactCounterOptions {
  /** Adds 1..adds (default 400). */
  adds?: number;
  /** Source run after the front-end learns its back-ends, before the first add. */
  before?: string;
  /** Source run after the totals are logged. */
  after?: string;
}

/**
 * The exact-totals front-end: adds 1..`adds` spread over the back-ends, gathers every total and
 * logs `node <id> total <t> expected <e>` for each.
 */
export function exactCounterFrontend({ adds = 400, before = '', after = '' }: ExactCounterOptions = {}): string {
  return counterFrontendMain(`${before}  const expected = new Map(ids.map((id) => [id, 0]));
  for (let i = 1; i <= ${adds}; i++) {
    const node = ids[i % ids.length];
    expected.set(node, expected.get(node) + i);
    await add(node, i);
  }
  await gather(ids);
  for (const id of ids) ctx.log('node ' + id + ' total ' + totals.get(id) + ' expected ' + expected.get(id));
${after}`);
}

export interface KillMidRunOptions {
  /** The node the test kills once the front-end logs `streaming`; the others are totalled. */
  killed: number;
  /** Rounds of `add i` to every back-end (default 300). */
  rounds?: number;
  /** Simulation µs slept every 10 rounds. */
  pauseUs: number;
  /** Simulation µs slept after the stream (a platform that learns of the death by polling). */
  settleUs?: number;
}

/**
 * The kill-mid-run front-end: streams `add i` to every node, logs `streaming` first (the test's
 * cue to kill `killed`), counts the sends that failed (`errors <n> first <message>`), then logs
 * each survivor's total against what was delivered to it.
 */
export function killMidRunFrontend(o: KillMidRunOptions): string {
  return counterFrontendMain(`  const delivered = new Map(ids.map((id) => [id, 0]));
  const errors = [];
  ctx.log('streaming');
  for (let i = 1; i <= ${o.rounds ?? 300}; i++) {
    for (const id of ids) {
      try {
        await add(id, i);
        if (id !== ${o.killed}) delivered.set(id, delivered.get(id) + i);
      } catch (e) {
        errors.push(id + ': ' + e.message);
      }
    }
    if (i % 10 === 0) await timer.sleep(${o.pauseUs});
  }
${o.settleUs !== undefined ? `  await timer.sleep(${o.settleUs});\n` : ''}  ctx.log('errors ' + errors.length + ' first ' + errors[0]);
  const survivors = ids.filter((id) => id !== ${o.killed});
  await gather(survivors);
  for (const id of survivors) ctx.log('node ' + id + ' total ' + totals.get(id) + ' expected ' + delivered.get(id));`);
}

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

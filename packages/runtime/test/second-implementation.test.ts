/**
 * A second Messenger and a second NetworkManager, written against @ebbrt/interfaces alone
 * (test/second-impl/), are linked and run by the runtime exactly as the house packages are; one
 * that lacks a member the runtime needs is refused at boot with that member named.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { tempApp } from './temp-app.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MINI_MESSENGER = join(HERE, 'second-impl', 'mini-messenger.ts');
const MINI_NM = join(HERE, 'second-impl', 'mini-network-manager.ts');

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

const PING = `import { IOBuf, SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
export const PING_EBB = staticEbbId('test.second-impl.ping');
`;

const nodeMain = `${PING}
export function main(ctx) {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  messenger.register(PING_EBB, (from, type, message) => {
    const text = new TextDecoder().decode(message.toUint8Array());
    message.releaseChain();
    void messenger.send(from, PING_EBB, type + 1, IOBuf.copyOf(text + ' -> pong from node ' + ctx.node.id + ' (peers ' + messenger.peers().join(',') + ')'));
  });
}
`;

const frontendMain = `${PING}
export async function main(ctx) {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const ids = await ctx.backends();
  const replies = new Map();
  let all;
  const gathered = new Promise((resolve) => (all = resolve));
  messenger.register(PING_EBB, (from, type, message) => {
    replies.set(from, type + ' ' + new TextDecoder().decode(message.toUint8Array()));
    message.releaseChain();
    if (replies.size === ids.length) all();
  });
  for (const id of ids) await messenger.send(id, PING_EBB, 41, IOBuf.copyOf('ping ' + id));
  await gathered;
  for (const id of ids) ctx.log(replies.get(id));
}
`;

function app(ebbs: { frontend: Record<string, unknown>; backend: Record<string, unknown> }) {
  const made = tempApp(
    {
      entry: { frontend: './frontend.mjs', backend: './node.mjs' },
      clock: 'realtime',
      backend: { nodes: 2, machine: { cores: 1, memory: '16MiB' }, ebbs: ebbs.backend },
      frontend: { ebbs: ebbs.frontend },
      network: {},
    },
    { 'frontend.mjs': frontendMain, 'node.mjs': nodeMain },
  );
  cleanup.push(made.remove);
  return made.dir;
}

describe('a second Messenger and NetworkManager, against the interfaces alone', () => {
  it('are linked and run: the front-end (mini stack + mini Messenger) and two nodes (mini Messenger over lwIP) exchange messages', async () => {
    const dir = app({ frontend: { NetworkManager: MINI_NM, Messenger: MINI_MESSENGER }, backend: { Messenger: MINI_MESSENGER } });
    const lines: string[] = [];
    const run = await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], signal: AbortSignal.timeout(30_000) });
    expect(run.failures, lines.join('\n')).toEqual([]);
    expect(run.frontend.packageOf('Messenger')).toBe(MINI_MESSENGER);
    expect(run.frontend.packageOf('NetworkManager')).toBe(MINI_NM);
    expect(run.backends.map((b) => b.packageOf('Messenger'))).toEqual([MINI_MESSENGER, MINI_MESSENGER]);
    // Each node answered the front-end's ping, and learnt its peers from the runtime's link.
    expect(lines.filter((l) => l.startsWith('[frontend core 0] 42 '))).toEqual([
      '[frontend core 0] 42 ping 1 -> pong from node 1 (peers 0,2)',
      '[frontend core 0] 42 ping 2 -> pong from node 2 (peers 0,1)',
    ]);
  });

  it('a Messenger whose root has no directory is refused at boot, naming the missing members', async () => {
    const noDirectory = `export const manifest = {
      name: 'no-directory', implements: 'Messenger', targets: ['native', 'hosted'],
      create: () => ({ handleFault: () => ({ send: async () => {}, register() {}, registerType() {}, peers: () => [] }), port: 7000 }),
    };\n`;
    const dir = app({ frontend: {}, backend: { Messenger: './no-directory.mjs' } });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'no-directory.mjs'), noDirectory);
    await expect(runApp(dir, { output: () => undefined, resolveFrom: [process.cwd()], signal: AbortSignal.timeout(30_000) })).rejects.toThrow(
      /no-directory.*configured as Messenger but its root lacks listening, setPeer, forgetPeer/,
    );
  });

  it('a NetworkManager whose rep lacks a member is refused, naming it', async () => {
    const noUdp = `export const manifest = {
      name: 'no-udp', implements: 'NetworkManager', targets: ['hosted'],
      create: () => ({ handleFault: () => ({ interfaces: () => [], tcpListen() {}, tcpConnect() {} }) }),
    };\n`;
    const dir = app({ frontend: { NetworkManager: './no-udp.mjs' }, backend: {} });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'no-udp.mjs'), noUdp);
    await expect(runApp(dir, { output: () => undefined, resolveFrom: [process.cwd()], signal: AbortSignal.timeout(30_000) })).rejects.toThrow(
      /no-udp.*claims to implement NetworkManager but its rep lacks udpBind/,
    );
  });
});

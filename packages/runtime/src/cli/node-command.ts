import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const NODE_USAGE = `usage: ebbrt node [--port N] [--nodes K] [--hosted] <script> [script args...]

  Runs an unmodified Node.js app (CommonJS or ESM) on a back-end node (@ebbrt/node-compat), on
  the native stack, in real time. Its directory is the app's: the front-end serves its files.
  --port N     forward 127.0.0.1:N to the node's port N (default 3000; 0: no forward)
  --nodes K    run it on K nodes (node k at 10.0.0.k+1); the forward goes to node 1
  --hosted     run it on the front-end's hosted stack instead (listens on 127.0.0.1 itself)`;

/**
 * `ebbrt node <script>`: writes the config such an app needs (a temporary JSON file) and returns
 * what `ebbrt run` needs to boot it; `cleanup` removes the file.
 */
export function nodeCommand(argv: readonly string[]): { appDir: string; configFile: string; cleanup(): void } {
  const at = argv.findIndex((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const own = at < 0 ? [...argv] : argv.slice(0, at);
  const { values } = parseArgs({ args: own, options: { port: { type: 'string' }, nodes: { type: 'string' }, hosted: { type: 'boolean', default: false } } });
  if (at < 0) throw new Error(`no script given\n${NODE_USAGE}`);
  const script = resolve(argv[at]!);
  const args = argv.slice(at + 1);
  const port = Number(values.port ?? 3000);
  const nodes = Number(values.nodes ?? 1);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new Error(`--nodes must be 1..64, got "${values.nodes}"`);
  const entry = fileURLToPath(import.meta.resolve('@ebbrt/node-compat/entry'));
  const config = values.hosted
    ? {
        name: basename(script),
        entry: { frontend: entry },
        clock: 'realtime',
        frontend: { cores: 1, ebbs: { NetworkManager: '@ebbrt/network-manager-hosted', FileSystem: { package: '@ebbrt/file-system', options: { root: '.' } } } },
        args: [script, ...args],
      }
    : {
        name: basename(script),
        entry: { backend: entry },
        clock: 'realtime',
        backend: { nodes, machine: { cores: 1, memory: '256MiB' } },
        network: { subnet: '10.0.0.0/24', forwards: port === 0 ? [] : [{ listen: `127.0.0.1:${port}`, node: 1, port }], tap: { name: 'ebbrtn0' } },
        args: [script, ...args],
      };
  const dir = mkdtempSync(join(tmpdir(), 'ebbrt-node-'));
  const configFile = join(dir, 'ebbrt.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { appDir: dirname(script), configFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

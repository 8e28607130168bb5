/**
 * `backend.platform` names a NodePlatform package like an Ebb: the shorthands map to the house
 * packages, a third-party platform in the app itself is resolved, its manifest and options are
 * validated with the field named, and it places nodes with no runtime edit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, PackageResolutionError } from '@ebbrt/interfaces';
import { runApp } from '../src/index.js';
import { NOOP_ENTRY, tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

// A third party's platform, written against @ebbrt/interfaces alone: it places nodes in the
// runtime's local simulation, numbers them from its `firstId` option, and logs each boot and free.
const customPlatform = `import { definePlatformManifest } from '@ebbrt/interfaces';
import { z } from 'zod';
export const platform = definePlatformManifest({
  name: 'acme-platform', implements: 'NodePlatform', placement: 'local',
  options: z.strictObject({ firstId: z.number().int().min(1), tag: z.string().default('acme') }),
  create(host, options) {
    let next = options.firstId;
    const nodes = new Map();
    const listeners = [];
    return {
      kind: options.tag,
      get liveNodes() { return [...nodes.values()]; },
      node: (id) => nodes.get(id),
      onActivated: (l) => listeners.push(l),
      async boot(shape) {
        const id = next++;
        const local = await host.local.boot(id, shape);
        let died;
        const node = {
          networkId: id, shape, died: new Promise((r) => (died = r)),
          activate: (info) => local.activate(info, () => listeners.forEach((l) => l(node))),
          kill(reason = 'killed') { local.powerOff(); died(new Error(reason)); },
          async destroy() { if (nodes.delete(id)) { host.output('acme: freed ' + id); local.release(); } },
        };
        nodes.set(id, node);
        host.output(options.tag + ': booted node ' + id + ' (' + shape.cores + ' cores)');
        return node;
      },
    };
  },
});
`;

const nodeMain = `export function main(ctx) { ctx.log('node ' + ctx.node.id + ' up'); }\n`;

function app(platform: unknown, files: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const made = tempApp(
    { entry: { backend: './main.mjs' }, backend: { nodes: 2, machine: { cores: 1, memory: '4MiB' }, platform }, ...extra },
    { 'main.mjs': nodeMain, 'acme.mjs': customPlatform, ...files },
  );
  cleanup.push(made.remove);
  return made.dir;
}

const failure = (dir: string) =>
  runApp(dir, { output: () => undefined, resolveFrom: [process.cwd()] }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe('NodePlatform packages', () => {
  it("a third-party platform in the app, with options, places the nodes (no runtime edit)", async () => {
    const lines: string[] = [];
    const run = await runApp(app({ package: './acme.mjs', options: { firstId: 5, tag: 'acme' } }), { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
    expect(run.failures).toEqual([]);
    expect(run.platform.kind).toBe('acme');
    expect(lines).toContain('acme: booted node 5 (1 cores)');
    expect(lines).toContain('acme: booted node 6 (1 cores)');
    expect(lines).toContain('[node 5 core 0] node 5 up');
    expect(lines).toContain('[node 6 core 0] node 6 up');
    expect(run.backends.map((b) => b.context.id)).toEqual([5, 6]);
  });

  it("the shorthand 'in-process' is @ebbrt/platform-in-process, and the default", async () => {
    const named = await runApp(app('@ebbrt/platform-in-process'), { output: () => undefined, resolveFrom: [process.cwd()] });
    const short = await runApp(app('in-process'), { output: () => undefined, resolveFrom: [process.cwd()] });
    expect(named.platform.kind).toBe('in-process');
    expect(short.platform.kind).toBe('in-process');
    expect(short.backends.map((b) => b.context.id)).toEqual([1, 2]);
  });

  it('bad options name config.backend.platform.options.<field>', async () => {
    const error = await failure(app({ package: './acme.mjs', options: { firstId: 0 } }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('config.backend.platform.options.firstId');
    const unknown = await failure(app({ package: './acme.mjs', options: { firstId: 1, colour: 'red' } }));
    expect(unknown!.message).toMatch(/config\.backend\.platform\.options.*colour/);
    const process = await failure(app({ package: 'process', options: { bootTimeoutMs: -1 } }, {}, { clock: 'realtime', network: {} }));
    expect((process as ConfigError).path).toBe('config.backend.platform.options.bootTimeoutMs');
  });

  it('a bad manifest, a missing package and unmet needs are refused, naming what is wrong', async () => {
    const notAPlatform = await failure(app('./main.mjs'));
    expect(notAPlatform).toBeInstanceOf(PackageResolutionError);
    expect(notAPlatform!.message).toMatch(/\.\/main\.mjs.*exports no `platform`/);
    const badField = await failure(app('./bad.mjs', { 'bad.mjs': "export const platform = { name: 'bad', implements: 'NodePlatform', placement: 'moon', create() {} };\n" }));
    expect(badField!.message).toMatch(/bad\.mjs.*platform\.placement: must be 'local' or 'remote'/);
    const missing = await failure(app('@acme/platform-nowhere'));
    expect(missing!.message).toMatch(/@acme\/platform-nowhere.*cannot be found/);
    const virtual = await failure(app('process', {}, { network: {} }));
    expect(virtual).toBeInstanceOf(ConfigError);
    expect(virtual!.message).toMatch(/config\.backend\.platform: @ebbrt\/platform-process runs nodes with real sockets: it needs clock: 'realtime'/);
    const noNetwork = await failure(app('process', {}, { clock: 'realtime' }));
    expect(noNetwork!.message).toMatch(/config\.backend\.platform: @ebbrt\/platform-process needs a network section/);
  });

  it('faults only the in-process simulation can inject are refused on the process platform, naming the field and why', async () => {
    const remote = (backend: Record<string, unknown>, network: Record<string, unknown> = {}) =>
      failure(
        app('process', {}, {
          clock: 'realtime',
          network,
          backend: { nodes: 2, machine: { cores: 1, memory: '4MiB', ...((backend.machine as object | undefined) ?? {}) }, platform: 'process', ...(backend.faults !== undefined ? { faults: backend.faults } : {}) },
        }),
      );
    const core = await remote({ machine: { faults: { stall: { probability: 0.1, maxNs: 1000 } } } });
    expect(core).toBeInstanceOf(ConfigError);
    expect((core as ConfigError).path).toBe('config.backend.machine.faults');
    expect(core!.message).toMatch(/core faults are simulated by the in-process platform only: @ebbrt\/platform-process runs each node in a process of its own/);
    const crash = await remote({ faults: { crash: { afterNs: { min: 1, max: 2 } } } });
    expect((crash as ConfigError).path).toBe('config.backend.faults.crash');
    expect(crash!.message).toMatch(/a node crash and restart is injected by the in-process platform only/);
    const partition = await remote({}, { partition: { afterNs: { min: 1, max: 2 }, durationNs: { min: 5, max: 5 } } });
    expect((partition as ConfigError).path).toBe('config.network.partition');
    expect(partition!.message).toMatch(/a partition is made on the in-process platform's switch only/);
    // The same faults are accepted in-process (and run: the virtual clock, one partition, one crash).
    const local = await runApp(
      app('in-process', {}, {
        network: { partition: { afterNs: { min: 1, max: 2 }, durationNs: { min: 5, max: 5 } } },
        backend: { nodes: 2, machine: { cores: 1, memory: '4MiB', faults: { stall: { probability: 0.1, maxNs: 1000 } } }, platform: 'in-process', faults: { crash: { nodes: [2], afterNs: { min: 1, max: 2 } } } },
      }),
      { output: () => undefined, resolveFrom: [process.cwd()] },
    );
    expect(local.simulation.faults.count('network.partition')).toBe(1);
    expect(local.simulation.faults.count('node.crash')).toBe(1);
  });
});

void NOOP_ENTRY;

/**
 * A hosted node (id 0, 2 cores) with the Event Manager, Timer, hosted NetworkManager (node:net on
 * 127.0.0.1) and the FileSystem serving `root`: enough for an app to run on, reachable by Node's own
 * clients. (A small copy of the other packages' fixtures: tests never import another package's test/.)
 */
import { NodeContext, cpu } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { manifest as fsManifest } from '@ebbrt/file-system';
import { manifest as nmManifest } from '@ebbrt/network-manager-hosted';
import { SystemEbbIds, type EbbRoot, type EventFailure, type EventManagerRoot } from '@ebbrt/interfaces';
import { runNodeApp, type NodeAppHost, type NodeRuntime, type RunNodeAppOptions } from '../src/index.js';

export interface HostedNode {
  node: NodeContext;
  logs: string[];
  failures: EventFailure[];
  exits: number[];
  host: NodeAppHost;
  /** Runs `fn` as an event on `core`; resolves with its awaited result (checking it resumed there). */
  on<T>(core: number, fn: () => T | Promise<T>): Promise<T>;
  /** Runs an app on core 0. */
  run(options: RunNodeAppOptions, args?: string[]): Promise<NodeRuntime>;
  /** Resolves once a log line matches. */
  waitLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  dispose(): void;
}

export function hostedNode(root: string, id = 0): HostedNode {
  const node = new NodeContext({ id, numCores: 2, target: 'hosted' });
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const em = eventManagerManifest.create({ id: SystemEbbIds.EventManager, node, target: 'hosted', log }, eventManagerManifest.options!.parse({})) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, em);
  node.install(SystemEbbIds.Timer, timerManifest.create({ id: SystemEbbIds.Timer, node, target: 'hosted', log }, {}) as EbbRoot<unknown>);
  const nm = nmManifest.create({ id: SystemEbbIds.NetworkManager, node, target: 'hosted', log }, nmManifest.options!.parse({ acceptCore: 'round-robin' }));
  node.install(SystemEbbIds.NetworkManager, nm as EbbRoot<unknown>);
  node.install(SystemEbbIds.FileSystem, fsManifest.create({ id: SystemEbbIds.FileSystem, node, target: 'hosted', log }, fsManifest.options!.parse({ root, home: id })) as EbbRoot<unknown>);
  const failures: EventFailure[] = [];
  em.onEventFailure((f) => failures.push(f));
  const exits: number[] = [];
  const host = (args: string[]): NodeAppHost => ({ node: { id, numCores: 2 }, args, log, exit: (code = 0) => void exits.push(code) });
  const on = <T>(core: number, fn: () => T | Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      em.post(core, async () => {
        try {
          const v = await fn();
          if (cpu.current?.index !== core) throw new Error(`resumed on core ${cpu.current?.index}, not ${core}`);
          resolve(v);
        } catch (e) {
          reject(e);
        }
      }),
    );
  const waitLog = async (pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (const l of logs) {
        const m = pattern.exec(l);
        if (m !== null) return m;
      }
      if (failures.length > 0) throw new Error(`an event failed: ${String((failures[0]!.error as Error)?.stack ?? failures[0]!.error)}`);
      if (Date.now() > until) throw new Error(`no log line matched ${pattern} in ${timeoutMs} ms; logs:\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    node,
    logs,
    failures,
    exits,
    host: host([]),
    on,
    run: (options, args = []) => on(0, () => runNodeApp(host(args), options)),
    waitLog,
    dispose: () => {
      (nm as { closeAll?(): void }).closeAll?.();
      em.shutdown();
    },
  };
}

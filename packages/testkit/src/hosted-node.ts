import { cpu, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import type { EventManagerRoot } from '@ebbrt/interfaces';
import { installEbb } from './install-ebb.js';

/**
 * Runs `fn` as an event on `core` of `em`'s node and resolves with its awaited result. It rejects
 * if the continuation resumed on another core: the Ebb under test must route its `await`s back to
 * the caller's core (the EventManager's core promise), and every test that checks it checks the
 * same way.
 */
export function onCore<T>(em: EventManagerRoot, core: number, fn: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) =>
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
}

export interface HostedNodeOptions {
  id?: number;
  cores?: number;
  idSpace?: number;
}

export interface HostedNode {
  node: NodeContext;
  em: EventManagerRoot;
  /** A silent install log (pass it to the manifest of the Ebb under test). */
  log: (line: string) => void;
  /** {@link onCore} on this node. */
  on<T>(core: number, fn: () => T | Promise<T>): Promise<T>;
  /** Shuts the EventManager down (its hosted loops stop holding the process). */
  dispose(): void;
}

/**
 * A hosted node (the front-end by default: id 0, 2 cores) with the hosted EventManager and Timer
 * installed and nothing else, so a test installs only the Ebb it is about (no Messenger, no
 * network). The caller installs that Ebb through its manifest with `{ id, node, target: 'hosted', log }`.
 */
export function hostedNode(options: HostedNodeOptions = {}): HostedNode {
  const { id = 0, cores = 2, idSpace } = options;
  const node = new NodeContext({ id, numCores: cores, target: 'hosted', ...(idSpace === undefined ? {} : { idSpace }) });
  const log = (): void => undefined;
  const em = installEbb('EventManager', eventManagerManifest, { node, target: 'hosted', log });
  installEbb('Timer', timerManifest, { node, target: 'hosted', log });
  return { node, em, log, on: (core, fn) => onCore(em, core, fn), dispose: () => em.shutdown() };
}

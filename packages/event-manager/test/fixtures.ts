/**
 * Test fixtures for the Event Manager: a native node on a simulated machine, or a
 * hosted node on Node's own loop, with the Event Manager and Timer installed.
 * Lives under test/, which is not published.
 */
import { EbbRef, NodeContext, cpu } from '@ebbrt/core-translation';
import { Simulation, type Machine, type SteppingMode } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EventFn, type EventManager, type EbbRoot, type Timer } from '@ebbrt/interfaces';
import {
  eventManagerOptionsSchema,
  manifest,
  type EventManagerOptions,
  type HostedEventManagerRoot,
  type NativeEventManagerRoot,
} from '../src/index.js';
import { seeds } from '@ebbrt/testkit/seeds';
import { manifest as timerManifest } from '../src/timer.js';

export interface NativeFixture {
  sim: Simulation;
  machine: Machine;
  node: NodeContext;
  root: NativeEventManagerRoot;
  logs: string[];
  /** Queue `fn` as an event on `core` from outside the node (root.post). */
  post(core: number, fn: EventFn): void;
  em(): EventManager;
  timer(): Timer;
}

export interface NativeFixtureOptions {
  seed?: number;
  cores?: number;
  trace?: boolean;
  options?: Partial<Record<keyof EventManagerOptions, unknown>>;
  timer?: boolean;
  /** The simulation's stepping mode (default `chained`). */
  stepping?: SteppingMode;
}

/** EbbRefs for use inside events (each deref reads the current core). */
export function refs(): { em: EbbRef<EventManager>; timer: EbbRef<Timer> } {
  return {
    em: new EbbRef<EventManager>(SystemEbbIds.EventManager),
    timer: new EbbRef<Timer>(SystemEbbIds.Timer),
  };
}

export function nativeNode(opts: NativeFixtureOptions = {}): NativeFixture {
  const { seed = 1, cores = 2, trace = false, timer = true } = opts;
  const sim = new Simulation({ seed, trace, stepping: opts.stepping ?? 'chained' });
  const machine = sim.createMachine({ cores, memoryBytes: 1 << 20 });
  const node = new NodeContext({ id: 1, numCores: cores, target: 'native', idSpace: 2 });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const root = manifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'native', machine, simulation: sim, log },
    eventManagerOptionsSchema.parse(opts.options ?? {}),
  ) as NativeEventManagerRoot;
  node.install(SystemEbbIds.EventManager, root);
  if (timer) {
    const t = timerManifest.create(
      { id: SystemEbbIds.Timer, node, target: 'native', machine, simulation: sim, log },
      {},
    ) as EbbRoot<Timer>;
    node.install(SystemEbbIds.Timer, t);
  }
  const r = refs();
  return {
    sim,
    machine,
    node,
    root,
    logs,
    post: (core, fn) => root.post(core, fn),
    em: () => r.em.deref(),
    timer: () => r.timer.deref(),
  };
}

export interface HostedFixture {
  node: NodeContext;
  root: HostedEventManagerRoot;
  logs: string[];
  post(core: number, fn: EventFn): void;
  em(): EventManager;
  timer(): Timer;
}

export function hostedNode(cores = 2, options: Partial<Record<keyof EventManagerOptions, unknown>> = {}): HostedFixture {
  const node = new NodeContext({ id: 0, numCores: cores, target: 'hosted', idSpace: 2 });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const root = manifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'hosted', log },
    eventManagerOptionsSchema.parse(options),
  ) as HostedEventManagerRoot;
  node.install(SystemEbbIds.EventManager, root);
  node.install(
    SystemEbbIds.Timer,
    timerManifest.create({ id: SystemEbbIds.Timer, node, target: 'hosted', log }, {}) as EbbRoot<Timer>,
  );
  const r = refs();
  return { node, root, logs, post: (c, fn) => root.post(c, fn), em: () => r.em.deref(), timer: () => r.timer.deref() };
}

/** Index of the current core, or -1 outside any event. */
export function here(): number {
  return cpu.current?.index ?? -1;
}


/** Runs `body` for each seed; on failure rethrows with the seed and how to replay it. */
export async function forEachSeed(n: number, body: (seed: number) => Promise<void>): Promise<void> {
  for (const seed of seeds(n)) {
    try {
      await body(seed);
    } catch (error) {
      const msg = error instanceof Error ? error.message : String(error);
      throw new Error(
        `failed with seed ${seed}; replay with EBBRT_SEED=${seed} pnpm vitest run packages/event-manager\n${msg}`,
        { cause: error },
      );
    }
  }
}

/** Resolves after Node has run `n` macrotasks (for hosted tests). */
export function macrotasks(n = 1): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const tick = () => (--left <= 0 ? resolve() : setImmediate(tick));
    setImmediate(tick);
  });
}

/** Polls `cond` across macrotasks until true, or throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error('until: timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

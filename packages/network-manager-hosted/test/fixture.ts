/**
 * A hosted node (2 cores) with the hosted Event Manager and this NetworkManager
 * installed, plus helpers to run code on a core and to check where callbacks run.
 */
import { EbbRef, NodeContext, cpu } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import {
  SystemEbbIds,
  type EventFailure,
  type EventManager,
  type EventManagerRoot,
  type NetworkManager,
} from '@ebbrt/interfaces';
import { HostedNetworkManager, hostedNetworkOptionsSchema, manifest } from '../src/index.js';

export interface Fixture {
  node: NodeContext;
  emRoot: EventManagerRoot;
  root: HostedNetworkManager;
  failures: EventFailure[];
  logs: string[];
  /** Wrong-core / outside-event observations made by {@link Fixture.check}. */
  violations: string[];
  /** The NetworkManager rep of the current core (call inside events only). */
  nm(): NetworkManager;
  /** Runs `fn` as an event on `core`; resolves with its (awaited) result. */
  onCore<T>(core: number, fn: () => T | Promise<T>): Promise<T>;
  /** Records a violation unless we are inside an event on `core` of this node. */
  check(core: number, what: string): void;
  /** Records a violation unless `core` of this node is current (continuations after `await`). */
  checkResumed(core: number, what: string): void;
  dispose(): void;
}

export function hostedNode(cores = 2, options: Record<string, unknown> = {}): Fixture {
  const node = new NodeContext({ id: 0, numCores: cores, target: 'hosted' });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const emRoot = eventManagerManifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'hosted', log },
    eventManagerManifest.options!.parse({}),
  ) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, emRoot);
  const root = manifest.create(
    { id: SystemEbbIds.NetworkManager, node, target: 'hosted', log },
    hostedNetworkOptionsSchema.parse(options),
  ) as HostedNetworkManager;
  node.install(SystemEbbIds.NetworkManager, root);
  const failures: EventFailure[] = [];
  emRoot.onEventFailure((f) => failures.push(f));
  const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
  const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  const violations: string[] = [];
  return {
    node,
    emRoot,
    root,
    failures,
    logs,
    violations,
    nm: () => nmRef.deref(),
    onCore<T>(core: number, fn: () => T | Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        emRoot.post(core, async () => {
          try {
            resolve(await fn());
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    check(core: number, what: string): void {
      const here = cpu.current;
      // Outside any event, the core register may still name the last core entered: the
      // running event id (0 between events) is what tells an event from a Node callback.
      let eventId = 0;
      try {
        eventId = emRef.deref().currentEventId();
      } catch {
        // no core at all
      }
      if (here?.node !== node || here.index !== core || eventId === 0) {
        violations.push(`${what}: expected an event on core ${core}, got core ${here?.index} event ${eventId}`);
      }
    },
    checkResumed(core: number, what: string): void {
      const here = cpu.current;
      if (here?.node !== node || here.index !== core) {
        violations.push(`${what}: expected to resume on core ${core}, got core ${here?.index}`);
      }
    },
    dispose(): void {
      root.closeAll();
      emRoot.shutdown();
    },
  };
}

/** Polls `cond` every millisecond until true; throws after `timeoutMs` naming `what`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Deterministic bytes (xorshift32), so failures replay exactly. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A deterministic integer in [lo, hi] from a tiny LCG state. */
export function lcg(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  };
}

/**
 * The fixtures' installer refuses what the runtime's would: a manifest of another kind or target,
 * a bad option (naming the field), a root that lacks its kind's contract, and (synchronously) a
 * create that returns a promise. What it installs is the root under the kind's well-known id.
 */
import { NodeContext } from '@ebbrt/core-translation';
import { manifest as emManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { defineEbbManifest, SystemEbbIds, type Timer } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { installEbb, installEbbAsync } from '../src/install-ebb.js';

const hosted = () => {
  const node = new NodeContext({ id: 3, numCores: 1, target: 'hosted' });
  return { node, target: 'hosted' as const, log: () => undefined };
};

describe('installEbb', () => {
  it('installs the root under the kind\'s id, with options parsed by the manifest', () => {
    const ctx = hosted();
    const em = installEbb('EventManager', emManifest, ctx, { sliceBudget: 7 });
    expect(ctx.node.localIdMap.get(SystemEbbIds.EventManager)).toBe(em);
    em.shutdown();
  });

  it('refuses another kind, a bad option by name, a root without its contract, and an async create', async () => {
    expect(() => installEbb('MemoryAllocator', timerManifest, hosted())).toThrow(/is configured as MemoryAllocator but its manifest implements Timer/);
    expect(() => installEbb('EventManager', emManifest, hosted(), { sliceBudget: 'lots' })).toThrow(/@ebbrt\/event-manager options\.sliceBudget/);
    // Made-up manifests; the Timer's empty strict schema serves as their options.
    const hollow = defineEbbManifest<Record<string, never>, Timer>({ name: 'hollow-em', implements: 'EventManager', targets: ['hosted'], options: timerManifest.options!, create: () => ({ handleFault: () => ({}) as Timer }) });
    expect(() => installEbb('EventManager', hollow, hosted())).toThrow(/hollow-em.*root lacks post/);
    const later = defineEbbManifest<Record<string, never>, Timer>({ name: 'later-timer', implements: 'Timer', targets: ['hosted'], options: timerManifest.options!, create: async () => ({ handleFault: () => ({}) as Timer }) });
    expect(() => installEbb('Timer', later, hosted())).toThrow(/later-timer: create\(\) returned a promise/);
    const ctx = hosted();
    await installEbbAsync('Timer', later, ctx);
    expect(ctx.node.localIdMap.has(SystemEbbIds.Timer)).toBe(true);
  });
});

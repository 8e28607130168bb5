/**
 * What the native Event Manager shows a live view through hw-x86sim's CoreStats: events
 * dispatched, events queued (queue plus mailbox) and the oldest blocked event with its start time,
 * all read at snapshot time. Tracking blocked events starts at the first read.
 */
import { describe, expect, it } from 'vitest';
import { nativeNode } from './fixtures.js';

describe('native Event Manager: CoreStats software counters', () => {
  it('reports dispatched and queued events, and the oldest unfinished event until it finishes', async () => {
    const f = nativeNode({ cores: 2 });
    const stats = f.machine.cores[0]!.stats!;
    f.post(0, () => undefined);
    await f.sim.run();
    const sw = stats.software!;
    expect(sw).not.toBeNull();
    expect(sw.eventsDispatched).toBeGreaterThan(0);
    expect(sw.oldestUnfinishedEvent()).toBeUndefined(); // the first read starts tracking
    const before = sw.eventsDispatched;
    // Three queued from outside, not yet run: the mailbox counts.
    for (let i = 0; i < 3; i++) f.post(0, () => undefined);
    expect(sw.eventsQueued).toBe(3);
    await f.sim.run();
    expect(sw.eventsQueued).toBe(0);
    expect(sw.eventsDispatched).toBe(before + 3);
    // A blocked event shows as the oldest unfinished one, with its start time, until it ends.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t0 = f.sim.now();
    f.post(0, async function waitsForGate() {
      await f.timer().sleep(5);
      await gate;
    });
    await f.sim.run({ untilNs: t0 + 1_000_000 });
    const oldest = sw.oldestUnfinishedEvent();
    expect(oldest).toMatchObject({ name: 'waitsForGate', sinceNs: t0 });
    expect(f.sim.now() - oldest!.sinceNs).toBe(1_000_000);
    expect(f.machine.cores[1]!.stats!.software!.oldestUnfinishedEvent()).toBeUndefined();
    f.post(0, () => release());
    await f.sim.run();
    expect(sw.oldestUnfinishedEvent()).toBeUndefined();
  });
});

// The corruption fault and the Ethernet FCS. A frame crossing endpoint → switch → endpoint goes
// over two corrupting links. Before the switch checked the FCS, a frame corrupted on the first
// hop was forwarded and could be corrupted again on the second: two flipped bytes, which cancel
// in the 16-bit Internet checksum when they land in the same byte lane with opposite deltas
// (about 1 in 500 doubly corrupted frames). TCP then accepted a wrong byte (seed 19 of the lwIP
// 20-seed test with the RFC 5681 gap-fill ACK: +106 at frame byte 1141, -106 at byte 483).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, type FramePort } from './frame.js';
import { NetworkFabric } from './link.js';

class Host implements FramePort {
  readonly got: Array<{ frame: Uint8Array; copy: Uint8Array }> = [];
  tx: FramePort | null = null;
  constructor(readonly mac: string) {}
  attach(tx: FramePort): void {
    this.tx = tx;
  }
  receive(frame: Uint8Array): void {
    this.got.push({ frame, copy: frame.slice() });
  }
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';

function bytesDiffering(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Infinity;
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

type Faults = { corrupt: number; duplicate: number; reorder: number };
const NONE: Faults = { corrupt: 0, duplicate: 0, reorder: 0 };

/** `frames` frames a → switch → b; `up` impairs a's link, `down` b's link (both directions). */
async function run(seed: number, frames: number, up: Faults, down: Faults = up) {
  const sim = new Simulation({ seed });
  const fab = new NetworkFabric(sim);
  const a = new Host(A);
  const b = new Host(B);
  const la = fab.connect(a, { latencyNs: 1_000, reorderDelayNs: 3_000 });
  const lb = fab.connect(b, { latencyNs: 1_000, reorderDelayNs: 3_000 });
  // b announces itself (clean links) so the switch forwards a → b as unicast.
  b.tx!.receive(buildEthernetFrame(A, B, 0x88b5, new Uint8Array(46)));
  await sim.run();
  a.got.length = 0;
  la.setProps(up);
  lb.setProps(down);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    const payload = new Uint8Array(64 + (i % 7));
    for (let k = 0; k < payload.length; k++) payload[k] = (i * 131 + k * 17) & 0xff;
    const f = buildEthernetFrame(B, A, 0x88b5, payload);
    sent.push(f.slice());
    sim.schedule(i * 500, () => a.tx!.receive(f));
  }
  await sim.run();
  return { a, b, la, lb, sent };
}

describe('link corruption and the switch FCS check', () => {
  it('property: a frame reaching a host through the switch carries at most one corrupted byte, and no delivered frame changes afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        async (seed, corrupt, duplicate) => {
          const { b, la, lb, sent } = await run(seed, 120, { corrupt, duplicate, reorder: 0.2 });
          const down = lb.counters('bToA');
          let corruptedSeen = 0;
          for (const g of b.got) {
            // Frames are immutable once handed over: a duplicate shares its array with the
            // original, and nobody may have written into either since delivery.
            expect(bytesDiffering(g.frame, g.copy)).toBe(0);
            const d = Math.min(...sent.map((s) => bytesDiffering(s, g.frame)));
            expect(d).toBeLessThanOrEqual(1);
            if (d === 1) corruptedSeen++;
          }
          expect(corruptedSeen).toBeLessThanOrEqual(down.corrupted + down.duplicated);
          const up = la.counters('aToB');
          // Every frame corrupted on the first hop died at the switch's FCS check.
          expect(up.fcsDropped).toBeGreaterThanOrEqual(up.corrupted);
          expect(up.delivered + up.fcsDropped).toBe(up.sent - up.lost + up.duplicated);

          // The NIC end has no FCS: second-hop corruption still reaches the host (what the
          // host's own checksums are tested against).
          expect(down.fcsDropped).toBe(0);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('first-hop corruption dies at the switch; host-facing-hop corruption arrives with exactly one byte changed', async () => {
    const first = await run(3, 400, { ...NONE, corrupt: 1 }, NONE);
    expect(first.la.counters('aToB')).toMatchObject({ corrupted: 400, fcsDropped: 400, delivered: 0 });
    expect(first.b.got.length).toBe(0);
    const last = await run(3, 400, NONE, { ...NONE, corrupt: 1 });
    expect(last.lb.counters('bToA')).toMatchObject({ corrupted: 400, fcsDropped: 0, delivered: 400 });
    expect(last.b.got.map((g, i) => bytesDiffering(last.sent[i]!, g.frame))).toEqual(new Array(400).fill(1));
  });
});

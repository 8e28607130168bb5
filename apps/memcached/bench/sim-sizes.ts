/**
 * Item 5 of issue 17 in the simulation: 512 B against 16 KiB values, memcached on one simulated
 * node loaded from another (sim-load.ts), at MTU 1500 and at the app's own MTU 9000, 512 B and
 * 16 KiB interleaved per round so drift hits both alike. The ratio 512 B ÷ 16 KiB (ops per wall
 * second) is the issue's "how far 16 KiB falls off"; frames per op show how much of it is
 * segmentation (every frame costs both simulated stacks, the device model and the switch).
 */
import { median, type BenchResult } from '@ebbrt/bench-kit';
import { runSimLoad } from './sim-load.js';

export interface SimSizesOptions {
  runs: number;
  seconds: number;
  mtus: number[];
  log: (line: string) => void;
}

const SMALL = 512;
const LARGE = 16384;

export async function simSizesPart(o: SimSizesOptions, notes: string[], ratios: Record<string, number>, results: BenchResult[]): Promise<void> {
  for (const mtu of o.mtus) {
    const ops = new Map<number, number[]>([[SMALL, []], [LARGE, []]]);
    const frames = new Map<number, number[]>([[SMALL, []], [LARGE, []]]);
    const losses = new Map<number, number[]>([[SMALL, []], [LARGE, []]]);
    try {
      for (let i = 0; i < o.runs; i++) {
        for (const v of [SMALL, LARGE]) {
          const r = await runSimLoad({ seconds: o.seconds, valueBytes: v, mtu, seed: i + 1, warmupSeconds: 2 });
          o.log(`sim sizes mtu ${mtu}, ${v} B: ${Math.round(r.opsPerWallSecond)} ops/wall s, ${r.framesPerOp.toFixed(2)} frames/op, ${r.rxNoBuffer} RX-ring drops, ${r.rxBacklogged} frames held by the host queue, ${r.rtoExpirations} RTOs${r.errors.length ? ` (${r.errors[0]})` : ''}`);
          ops.get(v)!.push(r.opsPerWallSecond);
          frames.get(v)!.push(r.framesPerOp);
          losses.get(v)!.push(r.rtoExpirations);
        }
      }
    } catch (e) {
      notes.push(`sim sizes part (mtu ${mtu}) failed: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    for (const v of [SMALL, LARGE]) {
      const m = median(ops.get(v)!);
      results.push({ name: `sim -> sim memcached, ${v} B values, mtu ${mtu} (ops per wall s)`, medianNs: 1e9 / m, opsPerSec: m, framesPerOp: median(frames.get(v)!), rtoExpirations: median(losses.get(v)!), runs: o.runs });
    }
    ratios[`sim ${SMALL} B / ${LARGE} B ops (mtu ${mtu})`] = median(ops.get(SMALL)!) / median(ops.get(LARGE)!);
  }
  notes.push(
    `sim sizes: as the sim part (64 connections, 9:1, 16 B keys) with ${SMALL} B and ${LARGE} B values, ${o.seconds} s per run after 2 s warm-up, median of ${o.runs} interleaved rounds per MTU; both nodes' NICs at the MTU named (the app's own config runs 9000, the fixture's default is 1500)`,
  );
}

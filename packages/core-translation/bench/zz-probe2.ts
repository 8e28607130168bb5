import { EbbRef, NodeContext, runOnCore, SharedEbb } from '@ebbrt/core-translation';
const BATCH = 10_000;
class Rep { constructor(private readonly base: number) {} read(i: number): number { return this.base + i; } }
class Counter { count = 0; increment(): void { this.count++; } }
let sink = 0;
export function run() {
const node = new NodeContext({ id: 1, numCores: 2, target: 'native' });
const core0 = node.core(0);
const ref: EbbRef<Rep> = SharedEbb.create(() => new Rep(1), { node });
const counterRef: EbbRef<Counter> = SharedEbb.create(() => new Counter(), { node });
const rep = runOnCore(core0, () => ref.deref());
const counter = runOnCore(core0, () => counterRef.deref());
const viaRef = () => { let s = 0; for (let i = 0; i < BATCH; i++) s += ref.deref().read(i); sink += s; };
const direct = () => { let s = 0; for (let i = 0; i < BATCH; i++) s += rep.read(i); sink += s; };
const inc = () => { for (let i = 0; i < BATCH; i++) counterRef.deref().increment(); sink += counter.count; };
const dinc = () => { for (let i = 0; i < BATCH; i++) counter.increment(); sink += counter.count; };
const time = (f: () => void) => { const t = process.hrtime.bigint(); for (let k = 0; k < 300; k++) f(); return Number(process.hrtime.bigint() - t) / 300 / BATCH; };
const R: Record<string, number[]> = { d: [], r: [], di: [], ri: [] };
runOnCore(core0, () => { for (let k = 0; k < 60; k++) { R.d!.push(time(direct)); R.r!.push(time(viaRef)); R.di!.push(time(dinc)); R.ri!.push(time(inc)); } });
const med = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1]!;
console.log(`read ${med(R.r!).toFixed(3)}/${med(R.d!).toFixed(3)} = ${(med(R.r!) / med(R.d!)).toFixed(2)}  inc ${(med(R.ri!) / med(R.di!)).toFixed(2)}`, sink > 0);
}
run();

// Runs each kernel `rounds` times and prints "K <name> <round> <ms> <checksum>", timed with
// performance.now(): Node's own on plain Node, the node's clock on a node.
const kernels = require('./kernels.cjs');
const rounds = Number(process.argv[2] ?? 5);
for (const [name, run] of Object.entries(kernels)) {
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const check = run();
    console.log(`K ${name} ${r} ${performance.now() - t0} ${check}`);
  }
}
process.exit(0);

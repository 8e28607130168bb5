/**
 * The bare ceiling's worker process: answers each `{ n }` it is sent with the result of a fixed,
 * allocation-free CPU loop of n rounds (xorshift32), so two of them measure what two processes get
 * from the machine right now, with no simulation, no memory traffic and no GC.
 */
process.on('message', (job: { n: number }) => {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < job.n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  process.send!({ x });
});
process.on('disconnect', () => process.exit(0));

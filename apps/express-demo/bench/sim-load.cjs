// A plain Node load generator (keep-alive, C connections, D seconds) against http://server:3000/api/hello,
// run on a simulated node; prints requests/s and latency percentiles measured on the node's clock.
const http = require('node:http');
const connections = Number(process.argv[2] ?? 10);
const seconds = Number(process.argv[3] ?? 3);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const latencies = [];
let errors = 0;
const end = performance.now() + seconds * 1000;

function one() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host: 'server', port: 3000, path: '/api/hello', agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      setTimeout(resolve, 10);
    });
  });
}

async function loop() {
  while (performance.now() < end) await one();
}

(async () => {
  // Wait for the server.
  for (;;) {
    const before = errors;
    await one();
    if (errors === before) break;
  }
  latencies.length = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log('BENCH-SIM ' + JSON.stringify({ requests: latencies.length, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), errors }));
  process.exit(0);
})();

// A plain Node HTTP client (it knows nothing of EbbRT): fetches every route of the demo from the
// host named "server", sequentially on a keep-alive agent and then 4 at a time, and prints one line
// with each response's status, a few headers, length and sha256.
const http = require('node:http');
const { createHash } = require('node:crypto');

const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
const paths = [
  '/static/generated/empty.bin',
  '/static/generated/1k.bin',
  '/static/generated/256k.bin',
  '/static/index.html',
  '/api/hello',
  '/api/sum?n=1000',
  '/api/later?ms=20',
  '/api/files',
  '/static/../ebbrt.config.ts',
  '/nope',
];

function get(path, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: 'server', port: 3000, path, method, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const hash = createHash('sha256');
      let length = 0;
      res.on('data', (c) => {
        hash.update(c);
        length += c.length;
      });
      res.on('end', () => resolve({ path, status: res.statusCode, type: res.headers['content-type'], length, sha256: hash.digest('hex'), date: res.headers.date }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function untilUp() {
  // "node1" is the runtime's name for back-end node 1 (resolved by the node's dns).
  const { address } = await require('node:dns').promises.lookup('node1');
  if (address !== '10.0.0.2') throw new Error(`node1 resolved to ${address}`);
  for (let i = 0; ; i++) {
    try {
      return await get('/api/sum?n=0');
    } catch (e) {
      if (e.code !== 'ECONNREFUSED' || i > 200) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

(async () => {
  await untilUp();
  const sequential = [];
  for (const p of paths) sequential.push(await get(p));
  sequential.push(await get('/api/echo', 'POST', JSON.stringify({ n: [1, 2, 3], s: 'x'.repeat(3000) })));
  const parallel = await Promise.all(paths.slice(0, 4).map((p) => get(p)));
  console.log('SIM-RESULT ' + JSON.stringify({ sequential, parallel, uuid: require('node:crypto').randomUUID(), random: Math.random() }));
  process.exit(0);
})().catch((e) => {
  console.log('SIM-ERROR ' + (e && e.stack));
  process.exit(1);
});

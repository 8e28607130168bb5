// An ordinary Express 5 app: nothing in it knows about EbbRT. Run it with `node server/app.js 3000`
// on Linux, or on a back-end node with `pnpm ebbrt run apps/express-demo`.
const path = require('node:path');
const fs = require('node:fs/promises');
const express = require('express');

const app = express();
const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const publicDir = path.join(__dirname, 'public');
let hits = 0;

app.use(express.json());
app.use('/static', express.static(publicDir, { etag: true, lastModified: true }));

app.get('/api/hello', (req, res) => {
  hits++;
  res.json({ hello: 'world', hits, pid: process.pid });
});

app.get('/api/files', async (req, res, next) => {
  try {
    const names = await fs.readdir(publicDir);
    const files = await Promise.all(names.map(async (name) => ({ name, size: (await fs.stat(path.join(publicDir, name))).size })));
    res.json({ files });
  } catch (e) {
    next(e);
  }
});

app.post('/api/echo', (req, res) => {
  res.json({ got: req.body, length: JSON.stringify(req.body).length });
});

app.get('/api/sum', (req, res) => {
  const n = Number(req.query.n ?? 1000);
  let s = 0;
  for (let i = 1; i <= n; i++) s += i;
  res.json({ n, sum: s });
});

app.get('/api/later', (req, res) => {
  const ms = Math.min(Number(req.query.ms ?? 10), 1000);
  setTimeout(() => res.json({ waited: ms }), ms);
});

app.use((req, res) => res.status(404).json({ error: 'not found', path: req.path }));

app.listen(port, () => console.log(`express: listening on port ${port}`));

// The same kind of app as an ES module: `import express from 'express'` (a CommonJS package) and
// node: builtins, unmodified.
import express from 'express';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const app = express();
const port = Number(process.argv[2] ?? 3003);
const publicDir = fileURLToPath(new URL('./public', import.meta.url));
app.use('/static', express.static(publicDir));
app.get('/api/hello', (req, res) => res.json({ hello: 'esm' }));
app.get('/api/files', async (req, res) => res.json(await readdir(publicDir)));
app.listen(port, () => console.log(`express (esm): listening on port ${port}`));

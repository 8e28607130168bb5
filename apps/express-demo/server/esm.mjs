// The same kind of app as an ES module: `import express, { Router, json } from 'express'` (a
// CommonJS package: default and named imports) and node: builtins, unmodified.
import express, { Router, json } from 'express';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const app = express();
const port = Number(process.argv[2] ?? 3003);
const publicDir = fileURLToPath(new URL('./public', import.meta.url));
app.use('/static', express.static(publicDir));
const api = Router();
api.use(json());
api.get('/hello', (req, res) => res.json({ hello: 'esm' }));
api.post('/echo', (req, res) => res.json({ got: req.body }));
app.use('/api', api);
app.get('/api/files', async (req, res) => res.json(await readdir(publicDir)));
app.listen(port, () => console.log(`express (esm): listening on port ${port}`));

// The same JSON route with node:http only (the bench's baseline app).
const http = require('node:http');
const port = Number(process.argv[2] ?? process.env.PORT ?? 3002);
let hits = 0;
http
  .createServer((req, res) => {
    hits++;
    const body = JSON.stringify({ hello: 'world', hits });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(port, () => console.log(`http: listening on port ${port}`));

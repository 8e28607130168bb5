// An ordinary fastify 5 app: nothing in it knows about EbbRT.
const fastify = require('fastify')({ logger: false });

const port = Number(process.argv[2] ?? process.env.PORT ?? 3001);

fastify.get('/api/hello', async () => ({ hello: 'fastify' }));
fastify.post('/api/echo', async (request) => ({ got: request.body }));
fastify.get('/api/params/:id', async (request) => ({ id: request.params.id, q: request.query }));

fastify.listen({ port, host: '0.0.0.0' }).then(
  () => console.log(`fastify: listening on port ${port}`),
  (err) => {
    console.error(`fastify: ${err.stack}`);
    process.exit(1);
  },
);

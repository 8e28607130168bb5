// The registry process: verdaccio 5 (programmatic runServer) on 127.0.0.1 with an ephemeral port,
// every package stored under the given directory, no uplinks (nothing is ever fetched from the
// internet) and no audit proxy. Prints "listening <port>" once it accepts connections.
// Plain CommonJS so that it starts with `node` alone, without tsx.
'use strict';
const { join } = require('node:path');
const { runServer } = require('verdaccio');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: verdaccio-child.cjs <storage dir>');
  process.exit(2);
}

const access = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
const config = {
  self_path: join(dir, 'config.yaml'),
  storage: join(dir, 'storage'),
  auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 1000 } },
  // No uplinks: a package that was not published here is a 404, never a fetch from npmjs.
  uplinks: {},
  packages: { '@*/*': access, '**': access },
  // The audit middleware proxies to registry.npmjs.org; the web UI is not needed.
  middlewares: { audit: { enabled: false } },
  web: { enable: false },
  // typescript's tarball is ~4 MB and travels base64 in the publish body.
  max_body_size: '200mb',
  server: { keepAliveTimeout: 60 },
  log: { type: 'stdout', format: 'pretty', level: 'warn' },
};

runServer(config).then(
  (server) => {
    server.listen(0, '127.0.0.1', () => {
      process.stdout.write(`listening ${server.address().port}\n`);
    });
    server.on('error', (error) => {
      console.error(`verdaccio: ${error.message}`);
      process.exit(1);
    });
    process.on('SIGTERM', () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
    // The parent holds our stdin open: when it ends (the test process died), so does the registry.
    process.stdin.on('end', () => process.exit(0)).resume();
  },
  (error) => {
    console.error(`verdaccio did not start: ${error.stack ?? error}`);
    process.exit(1);
  },
);

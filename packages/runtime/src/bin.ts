#!/usr/bin/env node
import { cli } from './cli/main.js';

cli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A realtime app may leave sockets or timers behind once it has ended.
  setImmediate(() => process.exit(code));
});

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCommand } from '../src/cli/node-command.js';

describe('ebbrt node <script>', () => {
  it('writes a config that runs the script on a node, forwarding its port; bad flags are named', () => {
    const script = resolve('apps/express-demo/server/app.js');
    const cmd = nodeCommand(['--port', '4000', '--nodes', '2', 'apps/express-demo/server/app.js', '4000', '--verbose']);
    try {
      expect(cmd.appDir).toBe(dirname(script));
      const config = JSON.parse(readFileSync(cmd.configFile, 'utf8'));
      expect(config.args).toEqual([script, '4000', '--verbose']);
      expect(config.entry.backend).toMatch(/node-compat\/(src|dist)\/entry\.(ts|js)$/);
      expect(config.backend.nodes).toBe(2);
      expect(config.network.forwards).toEqual([{ listen: '127.0.0.1:4000', node: 1, port: 4000 }]);
    } finally {
      cmd.cleanup();
    }
    const hosted = nodeCommand(['--hosted', 'x.js']);
    try {
      expect(JSON.parse(readFileSync(hosted.configFile, 'utf8')).entry.frontend).toMatch(/entry/);
    } finally {
      hosted.cleanup();
    }
    expect(() => nodeCommand(['--port', '3000'])).toThrow(/no script given/);
    expect(() => nodeCommand(['--port', '70000', 'a.js'])).toThrow(/--port must be 0\.\.65535/);
    expect(() => nodeCommand(['--nodes', '0', 'a.js'])).toThrow(/--nodes must be 1\.\.64/);
  });
});

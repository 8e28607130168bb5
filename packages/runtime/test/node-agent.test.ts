/**
 * The node agent over its TCP control channel (`EBBRT_AGENT_CONTROL=host:port`), as a launcher that
 * cannot pass Node IPC (srun, ssh) would start it: boot to dormant, activate, a console line back,
 * its `hello` token first, a peer on another host taken (through a loopback relay), and the agent
 * exits when its starter goes.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { AgentFromNode, AgentToNode } from '@ebbrt/interfaces';
import { AGENT_CONTROL_ENV, AGENT_TOKEN_ENV } from '../src/platform/agent-channel.js';
import { nodeAgentCommand } from '../src/platform/node-agent.js';
import { tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

it('boots, activates and reports over a TCP control channel; says hello with its token; takes a peer on another host; exits with its starter', async () => {
  const app = tempApp(
    { entry: { backend: './node.mjs' }, clock: 'realtime', backend: { nodes: 1, machine: { cores: 1, memory: '16MiB' }, platform: 'process' }, network: {} },
    { 'node.mjs': "export function main(ctx) { ctx.log('agent main ran with ' + ctx.args.join(',')); }\n" },
  );
  cleanup.push(app.remove);
  const received: AgentFromNode[] = [];
  const waiters: [(m: AgentFromNode) => boolean, (m: AgentFromNode) => void][] = [];
  const next = (match: (m: AgentFromNode) => boolean): Promise<AgentFromNode> =>
    new Promise((resolve, reject) => {
      const seen = received.find(match);
      if (seen !== undefined) return resolve(seen);
      waiters.push([match, resolve]);
      setTimeout(() => reject(new Error(`no such message; got ${JSON.stringify(received)}`)), 20_000).unref();
    });
  let control!: Socket;
  const connected = new Promise<void>((resolve) => {
    const server = createServer((socket) => {
      control = socket;
      let buffered = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const m = JSON.parse(buffered.slice(0, nl)) as AgentFromNode;
          buffered = buffered.slice(nl + 1);
          received.push(m);
          for (const [match, done] of waiters.splice(0)) (match(m) ? done(m) : waiters.push([match, done]));
        }
      });
      resolve();
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const { command, args } = nodeAgentCommand();
      const child = spawn(command, [...args], { env: { ...process.env, [AGENT_CONTROL_ENV]: `127.0.0.1:${port}`, [AGENT_TOKEN_ENV]: 'launch-42' }, stdio: ['ignore', 'inherit', 'inherit'] });
      exited = new Promise((r) => child.once('exit', (code) => r(code)));
      cleanup.push(() => child.kill('SIGKILL'), () => server.close());
    });
  });
  let exited!: Promise<number | null>;
  await connected;
  expect(await next(() => true)).toEqual({ type: 'hello', token: 'launch-42' });
  const send = (m: AgentToNode) => control.write(JSON.stringify(m) + '\n');
  // Nothing listens at the front-end port: the node's warm-up and report just fail quietly.
  const frontend = { host: '127.0.0.1', port: 9 };
  send({ type: 'boot', appDir: app.dir, configFile: undefined, resolveFrom: [process.cwd()], networkId: 3, cores: 1, memoryBytes: 16 * 1024 * 1024, seed: 7, frontend });
  const dormant = await next((m) => m.type === 'dormant');
  expect(dormant.type === 'dormant' && dormant.forwardPort).toBeGreaterThan(0);
  send({ type: 'activate', image: './node.mjs', args: ['a', 'b'], frontend, peers: [] });
  await next((m) => m.type === 'started');
  expect(await next((m) => m.type === 'line' && m.line.includes('agent main ran'))).toEqual({ type: 'line', line: '[node 3 core 0] agent main ran with a,b' });
  send({ type: 'peer', id: 4, host: '10.1.2.3', port: 7000 });
  // A peer elsewhere gets a loopback relay (dialled only when the node sends to it): no error.
  send({ type: 'peer', id: 5, host: '127.0.0.1', port: 7001 });
  await new Promise((r) => setTimeout(r, 300));
  expect(received.filter((m) => m.type === 'error')).toEqual([]);
  control.end();
  expect(await exited).toBe(0);
}, 60_000);

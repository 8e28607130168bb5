import { connect } from 'node:net';
import type { AgentFromNode, AgentToNode } from '@ebbrt/interfaces';

/** The environment variable that makes the node agent dial its starter instead of using Node IPC. */
export const AGENT_CONTROL_ENV = 'EBBRT_AGENT_CONTROL';
/** Sent back first on a TCP channel (a `hello`), so a starter with one control port knows which launch dialled. */
export const AGENT_TOKEN_ENV = 'EBBRT_AGENT_TOKEN';

/** How the node agent talks to whoever started it. */
export interface AgentChannel {
  send(message: AgentFromNode): void;
  onMessage(handler: (message: AgentToNode) => void): void;
  /** The starter is gone: the node has no reason to exist. */
  onClose(handler: () => void): void;
}

/**
 * Node IPC when the agent was forked with an IPC slot (`@ebbrt/platform-process`); otherwise, with
 * `EBBRT_AGENT_CONTROL=host:port`, one TCP connection to the starter carrying one JSON message per
 * line, for launchers that cannot pass an IPC channel (srun, ssh).
 */
export function agentChannel(env: NodeJS.ProcessEnv = process.env): AgentChannel {
  const control = env[AGENT_CONTROL_ENV];
  if (control === undefined || control === '') return ipcChannel();
  const m = /^(.+):(\d+)$/.exec(control);
  if (m === null) throw new Error(`${AGENT_CONTROL_ENV}=${control} is not host:port`);
  return tcpChannel(m[1]!, Number(m[2]), env[AGENT_TOKEN_ENV]);
}

function ipcChannel(): AgentChannel {
  return {
    send: (message) => {
      if (process.connected) process.send!(message);
    },
    onMessage: (handler) => void process.on('message', (m) => handler(m as AgentToNode)),
    onClose: (handler) => void process.on('disconnect', handler),
  };
}

function tcpChannel(host: string, port: number, token: string | undefined): AgentChannel {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  if (token !== undefined && token !== '') socket.write(JSON.stringify({ type: 'hello', token } satisfies AgentFromNode) + '\n');
  const handlers: ((message: AgentToNode) => void)[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as AgentToNode;
      for (const h of handlers) h(message);
    }
  });
  socket.on('error', () => undefined);
  return {
    send: (message) => {
      if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n');
    },
    onMessage: (handler) => void handlers.push(handler),
    onClose: (handler) => void socket.once('close', handler),
  };
}

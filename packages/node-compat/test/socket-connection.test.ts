/**
 * net.Socket against a recording TcpConnection: what the shim asks of the NetworkManager
 * interface for flow control and socket options, independent of which stack implements it.
 */
import { IOBuf, type TcpConnection } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { NodeNet } from '../src/net/net.js';
import { Socket } from '../src/net/socket.js';
import type { NodeDns } from '../src/dns.js';
import type { NodeEbbs } from '../src/host.js';
import type { NodeTimers } from '../src/timers.js';

function recording(): { connection: TcpConnection; calls: string[] } {
  const calls: string[] = [];
  const connection: TcpConnection = {
    localPort: 80,
    remoteAddress: '10.0.0.9',
    remotePort: 5000,
    core: 0,
    send: () => calls.push('send'),
    sendQueued: (d) => void (calls.push('sendQueued'), d.releaseChain()),
    sendWindowRemaining: () => 1 << 20,
    bindCore: () => undefined,
    setNoDelay: (v) => void calls.push(`setNoDelay ${v}`),
    setKeepAlive: (e, ms) => void calls.push(`setKeepAlive ${e} ${ms}`),
    pauseReceive: () => void calls.push('pauseReceive'),
    resumeReceive: () => void calls.push('resumeReceive'),
    shutdown: () => void calls.push('shutdown'),
    close: () => void calls.push('close'),
    abort: () => void calls.push('abort'),
  };
  return { connection, calls };
}

function socket(): { s: Socket; calls: string[]; connection: TcpConnection } {
  // Only localAddress()/forget() of NodeNet are reached by these calls.
  const dns = { ownAddress: () => '10.0.0.1' } as Pick<NodeDns, 'ownAddress'> as NodeDns;
  const net = new NodeNet({} as NodeEbbs, {} as NodeTimers, dns);
  const { connection, calls } = recording();
  const s = new Socket(net).attach(connection);
  return { s, calls, connection };
}

const chunk = (n: number): IOBuf => IOBuf.wrap(new Uint8Array(n).fill(7));

describe('net.Socket over the TcpConnection interface', () => {
  it('a paused socket pauses the connection once the stream is full, and resumes it when read again', async () => {
    const { s, calls, connection } = socket();
    s.pause();
    const hwm = s.readableHighWaterMark;
    let pushed = 0;
    while (!calls.includes('pauseReceive')) {
      s.handler.receive(connection, chunk(4096));
      pushed += 4096;
      expect(pushed).toBeLessThanOrEqual(hwm + 4096);
    }
    expect(calls.filter((c) => c === 'pauseReceive')).toHaveLength(1);
    expect(calls).not.toContain('resumeReceive');
    let got = 0;
    s.on('data', (d: Buffer) => void (got += d.length));
    s.resume();
    await new Promise((r) => setImmediate(r));
    expect(got).toBe(pushed);
    expect(calls.at(-1)).toBe('resumeReceive');
    s.destroy();
  });

  it('a flowing socket whose consumer keeps up never pauses the connection', async () => {
    const { s, calls, connection } = socket();
    s.on('data', () => undefined);
    await new Promise((r) => setImmediate(r)); // on('data') starts the flow on the next tick
    for (let i = 0; i < 200; i++) s.handler.receive(connection, chunk(4096));
    expect(calls).not.toContain('pauseReceive');
    s.destroy();
  });

  it('setNoDelay and setKeepAlive reach the connection with Node defaults', () => {
    const { s, calls } = socket();
    s.setNoDelay();
    s.setNoDelay(false);
    s.setKeepAlive(true, 30_000);
    s.setKeepAlive(true);
    s.setKeepAlive(false);
    expect(calls.filter((c) => c.startsWith('set'))).toEqual(['setNoDelay true', 'setNoDelay false', 'setKeepAlive true 30000', 'setKeepAlive true undefined', 'setKeepAlive false undefined']);
    s.destroy();
  });
});

/**
 * Keepalive (RFC 9293 3.8.4) and the user timeout (RFC 9293 3.8.5 / RFC 5482): peers that vanish
 * are reaped. Simulation-free harness.
 */
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import type { TcpConfig } from '../src/index.js';
import { Harness } from './tcp-harness.js';

function pair(cfg: Partial<TcpConfig> = {}): { w: Harness; client: TcpConnection; aborted: Array<{ at: number; e: Error & { code?: string } }> } {
  const w = new Harness(cfg);
  const aborted: Array<{ at: number; e: Error & { code?: string } }> = [];
  w.b.listen(80, (): TcpHandler => ({ receive: (_c, d) => d.releaseChain() }), 0);
  const client = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain(), aborted: (_c, e) => void aborted.push({ at: w.now, e }) }, 0);
  w.run(1e6);
  return { w, client, aborted };
}

describe('keepalive and user timeout: vanished peers are reaped', () => {
  it('an idle connection whose peer vanished is aborted after idle + probes × interval (ETIMEDOUT)', () => {
    const { w, client, aborted } = pair({ keepaliveIntervalNs: 1e9, keepaliveProbes: 3 });
    client.setKeepAlive(true, 2_000);
    const t0 = w.now;
    w.tap = (s) => s.from !== w.addrB; // the peer is gone: nothing comes back
    w.run(t0 + 60e9);
    expect(aborted.map((a) => a.e.code)).toEqual(['ETIMEDOUT']);
    // Probes at +2 s, +3 s, +4 s; reaped at +5 s.
    expect((aborted[0]!.at - t0) / 1e9).toBeCloseTo(5, 2);
    expect(w.a.stats.keepaliveProbes).toBe(3);
    expect(w.a.stats.keepaliveTimeouts).toBe(1);
    expect(w.a.pcbs.size).toBe(0);
  });

  it('a live peer answers the probes: the connection stays up for hours of idle time', () => {
    const { w, client, aborted } = pair({ keepaliveIntervalNs: 1e9, keepaliveProbes: 3 });
    client.setKeepAlive(true, 2_000);
    w.run(w.now + 3600e9);
    expect(aborted).toEqual([]);
    expect(w.a.stats.keepaliveProbes).toBeGreaterThan(1000);
    expect(w.a.stats.keepaliveTimeouts).toBe(0);
    expect(w.a.pcbStates()).toEqual({ ESTABLISHED: 1 });
  });

  it('without keepalive the idle connection to a vanished peer stays forever (what keepalive fixes)', () => {
    const { w, aborted } = pair();
    w.tap = (s) => s.from !== w.addrB;
    w.run(w.now + 3600e9);
    expect(aborted).toEqual([]);
    expect(w.a.pcbStates()).toEqual({ ESTABLISHED: 1 });
  });

  it('user timeout: data unacknowledged for 3 s aborts at 3 s, not after 12 backed-off retransmissions', () => {
    const { w, client, aborted } = pair({ userTimeoutNs: 3e9 });
    w.tap = (s) => s.from !== w.addrB;
    const t0 = w.now;
    client.send(IOBuf.copyOf(new Uint8Array(1000)));
    w.run(t0 + 600e9);
    expect(aborted.map((a) => [a.e.code, a.e.message])).toEqual([['ETIMEDOUT', 'user timeout']]);
    expect((aborted[0]!.at - t0) / 1e9).toBeCloseTo(3, 3);
    expect(w.a.stats.userTimeouts).toBe(1);
  });

  it('setKeepAlive and setUserTimeout check their arguments', () => {
    const { w, client } = pair();
    expect(() => client.setKeepAlive('yes' as never)).toThrow(/expected a boolean/);
    expect(() => client.setKeepAlive(true, -5)).toThrow(/idleMs must be a positive number/);
    const pcb = [...w.a.pcbs.values()][0]!;
    expect(() => pcb.setUserTimeout(Number.NaN)).toThrow(/non-negative/);
  });
});

/**
 * Memory pressure on the native stack: a simulated node with little memory, a memory limit set
 * near what it can hold, and a client node flooding it with large values. Eviction (and, when RX
 * buffers run short, the driver's counted drops and TCP's retransmissions) must keep the node
 * serving: every reply well-formed, the newest values intact, no failed events.
 */
import { describe, expect, it } from 'vitest';
import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type MemoryAllocator, type NetworkManager, type TcpConnection } from '@ebbrt/interfaces';
import { netFixture } from '@ebbrt/testkit/net';
import { startMemcached, type MemcachedServer } from '../src/index.js';

const VALUE = 16 * 1024;
const SETS = 1500; // 24 MiB of values into a 32 MiB node with a 12 MiB store limit

function valueFor(i: number): Uint8Array {
  const v = new Uint8Array(VALUE);
  for (let k = 0; k < VALUE; k++) v[k] = (i * 31 + k) & 255;
  return v;
}

async function flood(memoryLimit: number, probe: boolean): Promise<{ server: MemcachedServer; stored: number; other: string; got: Uint8Array }> {
    const f = netFixture({ seed: 3, nodes: 2, cores: 2, memoryBytes: 32 * 1024 * 1024 });
    let server: MemcachedServer | undefined;
    const up = f.run(1, 0, async () => {
      const allocator = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
      server = await startMemcached(f.nodes[1]!.rep() as unknown as NetworkManager, {
        port: 11211,
        memoryLimit,
        threads: 2,
        // What main.ts gives it on a native node: the allocator's free pages, an eighth kept free.
        ...(probe ? { memoryPressure: { freeBytes: () => allocator.deref().freeBytes(), reserveBytes: 4 * 1024 * 1024 } } : {}),
      });
    });
    let stored = 0;
    let other = '';
    let got = new Uint8Array(0);
    const client = f.run(0, 0, () =>
      new Promise<void>((resolve, reject) => {
        let buffer = '';
        let sent = 0;
        let phase: 'sets' | 'get' = 'sets';
        const chunks: Uint8Array[] = [];
        const sendBatch = (c: TcpConnection): void => {
          for (let n = 0; n < 8 && sent < SETS; n++, sent++) {
            c.sendQueued(IOBuf.copyOf(`set k${sent} 0 0 ${VALUE}\r\n`));
            c.sendQueued(IOBuf.wrap(valueFor(sent)));
            c.sendQueued(IOBuf.copyOf('\r\n'));
          }
        };
        (f.nodes[0]!.rep() as unknown as NetworkManager).tcpConnect('10.0.0.2', 11211, {
          connected: (c) => sendBatch(c),
          receive(c, data) {
            if (phase === 'get') {
              chunks.push(data.toUint8Array());
              data.releaseChain();
              const all = Buffer.concat(chunks);
              if (all.subarray(all.length - 5).toString() === 'END\r\n') {
                got = all;
                c.close();
                resolve();
              }
              return;
            }
            buffer += Buffer.from(data.toUint8Array()).toString('latin1');
            data.releaseChain();
            let line: number;
            while ((line = buffer.indexOf('\r\n')) >= 0) {
              const reply = buffer.slice(0, line);
              buffer = buffer.slice(line + 2);
              if (reply === 'STORED') stored++;
              else other += reply + '\n';
            }
            if (stored + other.split('\n').length - 1 === sent) {
              if (sent < SETS) sendBatch(c);
              else {
                phase = 'get';
                c.sendQueued(IOBuf.copyOf(`get k${SETS - 1} k0\r\n`));
              }
            }
          },
          aborted: (_c, e) => reject(e),
        });
      }),
    );
    await f.sim.run({ untilNs: 120e9 });
    expect(up.error).toBeUndefined();
    expect(client.error, other).toBeUndefined();
    expect(client.done, `stored ${stored} of ${SETS}`).toBe(true);
    return { server: server!, stored, other, got };
}

function expectNewestExact(got: Uint8Array): void {
  // The newest value is intact; the oldest was evicted (only one VALUE line).
  const text = Buffer.from(got).toString('latin1');
  expect(text.startsWith(`VALUE k${SETS - 1} 0 ${VALUE}\r\n`)).toBe(true);
  expect(text.split('VALUE ').length - 1).toBe(1);
  const head = `VALUE k${SETS - 1} 0 ${VALUE}\r\n`.length;
  expect(Buffer.from(got.subarray(head, head + VALUE)).equals(Buffer.from(valueFor(SETS - 1)))).toBe(true);
}

describe('memcached under memory pressure (native stack)', () => {
  it('evicts by its own limit: the node keeps answering and the newest values come back exact', async () => {
    const { server, stored, other, got } = await flood(12 * 1024 * 1024, false);
    expect(stored).toBe(SETS);
    expect(other).toBe('');
    expect(server.store.counters.evictions).toBeGreaterThan(0);
    expect(server.store.chargedBytes).toBeLessThanOrEqual(12 * 1024 * 1024);
    expect(server.store.itemCount).toBeLessThan(SETS);
    expectNewestExact(got);
  }, 120_000);

  it("a store limit above the node's memory: the node's own free memory makes it evict", async () => {
    const { server, stored, other, got } = await flood(256 * 1024 * 1024, true);
    expect(stored).toBe(SETS);
    expect(other).toBe('');
    expect(server.store.counters.pressure_evictions).toBeGreaterThan(0);
    expect(server.store.chargedBytes).toBeLessThan(32 * 1024 * 1024);
    expectNewestExact(got);
  }, 120_000);
});

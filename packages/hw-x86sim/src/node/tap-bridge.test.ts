import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, type FramePort } from '../net/frame.js';
import { NetworkFabric } from '../net/link.js';
import { UdpTapBridge } from './tap-bridge.js';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

describe('UdpTapBridge', () => {
  it('turns datagrams into switch frames and switch frames into datagrams (loopback stand-in for socat)', async () => {
    const sim = new Simulation();
    const fab = new NetworkFabric(sim);
    const bridge = await UdpTapBridge.open(sim);
    const client = createSocket('udp4');
    try {
      expect(bridge.port).toBeGreaterThan(0);
      fab.connect(bridge, { latencyNs: 100 });
      const got: Uint8Array[] = [];
      let hostTx: FramePort | null = null;
      const host = {
        receive: (f: Uint8Array) => got.push(f),
        attach: (tx: FramePort) => {
          hostTx = tx;
        },
      };
      fab.connect(host);
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));

      // Kernel side -> simulation: one datagram = one frame (broadcast, so it floods to host).
      const fromKernel = buildEthernetFrame('ff:ff:ff:ff:ff:ff', '02:aa:00:00:00:01', 0x0806, new Uint8Array(28).fill(7));
      client.send(fromKernel, bridge.port, '127.0.0.1');
      await withTimeout(
        (async () => {
          while (bridge.stats.rxDatagrams === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        2_000,
        'the datagram',
      );
      await sim.run();
      expect(got).toEqual([fromKernel]);
      expect(bridge.peerAddress).toEqual({ address: '127.0.0.1', port: client.address().port });

      // Simulation -> kernel side: unicast to the learned MAC goes out as a datagram to the peer.
      const reply = buildEthernetFrame('02:aa:00:00:00:01', '02:00:00:00:00:02', 0x0806, new Uint8Array(28).fill(9));
      const received = new Promise<Buffer>((r) => client.once('message', (m) => r(m)));
      hostTx!.receive(reply);
      await sim.run();
      const dgram = await withTimeout(received, 2_000, 'the reply datagram');
      expect(new Uint8Array(dgram)).toEqual(reply);
      expect(bridge.stats).toMatchObject({ rxDatagrams: 1, txDatagrams: 1, txDropped: 0 });
    } finally {
      client.close();
      await bridge.close();
    }
  });
});

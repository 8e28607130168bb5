import { describe, expect, it } from 'vitest';
import { Simulation } from '@ebbrt/hw-x86sim';
import { PackageResolutionError, networkSchema, type EventManagerRoot, type NetworkManagerRoot } from '@ebbrt/interfaces';
import { AppNetwork, type GatewayNode } from './app-network.js';

describe('the gateway stack contract', () => {
  it('a NetworkManager root without the gateway capability is refused for host access, naming it', async () => {
    const simulation = new Simulation({ seed: 1, clock: 'virtual', console: 'silent' });
    const network = new AppNetwork(simulation, networkSchema.parse({ hostAccess: [8080] }), '.', false);
    // A second stack: a NetworkManager root that declares no `gateway` (it cannot listen on any port).
    const stack: NetworkManagerRoot = { handleFault: () => ({ interfaces: () => [], tcpListen: () => { throw new Error('unused'); }, tcpConnect: () => { throw new Error('unused'); }, udpBind: () => { throw new Error('unused'); } }) };
    const shutdowns: string[] = [];
    const events: EventManagerRoot = {
      handleFault: () => { throw new Error('unused'); },
      post: () => undefined,
      totalEvents: () => 0,
      onEventFailure: () => undefined,
      shutdown: () => void shutdowns.push('gateway'),
    };
    const gateway: GatewayNode = {
      events,
      root: () => stack,
      packageOf: () => '@acme/tiny-stack',
      runOn: async (_core, fn) => fn(),
    };
    await network.prepare(async () => gateway);
    const error = await network.open(() => undefined).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PackageResolutionError);
    expect((error as Error).message).toMatch(/@acme\/tiny-stack.*cannot serve as the gateway: its root has no gateway \(NetworkManagerRoot\.gateway, listenAnyPort\)/);
    // open() undid what it had begun: the gateway's loops were shut down.
    expect(shutdowns).toEqual(['gateway']);
  });
});

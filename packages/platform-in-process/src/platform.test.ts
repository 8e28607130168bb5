import { describe, expect, it } from 'vitest';
import type { LocalNode, LocalNodeHost, NodeShape } from '@ebbrt/interfaces';
import { InProcessPlatform } from './platform.js';

/** A local host that records what the platform asks of it. */
function recordingHost() {
  const events: string[] = [];
  const host: LocalNodeHost = {
    async boot(id: number, shape: NodeShape): Promise<LocalNode> {
      events.push(`boot ${id} ${shape.cores}`);
      return {
        async activate(info, posted) {
          events.push(`activate ${id} ${info.image}`);
          posted();
        },
        powerOff: () => void events.push(`power-off ${id}`),
        release: () => void events.push(`release ${id}`),
        introspect: () => ({ networkId: id, ebbs: [{ kind: 'EventManager', id: 3, packageName: '@ebbrt/event-manager' }], events: id * 10 }),
      };
    },
  };
  return { host, events };
}

describe('InProcessPlatform', () => {
  it('numbers nodes, reports activations, turns a kill into a death, releases once', async () => {
    const { host, events } = recordingHost();
    const platform = new InProcessPlatform(host);
    const activated: number[] = [];
    platform.onActivated((n) => activated.push(n.networkId));
    const a = await platform.boot({ cores: 2, memoryBytes: 4096 });
    const b = await platform.boot({ cores: 1, memoryBytes: 4096 });
    expect([a.networkId, b.networkId]).toEqual([1, 2]);
    expect([a.activated, b.activated]).toEqual([false, false]); // dormant until handed out
    await a.activate({ image: './main.mjs', args: [] });
    expect(activated).toEqual([1]);
    expect([a.activated, b.activated]).toEqual([true, false]);
    expect((await b.introspect()).events).toBe(20); // the node's own data, read through the host
    b.kill('pulled the plug');
    expect((await b.died).message).toBe('pulled the plug');
    await b.destroy();
    await expect(b.introspect()).rejects.toThrow('node 2 was destroyed');
    await b.destroy();
    b.kill('again'); // a freed node stays freed
    expect(platform.liveNodes.map((n) => n.networkId)).toEqual([1]);
    expect(platform.node(2)).toBeUndefined();
    expect(events).toEqual(['boot 1 2', 'boot 2 1', 'activate 1 ./main.mjs', 'power-off 2', 'release 2']);
  });
});

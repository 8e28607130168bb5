/**
 * `ebbrt run --ui [port]`: the run's live view on 127.0.0.1, streamed by @ebbrt/live-view's SSE
 * server. Snapshots are read only while a page is connected, every 250 ms, from what the run
 * already keeps (the platform's nodes, the simulation's machines and slice count): with `--ui`
 * off nothing here is even loaded.
 */
import type { LiveSnapshot, NodeSnapshot } from '@ebbrt/live-view';
import { startLiveViewServer, type LiveViewServer } from '@ebbrt/live-view/node';
import type { PlatformNode } from '@ebbrt/interfaces';
import type { StartedRun } from '../run-app.js';

interface Tracked {
  node: PlatformNode;
  activated: boolean;
  dead: string | undefined;
}

/** Reads a StartedRun as a live-view snapshot; remembers nodes that died so they show as dead. */
export class RunSnapshots {
  private readonly known = new Map<number, Tracked>();

  constructor(private readonly run: StartedRun, private readonly clock: 'virtual' | 'realtime') {
    // The configured back-ends were activated before the run started (onStarted comes after
    // boot): they are allocated. Nodes booted later are dormant until their image starts.
    for (const n of run.platform.liveNodes) this.track(n).activated = true;
    run.platform.onActivated((n) => {
      this.track(n).activated = true;
    });
  }

  private track(n: PlatformNode): Tracked {
    let t = this.known.get(n.networkId);
    if (t === undefined) {
      const fresh: Tracked = { node: n, activated: false, dead: undefined };
      t = fresh;
      this.known.set(n.networkId, fresh);
      n.died.then((e) => void (fresh.dead = e.message), () => undefined);
    }
    return t;
  }

  snapshot(): LiveSnapshot {
    const { simulation, platform } = this.run;
    for (const n of platform.liveNodes) this.track(n);
    const machines = new Map(simulation.machines.map((m) => [m.name, m]));
    const nodes: NodeSnapshot[] = [];
    for (const [id, t] of [...this.known].sort((a, b) => a[0] - b[0])) {
      const m = machines.get(`node${id}`);
      const dead = t.dead !== undefined || !platform.liveNodes.includes(t.node);
      const cores = m !== undefined && !dead
        ? m.cores.map((c) => ({ index: c.index, state: c.state }))
        : Array.from({ length: t.node.shape.cores }, (_, index) => ({ index, state: 'off' }));
      nodes.push({
        id,
        name: `node ${id}`,
        state: dead ? 'dead' : t.activated ? 'allocated' : 'dormant',
        cores,
        ...(t.dead !== undefined ? { cause: t.dead } : {}),
      });
    }
    return {
      timeNs: simulation.now(),
      clock: this.clock,
      nodes,
      edges: [],
      counters: { slices: simulation.totalSlices, machines: simulation.machines.length },
    };
  }
}

/** Starts the dashboard for a run; the caller closes it when the run ends. */
export async function startRunUi(run: StartedRun, port: number, clock: 'virtual' | 'realtime', title: string): Promise<LiveViewServer> {
  const snapshots = new RunSnapshots(run, clock);
  return startLiveViewServer({ port, snapshot: () => snapshots.snapshot(), title });
}

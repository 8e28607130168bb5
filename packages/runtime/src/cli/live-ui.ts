/**
 * `ebbrt run --ui [port]`: the run's live view on 127.0.0.1, streamed by @ebbrt/live-view's SSE
 * server. Snapshots are read only while a page is connected, every 250 ms, from what the run
 * already keeps (the platform's nodes, the simulation's machines and slice count): with `--ui`
 * off nothing here is even loaded.
 */
import type { EdgeSnapshot, LiveSnapshot, NodeSnapshot } from '@ebbrt/live-view';
import { startLiveViewServer, type LiveViewServer } from '@ebbrt/live-view/node';
import type { NodeIntrospection, PlatformNode } from '@ebbrt/interfaces';
import type { StartedRun } from '../run-app.js';

interface Tracked {
  node: PlatformNode;
  activated: boolean;
  dead: string | undefined;
}

/** Reads a StartedRun as a live-view snapshot; remembers nodes that died so they show as dead. */
export class RunSnapshots {
  private readonly known = new Map<number, Tracked>();
  /** Each node's last introspection (asked for at every snapshot, shown at the next). */
  private readonly data = new Map<number, NodeIntrospection>();

  constructor(private readonly run: Pick<StartedRun, 'simulation' | 'platform'>, private readonly clock: 'virtual' | 'realtime') {
    // The configured back-ends were activated before the run started (onStarted comes after
    // boot): they are allocated. Nodes booted later are dormant until their image starts.
    // A platform that declares `activated` says which of them are still dormant (a pool).
    for (const n of run.platform.liveNodes) this.track(n).activated = n.activated ?? true;
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

  /** Asks every live node that can be introspected for its Ebbs' stats; resolves once all answered. */
  refresh(): Promise<void> {
    const asks = this.run.platform.liveNodes.map((n) =>
      n.introspect?.().then((d) => void this.data.set(n.networkId, d), () => undefined),
    );
    return Promise.all(asks).then(() => undefined);
  }

  snapshot(): LiveSnapshot {
    void this.refresh();
    const { simulation, platform } = this.run;
    for (const n of platform.liveNodes) this.track(n);
    const machines = new Map(simulation.machines.map((m) => [m.name, m]));
    const nodes: NodeSnapshot[] = [];
    const edges: EdgeSnapshot[] = [];
    for (const [id, t] of [...this.known].sort((a, b) => a[0] - b[0])) {
      const m = machines.get(`node${id}`);
      const dead = t.dead !== undefined || !platform.liveNodes.includes(t.node);
      const cores = m !== undefined && !dead
        ? m.cores.map((c) => ({ index: c.index, state: c.state }))
        : Array.from({ length: t.node.shape.cores }, (_, index) => ({ index, state: 'off' }));
      const activated = t.node.activated ?? t.activated;
      const d = this.data.get(id);
      nodes.push({
        id,
        name: `node ${id}`,
        state: dead ? 'dead' : activated ? 'allocated' : 'dormant',
        cores,
        ...(d !== undefined ? introspected(d) : {}),
        ...(t.dead !== undefined ? { cause: t.dead } : {}),
      });
      for (const p of d?.messenger?.peers ?? []) if (p.messagesSent > 0) edges.push({ from: id, to: p.peer, messages: p.messagesSent, bytes: p.bytesSent });
    }
    return {
      timeNs: simulation.now(),
      clock: this.clock,
      nodes,
      edges,
      counters: { slices: simulation.totalSlices, machines: simulation.machines.length },
    };
  }
}

/** A node's introspection as the live view's card fields. */
function introspected(d: NodeIntrospection): Partial<NodeSnapshot> {
  const out: Partial<NodeSnapshot> = { ebbs: Object.fromEntries(d.ebbs.map((e) => [`${e.kind} #${e.id}`, e.packageName])) };
  if (d.events !== undefined) out.events = d.events;
  if (d.memory !== undefined) out.memory = { totalBytes: d.memory.totalBytes, freePageBytes: d.memory.freePageBytes };
  if (d.network !== undefined) {
    out.nic = { ...d.network.nic, ...d.network.drops };
    out.tcp = d.network.connections.map((c) => ({ local: `${c.localAddress}:${c.localPort}`, remote: `${c.remoteAddress}:${c.remotePort}`, state: c.state, sendQueued: c.sendQueued, receiveQueued: c.receiveQueued }));
  }
  if (d.messenger !== undefined) {
    out.messagesSent = d.messenger.peers.reduce((a, p) => a + p.messagesSent, 0);
    out.messagesReceived = d.messenger.peers.reduce((a, p) => a + p.messagesReceived, 0);
  }
  return out;
}

/** Starts the dashboard for a run; the caller closes it when the run ends. */
export async function startRunUi(run: StartedRun, port: number, clock: 'virtual' | 'realtime', title: string): Promise<LiveViewServer> {
  const snapshots = new RunSnapshots(run, clock);
  return startLiveViewServer({ port, snapshot: () => snapshots.snapshot(), title });
}

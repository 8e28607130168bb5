/**
 * `ebbrt run --ui [port]`: the run's live view on 127.0.0.1, streamed by @ebbrt/live-view's SSE
 * server. Snapshots are read only while a page is connected, every 250 ms, from what the run
 * already keeps (the platform's nodes, the simulation's machines and their core counters, the
 * front-end's Ebbs). The trace panel reads a bounded ring fed by the trace recorder's tap; the
 * page's pause / step / resume buttons drive the simulation (virtual clock only). With `--ui`
 * off nothing here is even loaded.
 */
import { TraceRing, networkFields, type ControlRequest, type ControlState, type EdgeSnapshot, type LiveSnapshot, type NodeSnapshot } from '@ebbrt/live-view';
import { startLiveViewServer, type LiveViewServer } from '@ebbrt/live-view/node';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { NodeIntrospection, NodeTraceBatch, PlatformNode } from '@ebbrt/interfaces';
import type { Simulation } from '@ebbrt/hw-x86sim';
import type { StartedRun } from '../run-app.js';
import { coresOf, introspectNode } from '../boot/introspect-node.js';
import { CoreRates } from './live-cores.js';
import { ClockOffset } from './clock-offset.js';

interface Tracked {
  node: PlatformNode;
  activated: boolean;
  dead: string | undefined;
}

export interface RunSnapshotOptions {
  /**
   * A blocked event older than this many simulation ms is highlighted. Default: the config's
   * `watchdog.budgetUs` (the Event Manager's watchdog budget) when it has one, else 100.
   */
  watchdogMs?: number;
  /** Called when a tracked node dies (the dashboard pushes a snapshot at once rather than at its next tick). */
  onNodeDied?: () => void;
  /**
   * Receives the trace events of nodes whose simulation is not this process's (process-platform
   * and Slurm nodes answer them with their introspection), with `offsetNs`: added to an event's
   * `tsNs` (the node's own clock), it gives this simulation's time. Absent: their trace is not asked for.
   */
  remoteTrace?: (node: number, batch: NodeTraceBatch, offsetNs: number) => void;
}

/** Reads a StartedRun as a live-view snapshot; remembers nodes that died so they show as dead. */
export class RunSnapshots {
  private readonly known = new Map<number, Tracked>();
  /** Each node's last introspection and when it came (asked for at every snapshot, shown at the next). */
  private readonly data = new Map<number, { d: NodeIntrospection; atMs: number }>();
  private readonly rates: CoreRates;
  private readonly onNodeDied: (() => void) | undefined;
  private readonly remoteTrace: RunSnapshotOptions['remoteTrace'];
  /** Per remote node: the cursor of its trace (the last event it sent). */
  private readonly traceCursors = new Map<number, number>();
  /** Nodes with a trace ask in flight: asked for stats only until it answers (a cursor is used once). */
  private readonly tracing = new Set<number>();
  /** Per remote node: its clock against this simulation's, from each answer's timing. */
  private readonly clocks = new Map<number, ClockOffset>();
  /** Per remote node: trace events it dropped before they were read (its ring overwrote them, or a batch's limit). */
  private readonly traceSkipped = new Map<number, number>();

  constructor(
    private readonly run: Pick<StartedRun, 'simulation' | 'platform'> & Partial<Pick<StartedRun, 'frontend' | 'config'>>,
    private readonly clock: 'virtual' | 'realtime',
    options: RunSnapshotOptions = {},
  ) {
    const budgetUs = run.config?.watchdog?.budgetUs;
    this.rates = new CoreRates(options.watchdogMs ?? (budgetUs !== undefined ? budgetUs / 1000 : 100));
    this.onNodeDied = options.onNodeDied;
    this.remoteTrace = options.remoteTrace;
    // The configured back-ends were activated before the run started (onStarted comes after
    // boot): they are allocated. Nodes booted later are dormant until their image starts.
    // A platform that declares `activated` says which of them are still dormant (a pool).
    for (const n of run.platform.liveNodes) this.track(n).activated = n.activated ?? true;
    run.platform.onActivated((n) => {
      this.track(n).activated = true;
    });
    // Idle % needs each slice's host time: sampled only while a dashboard watches this run.
    run.simulation.sampleCores = true;
  }

  private track(n: PlatformNode): Tracked {
    let t = this.known.get(n.networkId);
    if (t === undefined) {
      const fresh: Tracked = { node: n, activated: false, dead: undefined };
      t = fresh;
      this.known.set(n.networkId, fresh);
      n.died.then((e) => {
        fresh.dead = e.message;
        this.onNodeDied?.();
      }, () => undefined);
    }
    return t;
  }

  /** Asks every live node that can be introspected for its Ebbs' stats; resolves once all answered. */
  refresh(): Promise<void> {
    const local = new Set(this.run.simulation.machines.map((m) => m.name));
    const asks = this.run.platform.liveNodes.map((n) => {
      const id = n.networkId;
      // A node whose machine is in this simulation is traced by this process's tap already.
      const traced = this.remoteTrace !== undefined && !local.has(`node${id}`) && !this.tracing.has(id);
      if (traced) this.tracing.add(id);
      const sentNs = this.run.simulation.now();
      return n
        .introspect?.(traced ? { traceAfter: this.traceCursors.get(id) ?? 0 } : undefined)
        .then((d) => {
          this.data.set(id, { d, atMs: performance.now() });
          let clock = this.clocks.get(id);
          if (d.nowNs !== undefined) {
            if (clock === undefined) this.clocks.set(id, (clock = new ClockOffset()));
            clock.sample(sentNs, this.run.simulation.now(), d.nowNs);
          }
          if (d.trace !== undefined && this.remoteTrace !== undefined) {
            this.traceCursors.set(id, d.trace.last);
            if (d.trace.skipped > 0) this.traceSkipped.set(id, (this.traceSkipped.get(id) ?? 0) + d.trace.skipped);
            // A node that sends no clock (an older agent) keeps its own times.
            this.remoteTrace(id, d.trace, clock?.offsetNs ?? 0);
          }
        }, () => undefined)
        .finally(() => {
          if (traced) this.tracing.delete(id);
        });
    });
    return Promise.all(asks).then(() => undefined);
  }

  /** The pause / step / resume buttons' state. */
  control(): ControlState {
    const sim = this.run.simulation;
    if (this.clock !== 'virtual') return { available: false, paused: false, reason: 'realtime clock: pause, step and resume need the virtual clock' };
    if (!sim.running) return { available: false, paused: sim.paused, reason: 'the run has ended' };
    return { available: true, paused: sim.paused };
  }

  snapshot(): LiveSnapshot {
    void this.refresh();
    const { simulation, platform, frontend } = this.run;
    for (const n of platform.liveNodes) this.track(n);
    const machines = new Map(simulation.machines.map((m) => [m.name, m]));
    const now = performance.now();
    const nodes: NodeSnapshot[] = [];
    const edges: EdgeSnapshot[] = [];
    const addEdges = (id: number, d: NodeIntrospection | undefined): void => {
      for (const p of d?.messenger?.peers ?? []) if (p.messagesSent > 0) edges.push({ from: id, to: p.peer, messages: p.messagesSent, bytes: p.bytesSent });
    };
    if (frontend !== undefined) {
      // Node 0 runs on the host (its cores are host event-loop turns, not simulated cores).
      const d = introspectNode(frontend);
      nodes.push({
        id: 0,
        name: 'node 0 (front-end)',
        role: 'frontend',
        state: 'allocated',
        cores: Array.from({ length: frontend.context.numCores }, (_, index) => ({ index, state: 'hosted' })),
        ...introspected(d),
      });
      addEdges(0, d);
    }
    for (const [id, t] of [...this.known].sort((a, b) => a[0] - b[0])) {
      const m = machines.get(`node${id}`);
      const dead = t.dead !== undefined || !platform.liveNodes.includes(t.node);
      const got = this.data.get(id);
      // A machine in this process is read now; one elsewhere through its agent's last answer.
      const counted = dead ? undefined : m !== undefined ? { cores: coresOf(m, simulation.now()), atMs: now } : got?.d.cores !== undefined ? { cores: got.d.cores, atMs: got.atMs } : undefined;
      if (dead) {
        this.rates.forget(id);
        this.traceCursors.delete(id);
        this.clocks.delete(id);
      }
      const cores = counted !== undefined
        ? counted.cores.map((c) => this.rates.snapshot(id, c, counted.atMs))
        : Array.from({ length: t.node.shape.cores }, (_, index) => ({ index, state: dead ? 'off' : 'unknown' }));
      const activated = t.node.activated ?? t.activated;
      nodes.push({
        id,
        name: `node ${id}`,
        role: 'backend',
        state: dead ? 'dead' : activated ? 'allocated' : 'dormant',
        cores,
        ...(got !== undefined ? introspected(got.d) : {}),
        ...(t.dead !== undefined ? { cause: t.dead } : {}),
        ...(this.traceSkipped.has(id) ? { traceSkipped: this.traceSkipped.get(id)! } : {}),
      });
      addEdges(id, got?.d);
    }
    return {
      timeNs: simulation.now(),
      clock: this.clock,
      control: this.control(),
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
  if (d.network !== undefined) Object.assign(out, networkFields(d.network));
  if (d.messenger !== undefined) {
    out.messagesSent = d.messenger.peers.reduce((a, p) => a + p.messagesSent, 0);
    out.messagesReceived = d.messenger.peers.reduce((a, p) => a + p.messagesReceived, 0);
  }
  return out;
}

/** Carries out a page's control request on the simulation; throws (the page shows it) when it cannot. */
export function controlSimulation(sim: Simulation, request: ControlRequest): { paused: boolean; slices: number } {
  if (sim.clockKind !== 'virtual') throw new Error(`${request.action} needs the virtual clock: this run is realtime, where simulation time follows the wall clock`);
  if (!sim.running) throw new Error(`${request.action}: the run has ended`);
  if (request.action === 'pause') sim.pause();
  else if (request.action === 'resume') sim.resume();
  else if (!sim.paused) throw new Error('step needs a paused simulation: press Pause first');
  else sim.step(request.steps);
  return { paused: sim.paused, slices: sim.totalSlices };
}

/**
 * Maps trace pids to node ids, remembering machines that are gone so their last events keep a
 * node. A machine that is no node (the network's gateway) is named by its machine name.
 */
export function tracePids(sim: Simulation): (pid: number) => number | string | undefined {
  const known = new Map<number, number | string | undefined>();
  return (pid) => {
    if (!known.has(pid)) {
      // A pid is in the trace only once its machine exists: look once, remember misses too.
      known.set(pid, undefined);
      for (const m of sim.machines) {
        if (m.tracePid !== pid) continue;
        const id = /^node(\d+)$/.exec(m.name);
        known.set(pid, id !== null ? Number(id[1]) : m.name);
      }
    }
    return known.get(pid);
  };
}

/**
 * The page's title for `ebbrt run <appDir>`: the app's configured name, or (an app left with the
 * default name) its directory as typed relative to `cwd`, or its basename when it is elsewhere:
 * never an absolute path (a temp dir's, a home directory's).
 */
export function uiTitle(configName: string, appDir: string, cwd: string): string {
  if (configName !== 'app') return `ebbrt run ${configName}`;
  const rel = relative(cwd, resolve(cwd, appDir));
  if (rel === '') return `ebbrt run ${basename(cwd) || '.'}`;
  return `ebbrt run ${rel.startsWith('..') || isAbsolute(rel) ? basename(resolve(cwd, appDir)) : rel}`;
}

export interface RunUiOptions extends RunSnapshotOptions {
  /** Trace events the server keeps for the trace panel (default 4096). */
  traceCapacity?: number;
}

/** Starts the dashboard for a run; the caller closes it when the run ends. */
export async function startRunUi(run: StartedRun, port: number, clock: 'virtual' | 'realtime', title: string, options: RunUiOptions = {}): Promise<LiveViewServer> {
  let server: LiveViewServer | undefined;
  const ring = new TraceRing(options.traceCapacity ?? 4096);
  const snapshots = new RunSnapshots(run, clock, {
    ...options,
    onNodeDied: () => server?.push(),
    // A remote node's events come with its answers, on its own clock: moved onto this one's.
    remoteTrace: (node, batch, offsetNs) => {
      for (const e of batch.events) ring.pushFrom(node, e.ph, e.core, e.name, e.tsNs + offsetNs, e.durNs);
    },
  });
  const { simulation } = run;
  const nodeOf = tracePids(simulation);
  server = await startLiveViewServer({
    port,
    title,
    snapshot: () => snapshots.snapshot(),
    trace: (after, max) => ring.since(after, max, nodeOf),
    control: (request) => controlSimulation(simulation, request),
  });
  // The tap only sees events (it feeds nothing back), so the run traces as it would untapped.
  simulation.trace.tap = ring.push;
  const started = server;
  return {
    url: started.url,
    push: () => started.push(),
    close: () => {
      if (simulation.trace.tap === ring.push) simulation.trace.tap = null;
      return started.close();
    },
  };
}

import { EbbRef } from '@ebbrt/core-translation';
import { EbbrtError, NodeUnavailableError, SystemEbbIds, type GlobalIdMap, type Timer } from '@ebbrt/interfaces';

/**
 * The counter's checkpoints live in the application's GlobalIdMap, whose table is on the
 * front-end (node 0): one entry per counter node and core, the core's count as decimal text.
 * The ids come from a range no Ebb of this app allocates.
 */
const CHECKPOINT_BASE = 0x7200_0000;
export const checkpointId = (node: number, core: number): number => CHECKPOINT_BASE + node * 0x100 + core;

/** How long a refused or unreachable checkpoint waits before it is sent again (µs of the node's clock). */
const RETRY_US = 1_000;

/** Retries so far: the error codes of the front-end requests that a later attempt repeated. */
export interface RetryCounts {
  /** Refused by an injected offload fault (never sent, so nothing was applied). */
  refused: number;
  /** The front-end did not answer or could not be reached. */
  unavailable: number;
}

/** True for the errors a retry can mend: an injected refusal, or a home that did not answer. */
export function retryable(e: unknown): boolean {
  return e instanceof NodeUnavailableError || (e instanceof EbbrtError && e.code === 'EBBRT_GLOBAL_ID_MAP_OFFLOAD_FAULT');
}

/** Counts `e` (a retryable error) in `counts`. */
export function countRetry(counts: RetryCounts, e: unknown): void {
  if (e instanceof NodeUnavailableError) counts.unavailable++;
  else counts.refused++;
}

/** A per-core rep whose count must be durable before an add to it is acked. */
export interface DurableCount {
  count: number;
  /** Adds applied to `count` so far. */
  version: number;
  /** The last version the front-end holds. */
  durable: number;
  /** A set is in flight (at most one per rep: see `CheckpointWriter`). */
  writing: boolean;
  /** Acks waiting for their version to be durable, in version order. */
  waiting: { version: number; done: () => void }[];
}

export const durableCount = (): DurableCount => ({ count: 0, version: 0, durable: 0, writing: false, waiting: [] });

const mapRef = new EbbRef<GlobalIdMap>(SystemEbbIds.GlobalIdMap);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/**
 * Writes a core's count to its checkpoint and runs each add's ack once the checkpoint holds it.
 * Called on the rep's core only, so one writer per rep. At most one set per rep is in flight:
 * the home applies sets in arrival order, and a later set sent while an earlier one sat in a
 * delay (the offload delay fault) could arrive first and then be overwritten by the older
 * value. The next set carries the latest count, so adds applied meanwhile share it. A refused
 * set (the offload fail fault) was never sent and is simply sent again.
 *
 * The planted `stale-checkpoint` bug (`concurrent`) sends a set per add at once, without waiting
 * for the one in flight: the front-end may keep an older count than the node's.
 */
export class CheckpointWriter {
  constructor(
    private readonly node: number,
    private readonly retries: RetryCounts,
    private readonly concurrent = false,
  ) {}

  /** After `rep.count` changed by one add: `done` runs once the front-end holds that count. */
  afterAdd(core: number, rep: DurableCount, done: () => void): void {
    rep.version++;
    rep.waiting.push({ version: rep.version, done });
    if (!rep.writing || this.concurrent) this.write(core, rep);
  }

  private write(core: number, rep: DurableCount): void {
    rep.writing = true;
    const version = rep.version;
    mapRef
      .deref()
      .set(checkpointId(this.node, core), String(rep.count))
      .then(
        () => {
          rep.durable = Math.max(rep.durable, version);
          let i = 0;
          while (i < rep.waiting.length && rep.waiting[i]!.version <= version) i++;
          const done = rep.waiting.splice(0, i);
          rep.writing = false;
          if (rep.version > rep.durable && !this.concurrent) this.write(core, rep);
          for (const w of done) w.done();
        },
        (e: unknown) => {
          // Anything but a refusal or an unreachable home is a bug: it fails the event (and the seed).
          if (!retryable(e)) throw e;
          countRetry(this.retries, e);
          timerRef.deref().start(() => this.write(core, rep), RETRY_US);
        },
      );
  }
}

/** Reads a checkpoint (on the calling core), retrying what `retryable` allows: the count, 0 if never written. */
export async function readCheckpoint(node: number, core: number, retries: RetryCounts): Promise<number> {
  for (;;) {
    try {
      const v = await mapRef.deref().get(checkpointId(node, core));
      return v === undefined ? 0 : Number(v);
    } catch (e) {
      if (!retryable(e)) throw e;
      countRetry(retries, e);
      await timerRef.deref().sleep(RETRY_US);
    }
  }
}

import { EbbRef } from '@ebbrt/core-translation';
import { FileSystemError, NodeUnavailableError, SystemEbbIds, type FileSystem, type Timer } from '@ebbrt/interfaces';

/**
 * Each counter node's write-ahead journal: a file on the front-end (through the offloaded
 * FileSystem), one line `add <id> <n>` per applied add, appended before the add is acked. Under
 * `ebbrt test` each seed has its own copy-on-write view of the app directory, so seeds running
 * side by side never share a journal; `ebbrt run` writes it to `journal/` in the app directory.
 */
export const journalPath = (node: number): string => `journal/node-${node}.log`;

/** How long a refused or unanswered file request waits before it is sent again (µs of the node's clock). */
const RETRY_US = 1_000;

const fsRef = new EbbRef<FileSystem>(SystemEbbIds.FileSystem);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/** True for the errors a retry can mend: an injected refusal (never sent) or a front-end that did not answer. */
export function fsRetryable(e: unknown): boolean {
  return e instanceof NodeUnavailableError || (e instanceof FileSystemError && e.code === 'EBBRT_FS_OFFLOAD_FAULT');
}

/** Runs `call` until it succeeds, retrying what `fsRetryable` allows (counted in `retries`); any other error rejects. */
export async function withFileRetries<T>(call: () => Promise<T>, retries: { refused: number }): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!fsRetryable(e)) throw e;
      retries.refused++;
      await timerRef.deref().sleep(RETRY_US);
    }
  }
}

/**
 * Appends a node's records. `ready` is false until the journal is made empty at boot (so a run on
 * the disk starts afresh); adds that arrive before are not applied, and the driver resends them.
 *
 * The planted `lost-journal` bug (`ignoreErrors`) takes a failed append as done and acks the add
 * anyway, as "the journal is best effort" code does: an add refused by the offload fail fault is
 * acked but missing from the journal.
 */
export class JournalWriter {
  ready = false;
  readonly retries = { refused: 0 };

  constructor(
    private readonly node: number,
    private readonly ignoreErrors = false,
  ) {}

  /** Creates `journal/` and empties the node's file; then `ready`. */
  async open(): Promise<void> {
    await withFileRetries(() => fsRef.deref().mkdir('journal', { recursive: true }), this.retries);
    await withFileRetries(() => fsRef.deref().writeFile(journalPath(this.node), ''), this.retries);
    this.ready = true;
  }

  /** Appends add `id` of `n` on the calling core; `done` runs once the front-end holds the record. */
  append(id: number, n: number, done: () => void): void {
    fsRef
      .deref()
      .appendFile(journalPath(this.node), `add ${id} ${n}\n`)
      .then(done, (e: unknown) => {
        if (this.ignoreErrors) return done();
        // Anything but a refusal or an unanswered request is a bug: it fails the event (and the seed).
        if (!fsRetryable(e)) throw e;
        this.retries.refused++;
        timerRef.deref().start(() => this.append(id, n, done), RETRY_US);
      });
  }
}

/** A journal's distinct adds (a record appended twice, after a retry of an unanswered request, counts once). */
export function journalSum(text: string): { sum: number; records: number; distinct: number } {
  const seen = new Map<number, number>();
  let records = 0;
  for (const line of text.split('\n')) {
    const m = /^add (\d+) (\d+)$/.exec(line);
    if (m === null) continue;
    records++;
    seen.set(Number(m[1]), Number(m[2]));
  }
  let sum = 0;
  for (const n of seen.values()) sum += n;
  return { sum, records, distinct: seen.size };
}

/** Reads node `node`'s journal (on the calling core), retrying refusals. */
export async function readJournal(node: number, retries: { refused: number }): Promise<ReturnType<typeof journalSum>> {
  const buf = await withFileRetries(() => fsRef.deref().readFile(journalPath(node)), retries);
  const text = new TextDecoder().decode(buf.toUint8Array());
  buf.releaseChain();
  return journalSum(text);
}

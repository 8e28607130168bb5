/**
 * The MultiLibOS front-end as a Node REPL (the paper's Sage console). The matrix API is in
 * scope; every call from a REPL line enters the front-end's core through `ctx.post`, so the REPL
 * needs no knowledge of cores. `nodes()` is the NodeAllocator's live count.
 */
import { createInterface } from 'node:readline';
import repl from 'node:repl';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NodeAllocator } from '@ebbrt/interfaces';
import { DistMatrix, MatrixSpace, packed, perTile } from '@ebbrt/matrix';
import type { AppContext } from '@ebbrt/runtime';
import { Matrix } from 'ml-matrix';

/** Options from the environment: MATRIX_TILE (default 1024), MATRIX_PLACEMENT ('per-tile' or 'packed:N'). */
function placementFrom(text: string | undefined) {
  if (text === undefined || text === '' || text === 'per-tile') return perTile();
  const m = /^packed:(\d+)$/.exec(text);
  if (m === null) throw new Error(`MATRIX_PLACEMENT must be 'per-tile' or 'packed:N', got ${JSON.stringify(text)}`);
  return packed(Number(m[1]));
}

function feedLines(server: repl.REPLServer, input: PassThrough): void {
  const queue: string[] = [];
  let ended = false;
  let evaluating = false;
  const defaultEval = server.eval;
  const evalLine: repl.REPLEval = function (this: repl.REPLServer, cmd, context, file, cb) {
    evaluating = true;
    defaultEval.call(this, cmd, context, file, (error, result) => {
      cb(error, result);
      evaluating = false;
      setImmediate(pump);
    });
  };
  (server as { eval: repl.REPLEval }).eval = evalLine;
  const pump = (): void => {
    if (evaluating) return;
    const line = queue.shift();
    if (line === undefined) {
      if (ended) server.close();
      return;
    }
    input.write(line + '\n');
    // A blank or unfinished line evaluates nothing: go on to the next one.
    setImmediate(() => {
      if (!evaluating) pump();
    });
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    queue.push(line);
    if (queue.length === 1) setImmediate(pump);
  });
  lines.on('close', () => {
    ended = true;
    setImmediate(pump);
  });
}

export async function main(ctx: AppContext): Promise<void> {
  const space = new MatrixSpace({
    tileSize: Number(process.env.MATRIX_TILE ?? 1024),
    placement: placementFrom(process.env.MATRIX_PLACEMENT),
    post: ctx.post,
  });
  const allocator = new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();
  // What `node --expose-gc` gives, so `collect()` can show the FinalizationRegistry backstop.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const live = (): number => allocator.liveNodes().length;

  const scope = {
    space,
    Matrix,
    DistMatrix,
    zeros: (rows: number, cols: number, tileSize?: number) => space.zeros(rows, cols, tileSize),
    random: (rows: number, cols: number, seed = 1, tileSize?: number) => space.random(rows, cols, seed, tileSize),
    fromMatrix: (m: Matrix, tileSize?: number) => space.fromMatrix(m, tileSize),
    /** The NodeAllocator's live node count. */
    nodes: live,
    /** Collects dropped matrices: gc() and a task turn until the count stops falling (at most ~2 s). */
    async collect(): Promise<number> {
      for (let i = 0, last = -1; i < 40 && live() !== last; i++) {
        last = live();
        for (let j = 0; j < 5; j++) {
          gc();
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      return live();
    },
  };
  const terminal = process.stdin.isTTY === true;
  ctx.log(`matrix REPL: tile ${space.tileSize}, placement ${space.placement.name}; in scope: ${Object.keys(scope).join(', ')}`);
  // Piped input (a script, a test) is fed one line at a time, each after the previous line's
  // evaluation (top-level await included) has finished, as a person at the console would.
  const input = terminal ? process.stdin : new PassThrough();
  const server = repl.start({ prompt: terminal ? 'matrix> ' : '', input, output: process.stdout, terminal, useGlobal: true, ignoreUndefined: true });
  Object.assign(server.context, scope);
  const done = new Promise<void>((resolve) => server.on('exit', resolve));
  if (input instanceof PassThrough) feedLines(server, input);
  ctx.signal.addEventListener('abort', () => server.close(), { once: true });
  await done;
  await space.close();
  ctx.log(`matrix REPL: closed; nodes ${live()}`);
}

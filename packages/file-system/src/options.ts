import { offloadFaultSchema } from '@ebbrt/interfaces';
import { z } from 'zod';

export const fileSystemOptionsSchema = z.strictObject({
  /**
   * The directory every path is confined to, on the serving node (the front-end). Relative to
   * the process's working directory; the runtime should imply the app's directory. Default: the
   * working directory.
   */
  root: z.string().min(1).optional(),
  /** Network id of the node that serves files (the front-end by default). */
  home: z.number().int().min(0).max(0xffffffff).default(0),
  /** A request the home accepted but did not answer rejects after this long (Timer Ebb time). */
  timeoutMs: z.number().positive().max(86_400_000).default(30_000),
  /** Largest file read or written, in bytes. Files travel as one Messenger message, so it must stay under the Messenger's maxMessageBytes (16 MiB by default). */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .max(15 * 1024 * 1024, 'must fit in one Messenger message (16 MiB by default)')
    .default(8 * 1024 * 1024),
  /**
   * How the home does its file I/O: `async` (node:fs/promises, the default) or `sync` (each call
   * completes inside the event that serves it). The runtime implies `sync` under the virtual clock,
   * where the front-end answers a node while the simulation is frozen and only work done inside its
   * events is replayable by seed. `memory` is a copy-on-write view of the root private to this
   * node's FileSystem: reads see the disk, writes stay in memory and vanish with the run (the
   * runtime implies it for `ebbrt test` seeds, which run side by side in one app directory).
   */
  io: z.enum(['async', 'sync', 'memory']).default('async'),
  /** Injected faults of this node's requests to the home (the runtime implies `faults.offload.fileSystem`). */
  faults: offloadFaultSchema.optional(),
});
export type FileSystemOptions = z.output<typeof fileSystemOptionsSchema>;
export type FileSystemOptionsInput = z.input<typeof fileSystemOptionsSchema>;

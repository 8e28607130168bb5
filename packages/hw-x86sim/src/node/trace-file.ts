import { writeFile } from 'node:fs/promises';
import type { TraceRecorder } from '../trace.js';

/** Write `trace.toJSON()` to `path` (Node only; a page offers the JSON as a download instead). */
export async function writeTraceFile(trace: TraceRecorder, path: string): Promise<void> {
  await writeFile(path, trace.toJSON(), 'utf8');
}

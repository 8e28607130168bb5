import { fileURLToPath } from 'node:url';
import type { NodeAgentCommand } from '@ebbrt/interfaces';

/** From the sources, the agent needs tsx and the `source` condition too; from the build, plain Node. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** Found once: under tsx, `import.meta.resolve` is a synchronous round trip to the loader's thread, and every run asks. */
const TSX = FROM_SOURCE ? import.meta.resolve('tsx') : undefined;
const ENTRY = fileURLToPath(new URL(FROM_SOURCE ? './node-process-entry.ts' : './platform/node-process-entry.js', import.meta.url));

/** The runtime's node agent as a command line: what `placement: 'remote'` platforms start. */
export function nodeAgentCommand(): NodeAgentCommand {
  return {
    command: process.execPath,
    args: [...(TSX !== undefined ? ['--import', TSX, '--conditions=source'] : []), ENTRY],
  };
}

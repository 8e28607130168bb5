import { fileURLToPath } from 'node:url';
import type { NodeAgentCommand } from '@ebbrt/interfaces';

/** From the sources, the agent needs tsx and the `source` condition too; from the build, plain Node. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = fileURLToPath(new URL(FROM_SOURCE ? './node-process-entry.ts' : './platform/node-process-entry.js', import.meta.url));

/**
 * Resolved once, when this module loads: every boot asks for the agent's command line, and under a
 * TypeScript loader `import.meta.resolve` is a blocking round trip to the loader's hooks thread
 * (12% of a warm one-node boot in a profile).
 */
const SOURCE_ARGS: readonly string[] = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), '--conditions=source'] : [];

/** The runtime's node agent as a command line: what `placement: 'remote'` platforms start. */
export function nodeAgentCommand(): NodeAgentCommand {
  return { command: process.execPath, args: [...SOURCE_ARGS, ENTRY] };
}

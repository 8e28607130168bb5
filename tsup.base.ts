import type { Options } from 'tsup';

/** The build every package shares: ESM with .d.ts and sourcemaps, for Node 20. */
export function packageBuild(entry: string[] = ['src/index.ts']): Options {
  return { entry, format: ['esm'], dts: true, sourcemap: true, clean: true, target: 'node20' };
}

import type { EbbId } from '../ids.js';

/** Application-wide table from EbbId to data, used to build reps on nodes that have never seen an Ebb. */
export interface GlobalIdMap {
  get(id: EbbId): Promise<string | undefined>;
  set(id: EbbId, data: string): Promise<void>;
}

import { EbbrtError } from '@ebbrt/interfaces';

/**
 * A GlobalIdMap call was refused. Codes: `EBBRT_GLOBAL_ID_MAP_BAD_ID` (not a valid EbbId),
 * `EBBRT_GLOBAL_ID_MAP_BAD_DATA` (not a string, too large, not UTF-8), `EBBRT_GLOBAL_ID_MAP_NOT_HOME`
 * (a request reached a node that does not keep the table), `EBBRT_GLOBAL_ID_MAP_NO_ENTRY`
 * (`fromGlobalIdMap` found nothing), `EBBRT_GLOBAL_ID_MAP_REMOTE` (the home's map failed).
 * A dead or silent home is a `NodeUnavailableError` naming it.
 */
export class GlobalIdMapError extends EbbrtError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export function hexId(id: unknown): string {
  return typeof id === 'number' && Number.isFinite(id) ? `0x${id.toString(16)}` : String(id);
}

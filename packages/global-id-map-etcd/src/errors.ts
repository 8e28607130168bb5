import { EbbrtError } from '@ebbrt/interfaces';

/** No endpoint answered (connection refused, reset, timed out, or a 5xx) after every retry round. */
export class EtcdUnavailableError extends EbbrtError {
  constructor(
    readonly endpoints: readonly string[],
    readonly operation: string,
    readonly attempts: readonly string[],
  ) {
    super(
      'EBBRT_ETCD_UNAVAILABLE',
      `@ebbrt/global-id-map-etcd: etcd unreachable at ${endpoints.join(', ')}: ${operation} failed after ` +
        `${attempts.length} attempt${attempts.length === 1 ? '' : 's'} (${summarize(attempts)})`,
    );
  }
}

/** An endpoint answered, but with an error status (4xx) or a body that is not an etcd v3 response. */
export class EtcdResponseError extends EbbrtError {
  constructor(
    readonly endpoint: string,
    readonly operation: string,
    readonly detail: string,
    readonly status?: number,
  ) {
    super('EBBRT_ETCD_RESPONSE', `@ebbrt/global-id-map-etcd: ${operation} at ${endpoint}: ${detail}`);
  }
}

function summarize(attempts: readonly string[]): string {
  const distinct = [...new Set(attempts)];
  return distinct.length <= 3 ? distinct.join('; ') : `${distinct.slice(0, 3).join('; ')}; ...`;
}

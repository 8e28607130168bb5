import { EtcdResponseError, EtcdUnavailableError } from './errors.js';
import { decodeData, fromBase64, toBase64 } from './codec.js';

export interface EtcdClientOptions {
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
}

/** What a failed attempt tells the caller: try the next endpoint, or stop here. */
type Attempt = { ok: true; body: Record<string, unknown> } | { ok: false; reason: string };

/**
 * A minimal etcd v3 client over the HTTP/JSON gateway (`/v3/kv/*`, etcd ≥ 3.4) with Node's
 * global `fetch`. Endpoints are tried in order starting with the last one that answered; a
 * connection error, a timeout or a 5xx moves on to the next endpoint, and after a full round
 * of failures it waits `retryDelayMs` (doubling) and goes round again, `retries` times. Puts
 * and ranges are idempotent, so retrying them is safe. A 4xx or a body that is not an etcd
 * response is not retried: it rejects at once naming the endpoint.
 *
 * It runs on Node's loop, outside every core, and touches no Ebb: callers re-enter their core.
 */
export class EtcdClient {
  private preferred = 0;

  constructor(readonly options: EtcdClientOptions) {}

  /** The value stored under `key`, as UTF-8 text, or undefined if the key is absent. */
  async get(key: string): Promise<string | undefined> {
    const { endpoint, body } = await this.call('range', { key: toBase64(key) });
    const kvs = body['kvs'];
    if (kvs === undefined) return undefined;
    if (!Array.isArray(kvs)) throw new EtcdResponseError(endpoint, 'range', 'response field "kvs" is not an array');
    if (kvs.length === 0) return undefined;
    const kv = kvs[0] as Record<string, unknown> | null;
    if (typeof kv !== 'object' || kv === null) throw new EtcdResponseError(endpoint, 'range', 'response kvs[0] is not an object');
    try {
      if (!fromBase64(kv['key'], 'kvs[0].key').equals(Buffer.from(key, 'utf8'))) {
        throw new SyntaxError(`kvs[0].key is not the key asked for (${key})`);
      }
      // The gateway leaves out proto3 defaults: an empty value has no "value" field.
      return decodeData(kv['value'] === undefined ? new Uint8Array(0) : fromBase64(kv['value'], 'kvs[0].value'));
    } catch (e) {
      throw new EtcdResponseError(endpoint, 'range', `malformed response: ${(e as Error).message}`);
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.call('put', { key: toBase64(key), value: toBase64(value) });
  }

  /** Deletes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    const { endpoint, body } = await this.call('deleterange', { key: toBase64(key) });
    const deleted = body['deleted'] ?? '0';
    if ((typeof deleted !== 'string' && typeof deleted !== 'number') || !/^\d+$/.test(String(deleted))) {
      throw new EtcdResponseError(endpoint, 'deleterange', 'response field "deleted" is not a count');
    }
    return Number(deleted) > 0;
  }

  /** One gateway call with failover and retries; resolves with the endpoint that answered. */
  async call(op: 'range' | 'put' | 'deleterange', request: object): Promise<{ endpoint: string; body: Record<string, unknown> }> {
    const { endpoints, retries, retryDelayMs } = this.options;
    const payload = JSON.stringify(request);
    const failures: string[] = [];
    for (let round = 0; round <= retries; round++) {
      if (round > 0 && retryDelayMs > 0) await sleep(retryDelayMs * 2 ** (round - 1));
      const start = this.preferred;
      for (let k = 0; k < endpoints.length; k++) {
        const index = (start + k) % endpoints.length;
        const endpoint = endpoints[index]!;
        const attempt = await this.attempt(endpoint, op, payload);
        if (attempt.ok) {
          this.preferred = index;
          return { endpoint, body: attempt.body };
        }
        failures.push(`${endpoint}: ${attempt.reason}`);
      }
    }
    throw new EtcdUnavailableError(endpoints, op, failures);
  }

  private async attempt(endpoint: string, op: string, payload: string): Promise<Attempt> {
    const { timeoutMs } = this.options;
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${endpoint}/v3/kv/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (e) {
      return { ok: false, reason: describeFetchError(e, timeoutMs) };
    }
    // 5xx (no leader, shutting down) and 429 "too many requests" pass; a 429 for a message over
    // gRPC's size limit ("received message larger than max") would fail the same way everywhere.
    if (status >= 500 || (status === 429 && !/larger than max|too large/i.test(text))) {
      return { ok: false, reason: `HTTP ${status}${gatewayMessage(text)}` };
    }
    if (status !== 200) {
      throw new EtcdResponseError(endpoint, op, `HTTP ${status}${gatewayMessage(text)}`, status);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new EtcdResponseError(endpoint, op, `malformed response: not JSON (${preview(text)})`, status);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { header?: unknown }).header !== 'object') {
      throw new EtcdResponseError(endpoint, op, `malformed response: not an etcd v3 response (${preview(text)})`, status);
    }
    return { ok: true, body: body as Record<string, unknown> };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function preview(text: string): string {
  const t = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return t.length === 0 ? 'empty body' : JSON.stringify(t);
}

/** ": <message>" from a grpc-gateway error body, or a preview of whatever came back. */
function gatewayMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = body.message ?? body.error;
    if (typeof message === 'string') return `: ${message}`;
  } catch {
    // not JSON
  }
  return text.length === 0 ? '' : `: ${preview(text)}`;
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const error = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = error?.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message !== undefined) return cause.message;
  return error?.message ?? String(e);
}

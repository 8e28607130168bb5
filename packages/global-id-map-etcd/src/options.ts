import { z } from 'zod';

/** etcd's default `--max-request-bytes` (1.5 MiB): a put larger than this is refused by the server. */
export const ETCD_DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

const endpointSchema = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http:// or https:// URL such as http://127.0.0.1:2379')
  .transform((url) => url.replace(/\/+$/, ''));

export const etcdGlobalIdMapOptionsSchema = z.strictObject({
  /** etcd client URLs, tried in order; the last one that answered is tried first next time. */
  endpoints: z.array(endpointSchema).min(1, 'must list at least one etcd endpoint').default(['http://127.0.0.1:2379']),
  /** Key prefix shared by every EbbRT application in the cluster. */
  prefix: z.string().min(1).default('/ebbrt/ids/'),
  /** The application's namespace under `prefix`, so apps sharing a cluster do not see each other's ids. */
  namespace: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, "_", "." or "-" (it becomes one key segment)')
    .default('default'),
  /** Per-request timeout (one endpoint, one attempt), ms. */
  timeoutMs: z.number().int().positive().default(2000),
  /** Extra rounds over the whole endpoint list after the first one fails everywhere. */
  retries: z.number().int().min(0).max(100).default(2),
  /** Pause before the first retry round, doubled each further round, ms. */
  retryDelayMs: z.number().int().min(0).default(100),
  /** Largest value accepted by `set`, in UTF-8 bytes; must fit etcd's request limit. */
  maxValueBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export type EtcdGlobalIdMapOptions = z.output<typeof etcdGlobalIdMapOptionsSchema>;
export type EtcdGlobalIdMapOptionsInput = z.input<typeof etcdGlobalIdMapOptionsSchema>;

// A local npm registry for a test: verdaccio 5 in a child process on 127.0.0.1 (ephemeral port),
// storage in a directory of the caller's, no uplinks. Also the two registry calls the flow makes
// itself: adding a user (for a publish token) and publishing a tarball by HTTP PUT.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const CHILD = join(import.meta.dirname, 'verdaccio-child.cjs');

export interface Registry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** verdaccio's own log (level http: one line per request, with its status). */
  readonly logFile: string;
  log(): string;
  /** Waits (bounded) until verdaccio's log matches: it writes asynchronously after replying. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** The verdaccio version that will run (the dependency of this app). */
export function verdaccioVersion(): string {
  const require = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(require.resolve('verdaccio/package.json'), 'utf8')) as { version: string }).version;
}

/** Starts verdaccio with its storage, htpasswd and log under `dir`; resolves once it listens. */
export async function startRegistry(dir: string, timeoutMs = 60_000): Promise<Registry> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new Error(`cannot keep the registry's storage in ${dir}: ${(error as Error).message}`);
  }
  const logFile = join(dir, 'verdaccio.log');
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(process.execPath, [CHILD, dir], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    log.write(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<Registry>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`verdaccio did not start listening within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`verdaccio exited before listening (${signal ?? `exit code ${code}`})\n${stderr.trim()}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      log.write(d);
      buffered += d;
      const m = /^listening (\d+)$/m.exec(buffered);
      if (m === null) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        url: `http://127.0.0.1:${port}/`,
        port,
        logFile,
        log: () => readFileSync(logFile, 'utf8'),
        async waitForLog(pattern, waitMs = 10_000) {
          for (const end = Date.now() + waitMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
            if (pattern.test(readFileSync(logFile, 'utf8'))) return true;
          }
          return pattern.test(readFileSync(logFile, 'utf8'));
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(killer);
          await new Promise<void>((done) => log.end(done));
        },
      });
    });
  });
}

interface Reply {
  status: number;
  ok: boolean;
  body: Buffer;
}

/**
 * One HTTP request on a connection of its own (no keep-alive: a pooled socket the registry has
 * already closed would fail a publish with EPIPE), bounded in time. A refused connection is
 * reported as the registry being unreachable.
 */
function registryRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }, what: string, timeoutMs = 120_000): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers = { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = request(url, { method: init.method ?? 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body: Buffer.concat(chunks) });
      });
      res.on('error', (error) => reject(new Error(`${what}: the reply was cut (${error.message})`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const cause = error.code ?? error.message;
      reject(new Error(`${what}: the registry at ${new URL(url).origin}/ is unreachable (${cause})`));
    });
    req.end(body);
  });
}

function refusal(reply: Reply): string {
  const body = reply.body.toString('utf8');
  try {
    const parsed = JSON.parse(body) as { error?: string; reason?: string };
    return `HTTP ${reply.status}: ${parsed.error ?? parsed.reason ?? body}`;
  } catch {
    return `HTTP ${reply.status}: ${body.slice(0, 200)}`;
  }
}

/** Creates a user on the registry (verdaccio's htpasswd) and returns its token for publishing. */
export async function addUser(registry: string, name: string, password: string): Promise<string> {
  const what = `adding user ${name} to ${registry}`;
  const response = await registryRequest(
    `${registry}-/user/org.couchdb.user:${encodeURIComponent(name)}`,
    { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password, type: 'user', roles: [], date: new Date().toISOString() }) },
    what,
  );
  if (!response.ok) throw new Error(`${what} was refused: ${refusal(response)}`);
  const { token } = JSON.parse(response.body.toString('utf8')) as { token?: string };
  if (typeof token !== 'string' || token.length === 0) throw new Error(`${what}: the registry returned no token`);
  return token;
}

export interface PackageManifest {
  name: string;
  version: string;
  [field: string]: unknown;
}

/**
 * Publishes a tarball the way `npm publish` does (one PUT of the packument with the tarball
 * attached, base64), without starting an npm CLI per package. `latest` moves to this version.
 */
export async function publishTarball(registry: string, token: string | undefined, manifest: PackageManifest, tarball: Buffer): Promise<void> {
  const { name, version } = manifest;
  const what = `publishing ${name}@${version} to ${registry}`;
  const file = `${name.replace(/^@[^/]+\//, '')}-${version}.tgz`;
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = createHash('sha1').update(tarball).digest('hex');
  const body = {
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: { ...manifest, _id: `${name}@${version}`, dist: { integrity, shasum, tarball: `${registry}${name}/-/${file}` } },
    },
    _attachments: { [file]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await registryRequest(`${registry}${name.replace('/', '%2f')}`, { method: 'PUT', headers, body: JSON.stringify(body) }, what);
  if (!response.ok) throw new Error(`${what} was refused: ${refusal(response)}`);
}

/** A package's packument (every version's manifest), or an error naming the package. */
export async function packument(registry: string, name: string): Promise<{ 'dist-tags': Record<string, string>; versions: Record<string, PackageManifest & { dist: { tarball: string } }> }> {
  const what = `reading ${name} from ${registry}`;
  const response = await registryRequest(`${registry}${name.replace('/', '%2f')}`, { headers: { accept: 'application/json' } }, what);
  if (!response.ok) throw new Error(`${what}: ${refusal(response)}`);
  return JSON.parse(response.body.toString('utf8')) as Awaited<ReturnType<typeof packument>>;
}

/** Downloads a tarball from the registry. */
export async function download(url: string): Promise<Buffer> {
  const response = await registryRequest(url, {}, `downloading ${url}`);
  if (!response.ok) throw new Error(`downloading ${url}: ${refusal(response)}`);
  return response.body;
}

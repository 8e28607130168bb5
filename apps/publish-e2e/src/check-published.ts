// What must hold of a package as the registry serves it: no `workspace:` range left in any
// dependency field (npm cannot resolve one), and every file its exports/bin/main/types name is in
// the tarball (a publish without a build would ship none).
import { execFileSync } from 'node:child_process';

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;

/** Every `field: dep@range` whose range is still the workspace protocol. */
export function workspaceRanges(manifest: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field];
    if (deps === null || typeof deps !== 'object') continue;
    for (const [dep, range] of Object.entries(deps as Record<string, unknown>)) {
      if (String(range).startsWith('workspace:')) found.push(`${field}: ${dep}@${String(range)}`);
    }
  }
  return found;
}

/** The files a manifest's exports / bin / main / types point at (every condition but `source`'s folder is dist). */
export function exportTargets(manifest: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.add(v.replace(/^\.\//, ''));
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const field of ['exports', 'bin', 'main', 'types']) walk(manifest[field]);
  out.delete('package.json');
  return [...out].sort();
}

/** The paths in a .tgz, without npm's `package/` prefix. */
export function tarballEntries(tarball: Buffer): string[] {
  return execFileSync('tar', ['-tz'], { input: tarball, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .trim()
    .split('\n')
    .map((e) => e.replace(/^package\//, ''));
}

/** Why a published package is broken, one line per problem (empty when it is fine). */
export function publishedProblems(manifest: Record<string, unknown>, entries: readonly string[]): string[] {
  const have = new Set(entries);
  return [
    ...workspaceRanges(manifest).map((r) => `still has ${r}`),
    ...exportTargets(manifest).filter((t) => !have.has(t)).map((t) => `exports/bin target ${t} is not in the tarball`),
  ];
}

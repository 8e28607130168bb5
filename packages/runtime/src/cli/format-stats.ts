import type { AllocatorStats, MemoryAllocatorRoot } from '@ebbrt/interfaces';
import type { AppRun } from '../run-app.js';

const KiB = 1024;

function hasStats(root: unknown): root is MemoryAllocatorRoot {
  return typeof (root as { stats?: unknown } | null)?.stats === 'function';
}

function formatMemory(stats: AllocatorStats): string[] {
  const used = stats.totalBytes - stats.freePageBytes;
  const lines = [`  memory: ${(stats.totalBytes / KiB).toFixed(0)} KiB, ${(used / KiB).toFixed(0)} KiB out of the page allocator`];
  for (const c of stats.caches) {
    if (c.liveObjects === 0 && c.freeObjects === 0 && c.slabs === 0) continue;
    lines.push(
      `  cache ${String(c.objectSize).padStart(7)} B core ${c.core}: live ${c.liveObjects}, free ${c.freeObjects}, ` +
        `slabs ${c.slabs}, remote frees ${c.remoteFrees}, in use ${c.bytesInUse} B`,
    );
  }
  return lines;
}

/** The `--stats` report: events per node and, where the allocator exposes them, memory stats. */
export function formatRunStats(run: AppRun): string {
  const lines: string[] = [];
  for (const node of [run.frontend, ...run.backends]) {
    lines.push(`ebbrt: ${node.label}: ${node.events.totalEvents()} events`);
    const memory = node.installed.find((e) => e.kind === 'MemoryAllocator');
    if (memory !== undefined && hasStats(memory.root)) lines.push(...formatMemory(memory.root.stats()));
  }
  return lines.join('\n') + '\n';
}

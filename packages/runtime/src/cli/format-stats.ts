import type { AllocatorStats, NetworkStats } from '@ebbrt/interfaces';
import type { AppRun } from '../run-app.js';

const KiB = 1024;

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

/** TCP counters worth a line when judging throughput: losses and how they were recovered. */
const TCP_KEYS = ['segmentsIn', 'segmentsOut', 'dataSegmentsOut', 'retransmits', 'fastRetransmits', 'rtoExpirations', 'timeouts', 'sackRecoveries', 'sackRetransmits', 'outOfOrder', 'duplicateSegments', 'delayedAcks'];

function formatNetwork(net: NetworkStats): string[] {
  let tcp = TCP_KEYS.filter((k) => net.stack[`tcp.${k}`] !== undefined).map((k) => `${k} ${net.stack[`tcp.${k}`]}`);
  // A stack without those (the hosted one: the kernel keeps its segments) says what it has.
  if (tcp.length === 0) tcp = Object.entries(net.stack).filter(([k]) => k.startsWith('tcp.')).map(([k, v]) => `${k.slice(4)} ${v}`);
  const drops = Object.entries(net.drops).map(([k, v]) => `${k} ${v}`);
  return [`  tcp: ${tcp.join(', ')}`, `  drops: ${drops.length === 0 ? 'none' : drops.join(', ')}`];
}

/** The `--stats` report: events per node, memory stats where the allocator exposes them, and fault counts. */
export function formatRunStats(run: AppRun): string {
  const lines: string[] = [];
  for (const node of [run.frontend, ...run.backends]) {
    lines.push(`ebbrt: ${node.label}: ${node.events.totalEvents()} events`);
    // Every MemoryAllocator root has stats() (MemoryAllocatorRoot, checked at install).
    const memory = node.root('MemoryAllocator');
    if (memory !== undefined) lines.push(...formatMemory(memory.stats()));
    const nic = run.network?.simulated.nic(`node${node.context.id}`);
    const net = node.root('NetworkManager')?.networkStats?.();
    if (nic !== undefined && Object.keys(nic.faults).length > 0) {
      const f = nic.stats;
      // The driver's side of a reset, when its stack reports it (ours does: `driver.resetsRecovered`).
      const recovered = net?.nic['driver.resetsRecovered'];
      // A reset whose interrupt was lost is recovered only if the driver read the status itself.
      const polled = net?.nic['driver.resetsNoticedByPolling'];
      lines.push(
        `  nic faults: rx no buffer ${f.faultRxNoBuffer}, interrupts delayed ${f.faultInterruptsDelayed}, lost ${f.faultInterruptsLost}, ` +
          `tx completions delayed ${f.faultTxCompletionsDelayed}, device resets ${f.faultDeviceResets}${recovered === undefined ? '' : ` (recovered by the driver ${recovered})`}, ` +
          `config interrupts lost ${f.faultConfigInterruptsLost}${polled === undefined ? '' : ` (found by the driver's status poll ${polled})`}`,
      );
    }
    if (net !== undefined) lines.push(...formatNetwork(net));
  }
  // Every point on the TAP path where a frame can be lost, so a loss can be placed.
  const tap = run.network?.tap?.counters() ?? run.network?.tapCounters;
  if (tap !== undefined) {
    lines.push(`ebbrt: TAP path: ${Object.entries(tap).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  // Every fault the simulation injected (links, NICs, cores, node crashes), by kind: the same
  // account as the trace's `fault: <kind>` instants.
  const faults = Object.entries(run.simulation.faults.counts());
  lines.push(`ebbrt: faults: ${faults.length === 0 ? 'none' : faults.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

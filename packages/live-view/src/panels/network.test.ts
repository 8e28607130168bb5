/**
 * The NIC and stack panel: a stack's declared NetworkStats reaches the card as three separate
 * lines (device counters, stack counters, drops by reason), zeros left out, names escaped; a
 * known stack with no drop says so; a hosted node (no NIC) gets no NIC line at all.
 */
import { describe, expect, it } from 'vitest';
import type { NetworkStats } from '@ebbrt/interfaces';
import type { NodeSnapshot } from '../snapshot.js';
import { networkFields, renderNetworkPanel } from './network.js';

const node = (net: NetworkStats): NodeSnapshot => ({ id: 1, name: 'node 1', state: 'allocated', cores: [], ...networkFields(net) });
const lwip: NetworkStats = {
  nic: { rxFrames: 12, txFrames: 0 },
  stack: { 'iface.rxFrames': 12, 'tcp.retransmits': 3, 'tcp.segmentsSent': 0 },
  drops: { 'iface.ipBadChecksum': 2, 'nic.<odd>': 1 },
  connections: [{ localAddress: '10.0.0.2', localPort: 7000, remoteAddress: '10.0.0.3', remotePort: 49152, state: 'ESTABLISHED', core: 1, sendQueued: 5, receiveQueued: 0 }],
};

describe('NIC and stack panel', () => {
  it('keeps device counters, stack counters and drops apart, and maps connections', () => {
    const n = node(lwip);
    expect(n.nic).toEqual({ rxFrames: 12, txFrames: 0 });
    expect(n.stack).toEqual({ 'iface.rxFrames': 12, 'tcp.retransmits': 3, 'tcp.segmentsSent': 0 });
    expect(n.drops).toEqual({ 'iface.ipBadChecksum': 2, 'nic.<odd>': 1 });
    expect(n.tcp).toEqual([{ local: '10.0.0.2:7000', remote: '10.0.0.3:49152', state: 'ESTABLISHED', sendQueued: 5, receiveQueued: 0 }]);
    // A copy: the producer's counters may go on changing after the snapshot.
    expect(n.nic).not.toBe(lwip.nic);
  });

  it('renders one line per layer, non-zero entries only, names escaped', () => {
    const html = renderNetworkPanel(node(lwip));
    const lines = html.split('\n').map((l) => l.trim());
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^<div class="nic">/);
    expect(lines[0]).toContain('<b>rxFrames</b> 12');
    expect(lines[0]).not.toContain('txFrames');
    expect(lines[1]).toMatch(/^<div class="stack">/);
    expect(lines[1]).toContain('<b>tcp.retransmits</b> 3');
    expect(lines[1]).not.toContain('segmentsSent');
    expect(lines[2]).toMatch(/^<div class="drops">/);
    expect(lines[2]).toContain('<b>iface.ipBadChecksum</b> 2');
    expect(lines[2]).toContain('nic.&#60;odd&#62;');
    expect(html).not.toContain('<odd>');
  });

  it('a hosted node: no NIC line, its stack counters, and "drops none"', () => {
    const html = renderNetworkPanel(node({ nic: {}, stack: { 'tcp.connections': 2, 'host.udpSockets': 0 }, drops: {}, connections: [] }));
    expect(html).not.toContain('class="nic"');
    expect(html).toContain('<div class="stack"><b class="label">stack</b> <span class="kv" data-k="tcp.connections"><b>tcp.connections</b> 2</span></div>');
    expect(html).toContain('<div class="drops none"><b class="label">drops</b> none</div>');
  });

  it('a node with no stack known renders nothing', () => {
    expect(renderNetworkPanel({ id: 3, name: 'node 3', state: 'dormant', cores: [] })).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { lineChart, stackedBarChart } from '../src/svg-plot.js';

describe('svg plots', () => {
  it('places points by value: higher y is drawn higher, log2 x spaces powers of two evenly', () => {
    const svg = lineChart(
      [{ name: 'a & b', points: [{ x: 1, y: 10 }, { x: 4, y: 30 }, { x: 16, y: 20 }] }],
      { title: 't', xLabel: 'x', yLabel: 'y', xLog2: true },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &amp; b');
    const pts = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(pts).toHaveLength(3);
    expect(pts[1]![1]).toBeLessThan(pts[2]![1]!); // y=30 above y=20
    expect(pts[2]![1]).toBeLessThan(pts[0]![1]!);
    expect(pts[1]![0]! - pts[0]![0]!).toBeCloseTo(pts[2]![0]! - pts[1]![0]!, 5);
  });

  it('stacks bar parts left to right in proportion', () => {
    const svg = stackedBarChart([{ label: 'GET', parts: [{ name: 'driver', value: 1 }, { name: 'stack', value: 3 }] }], { title: 't', unit: 'µs' });
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="28"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(widths[1]! / widths[0]!).toBeCloseTo(3, 1);
  });
});

describe('log-y line chart', () => {
  it('spaces decades evenly and draws the SLA line between them', () => {
    const svg = lineChart([{ name: 'p99', points: [{ x: 1, y: 10 }, { x: 2, y: 100 }, { x: 3, y: 1000 }] }], { title: 't', xLabel: 'x', yLabel: 'y', yLog10: true, hLines: [{ y: 500, label: 'SLA' }] });
    const pts = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(pts[0]![1]! - pts[1]![1]!).toBeCloseTo(pts[1]![1]! - pts[2]![1]!, 5);
    const sla = Number(/stroke-dasharray="6 4"/.test(svg) && /<line x1="\d+" x2="\d+" y1="([\d.]+)" y2="[\d.]+" stroke="#000"/.exec(svg)![1]);
    expect(sla).toBeLessThan(pts[1]![1]!);
    expect(sla).toBeGreaterThan(pts[2]![1]!);
  });
});

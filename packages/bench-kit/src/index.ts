export { formatTable, measure, medianOf, type BenchCase, type BenchReport, type BenchResult, type MeasureOptions } from './harness.js';
export { hopChain, sampleRounds, type TimedSample } from './rounds.js';
export { median, quantile, quantileOf, sortedCopy } from './quantile.js';
export { serverStarter } from './servers.js';
export { lineChart, stackedBarChart, type PlotOptions, type PlotSeries, type StackedBar } from './svg-plot.js';

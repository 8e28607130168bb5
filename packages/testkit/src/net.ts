/** Simulated native nodes on one fabric, and the seeds/payloads the simulation tests share. */
export { bareNode, netFixture, type BareNode, type NetFixture, type NetFixtureOptions, type NetNode, type Outcome } from './net-fixture.js';
export { payloadFor, seeds } from './seeds.js';
export { liveIOBufs } from './live-iobufs.js';

export { manifest } from './timer/manifest.js';
export { TimerRep } from './timer/timer-rep.js';
export { NativeTimer } from './timer/native-timer.js';
export { HostedTimer } from './timer/hosted-timer.js';

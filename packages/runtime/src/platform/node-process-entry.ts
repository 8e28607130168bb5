// Entry point of a node process (forked by ProcessPlatform). From the published build, register
// tsx's loader so TypeScript configs and images load, as the `ebbrt` bin does.
import { enableAppTypeScript } from '../config/app-typescript.js';
import { runNodeProcess } from './node-process.js';

if (!import.meta.url.endsWith('.ts')) await enableAppTypeScript();
runNodeProcess();

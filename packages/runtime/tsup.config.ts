import { packageBuild } from '../../tsup.base.js';

export default packageBuild(['src/index.ts', 'src/bin.ts', 'src/platform/node-process-entry.ts', 'src/seed-runner/worker.ts']);

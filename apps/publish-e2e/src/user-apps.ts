// The two apps a user writes outside the workspace, as files: one that boots on the published
// runtime and event manager, and one that swaps in a published GlobalIdMap Ebb by package name.
// Each prints lines the test can only see if that code really ran on the simulated cores.

/** An app on the published packages: every core of 2 nodes greets, then sleeps on the Timer. */
export function helloApp(): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'registry-hello', version: '1.0.0', private: true, type: 'module' }, null, 2) + '\n',
    'ebbrt.config.ts': `import { defineConfig } from '@ebbrt/runtime';

export default defineConfig({
  name: 'registry-hello',
  entry: { backend: './main.ts' },
  backend: {
    nodes: 2,
    machine: { cores: 2, memory: '4MiB' },
    // Named explicitly: resolved from this app's node_modules, as installed from the registry.
    ebbs: { EventManager: '@ebbrt/event-manager', Timer: '@ebbrt/event-manager/timer' },
  },
});
`,
    'main.ts': `import { systemEbb } from '@ebbrt/core-translation';
import type { AppContext } from '@ebbrt/runtime';

export function main(ctx: AppContext): void {
  const events = systemEbb('EventManager');
  const timer = systemEbb('Timer');
  for (let core = 0; core < ctx.node.numCores; core++) {
    events.deref().spawnRemote(async () => {
      const here = events.deref().core;
      ctx.log(\`registry hello from node \${ctx.node.id} core \${here}\`);
      await timer.deref().sleep(250 * (here + 1));
      ctx.log(\`core \${events.deref().core} woke at t=\${timer.deref().now()} us\`);
    }, core);
  }
}
`,
  };
}

/** An app whose config swaps the GlobalIdMap for `ebb` (a package name), and uses it from every node. */
export function swapApp(ebb: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'registry-swap', version: '1.0.0', private: true, type: 'module' }, null, 2) + '\n',
    'ebbrt.config.ts': `import { defineConfig } from '@ebbrt/runtime';

export default defineConfig({
  name: 'registry-swap',
  entry: { backend: './main.ts' },
  backend: { nodes: 2, machine: { cores: 2, memory: '4MiB' }, ebbs: { GlobalIdMap: ${JSON.stringify(ebb)} } },
});
`,
    'main.ts': `import { systemEbb } from '@ebbrt/core-translation';
import type { AppContext } from '@ebbrt/runtime';

export async function main(ctx: AppContext): Promise<void> {
  const map = systemEbb('GlobalIdMap').deref();
  await map.set(300, 'kept by node ' + ctx.node.id);
  ctx.log('idmap says ' + (await map.get(300)));
}
`,
  };
}

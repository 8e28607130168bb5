import { defineConfig } from 'vitest/config';

// Tests run against package sources: every package's `exports` has a `source`
// condition pointing at src/, so no build is needed before `pnpm test`.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    // CI asks for a JSON report beside the usual output (.ci/run prints the closing line from it).
    reporters: process.env.VITEST_JSON_REPORT ? ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT }]] : ['default'],
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
    pool: 'forks',
    // Collection tests (a freed node's machine and reps are collected) call gc(); exposing it
    // changes nothing for the other tests.
    execArgv: ['--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

import { defineConfig } from 'vitest/config';

/**
 * Files that change or measure what a whole process shares: a module mock, stubbed environment
 * variables, the heap, the handles left open. Each runs in a fresh worker.
 */
const ISOLATED = [
  'test/slack/format-fallback.test.ts',
  'test/console/session.test.ts',
  'test/suites/load.test.ts',
  'test/slack/main-wiring.test.ts',
  // Paces its fake clock by turns of the event loop around real Redis replies: work another file left
  // running in a shared worker changes how far that clock gets (1 run in 2 failed shared, 0 in 3 alone).
  'test/store/turn-line.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: a single worker on a 2-core machine. Most
    // files wait on sockets and child processes rather than compute, so two run side by side.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
      {
        extends: true,
        // Importing discord.js, Bolt, the SDKs and the app again for every file was over half of the
        // suite's CPU time; the other files reuse their worker's modules.
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ISOLATED, isolate: false },
      },
    ],
  },
});

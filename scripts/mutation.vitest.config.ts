// The tests `npm run mutate` runs against each host mutant (StrykerJS picks, per mutant, those of
// them that cover it): the fast, in-process part of the suite. Left out: the C oracles, Chromium,
// the packed package, recorded programs, the fuzz suite, demo and sweep (slow under StrykerJS's
// instrumentation, and most run the host through child processes Stryker cannot see), the start-up
// test (it runs the built CLI from dist/ in a child process; StrykerJS's sandbox has no dist/, so
// the initial test run failed and no mutant was tested), and the tests that bound the process's
// memory (the instrumented runner holds more).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/trace/**/*.test.ts', 'test/report/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/unit/**/*.test.ts'],
    exclude: ['test/trace/record.test.ts', 'test/trace/replay-memory.test.ts', 'test/unit/engine/ids.test.ts', 'test/unit/vm/x64-memory.test.ts', 'test/cli/demo.test.ts', 'test/cli/sweep.test.ts', 'test/cli/startup.test.ts', '**/node_modules/**'],
    environment: 'node',
    setupFiles: ['test/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});

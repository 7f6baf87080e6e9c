// StrykerJS configuration for `npm run mutate` (scripts/mutate.mts runs it; not part of CI).
// Mutates the TypeScript host files given by scripts/mutate.mts (HEAPSIM_MUTATE, comma-separated
// globs) and runs the tests of test/mutation.vitest.config.ts that cover each mutant.
const mutate = (process.env.HEAPSIM_MUTATE ?? '').split(',').filter(Boolean);

export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutation.vitest.config.ts' },
  coverageAnalysis: 'perTest',
  disableTypeChecks: 'src/**/*.ts', // assembly/ is AssemblyScript, which Babel cannot parse
  mutate,
  concurrency: Number(process.env.HEAPSIM_MUTATE_JOBS ?? 1),
  timeoutMS: 120_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'test-output/mutation/host.json' },
  tempDirName: 'test-output/stryker-tmp',
  cleanTempDir: true,
  ignorePatterns: ['test-output', 'dist', 'bench/.build', '.cache'],
};

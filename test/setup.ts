// Runs before every test file. Property tests (fast-check) take a fixed seed in CI (CI=true), so
// CI is repeatable, and a fresh one elsewhere, so local runs keep exploring; HEAPSIM_SEED=n
// replays a given seed anywhere. fast-check names the seed (and the shrink path) of any failure.
import fc from 'fast-check';

/** The seed every property test uses in CI unless it names its own. */
export const CI_SEED = 20261101;

function seed(): number {
  const given = process.env.HEAPSIM_SEED;
  if (given !== undefined && given !== '') return Number(given) | 0;
  if (process.env.CI === 'true') return CI_SEED;
  return (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
}

fc.configureGlobal({ seed: seed() });

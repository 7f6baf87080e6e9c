// Random mtrace lines for the text reader's property tests (text-wasm, text-direct): allocations,
// frees, realloc pairs good and broken, lone halves of a pair, `!` lines and the test's
// own odd lines, each drawn with a caller prefix from the test's small world of values, so that
// frees, double and unmatched frees, reused addresses and callers seen again all happen.
import fc from 'fast-check';

export function mtraceLine(
  address: fc.Arbitrary<string>, size: fc.Arbitrary<string>, caller: fc.Arbitrary<string>, odd: fc.Arbitrary<string>,
): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}+ ${a} ${s}`) },
    { weight: 5, arbitrary: fc.tuple(caller, address).map(([c, a]) => `${c}- ${a}`) },
    { weight: 3, arbitrary: fc.tuple(caller, address, address, size).map(([c, a, b, s]) => `${c}< ${a}\n${c}> ${b} ${s}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address).map(([c, a]) => `${c}< ${a}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}> ${a} ${s}`) },
    { weight: 1, arbitrary: fc.tuple(caller, address, size).map(([c, a, s]) => `${c}! ${a} ${s}`) },
    { weight: 1, arbitrary: odd },
  );
}

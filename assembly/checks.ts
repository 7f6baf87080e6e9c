// Invariant checks are a build flavour: the debug target defines HEAPSIM_CHECKS (asconfig.json),
// the release target compiles every `if (CHECKS)` block away.
// @ts-ignore: decorator
@inline export const CHECKS: bool = isDefined(HEAPSIM_CHECKS);

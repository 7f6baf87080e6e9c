// The registry: the only list of policies on the host side. One entry per policy folder, in the
// order of assembly/policies/registry.ts (the order gives the ids; the engine checks both lists
// agree when it loads the module, and test/policies/kit/abi-mirror.test.ts compares every name).
// Each folder's index.ts declares its policy; the ids come from this list alone (kit/table.ts).
import { policy as firstFit } from './first-fit/index.js';
import { policy as nt } from './nt/index.js';
import { policy as pool } from './pool/index.js';
import { policy as ptmalloc } from './ptmalloc/index.js';
import { policy as tcmalloc } from './tcmalloc/index.js';
import { policy as bestFit } from './best-fit/index.js';
import { policy as nextFit } from './next-fit/index.js';
import { policy as segregated } from './segregated/index.js';
import { policy as buddy } from './buddy/index.js';
import { policy as tlsf } from './tlsf/index.js';
import { policy as jemalloc } from './jemalloc/index.js';
import { policy as mimalloc } from './mimalloc/index.js';
import { registerPolicies } from './kit/table.js';

registerPolicies([
  firstFit, nt, pool, ptmalloc, tcmalloc, bestFit, nextFit, segregated, buddy, tlsf, jemalloc, mimalloc,
]);

export {
  POLICIES, getPolicy, hasPolicy, policyById, policyNames, policySpecs, paramOf, resolveParams,
} from './kit/table.js';
export { parseSizeValue } from './kit/values.js';
export type { PolicySpec, ParamSpec, PolicyDecl, ParamDecl, Platform, ParamUnit, EnvReading, EngineHandle, EndOfRun, LinuxHeapView } from './kit/spec.js';

/** The policy `run`, `sweep` and `analyze --against` use when none is given. */
export const DEFAULT_POLICY = 'first-fit';

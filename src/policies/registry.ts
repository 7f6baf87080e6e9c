// The registry: the only list of policies on the host side. One line per policy folder, in the
// order of assembly/policies/registry.ts (the order gives the ids; the engine checks both lists
// agree when it loads the module, and test/policies/kit/abi-mirror.test.ts compares every name).
// Each folder's index.ts declares its spec and registers it (kit/table.ts).
import './first-fit/index.js';
import './nt/index.js';
import './pool/index.js';
import './ptmalloc/index.js';
import './tcmalloc/index.js';
import './best-fit/index.js';
import './next-fit/index.js';
import './segregated/index.js';
import './buddy/index.js';
import './tlsf/index.js';
import './jemalloc/index.js';
import './mimalloc/index.js';

export {
  POLICIES, getPolicy, hasPolicy, policyById, policyNames, policySpecs, paramOf, resolveParams,
} from './kit/table.js';
export { parseSizeValue } from './kit/values.js';
export type { PolicySpec, ParamSpec, PolicyDecl, ParamDecl, Platform, ParamUnit, EnvReading, EngineHandle, EndOfRun, LinuxHeapView } from './kit/spec.js';

/** The policy `run`, `sweep` and `analyze --against` use when none is given. */
export const DEFAULT_POLICY = 'first-fit';

// heapsim public API: explicit named exports only.
export { InputError, UsageError, EngineTrapError, EngineStatusError } from './errors.js';
export { VERSION } from './version.js';
export { poolRetainedCause, POOL_RETAINED_MECHANISM, type PoolRetainedCause } from './diagnosis/pool.js';

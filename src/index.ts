// heapsim public API: explicit named exports only.
export { InputError, UsageError, EngineTrapError, EngineStatusError } from './errors.js';
export { VERSION } from './version.js';

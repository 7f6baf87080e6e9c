// Export list of the WASM module (filled in by the engine).
export { ABI_VERSION } from "./abi";

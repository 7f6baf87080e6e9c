// === The registry: the only list of policies ===
//
// One line per policy folder; the order gives the ids (first line = 1). Append new policies at
// the end so existing ids stay. Each folder's index.ts registers its PolicyDef
// (assembly/kit/policy.ts) and exports the policy's own queries for the host, if any.
export * from "./first-fit/index";
export * from "./nt/index";
export * from "./pool/index";
export * from "./ptmalloc/index";
export * from "./tcmalloc/index";
export * from "./best-fit/index";
export * from "./next-fit/index";
export * from "./segregated/index";
export * from "./buddy/index";
export * from "./tlsf/index";
export * from "./jemalloc/index";
export * from "./mimalloc/index";

// The host's table of policies. Each policy's index.ts exports its declaration (`policy`);
// src/policies/registry.ts hands them to registerPolicies in its own order, which gives the ids.
// Importing a policy's module registers nothing, so module evaluation order cannot change an id.
// Import the table through src/policies/registry.ts, never from here.
import { UsageError } from '../../errors.js';
import type { ParamSpec, PolicyDecl, PolicySpec } from './spec.js';
import { parseSizeValue } from './values.js';

const byName = new Map<string, PolicySpec>();
const byId: PolicySpec[] = [];

/** Every policy by name (a null-prototype object: `POLICIES['constructor']` is undefined). */
export const POLICIES: Readonly<Record<string, PolicySpec>> = Object.create(null) as Record<string, PolicySpec>;

const NAME_RULE = /^[a-z][a-z0-9-]*$/;
/** Keys of the run document: a policy's end-of-run analysis goes under its name, beside them. */
const RESERVED_NAMES = new Set(['policy', 'layers', 'arch', 'profile', 'workload', 'seed', 'events', 'failedOps',
  'checkpoints', 'trims', 'diagnosis', 'parent', 'native']);

/**
 * Registers every policy once, in the registry's order: a policy's id is its position (1, 2, ...),
 * as in assembly/policies/registry.ts. A second call is a programming error.
 */
export function registerPolicies(decls: readonly PolicyDecl[]): void {
  if (byId.length > 0) throw new Error('the policy table is already filled');
  for (const decl of decls) registerPolicy(decl);
}

function registerPolicy(decl: PolicyDecl): PolicySpec {
  if (!NAME_RULE.test(decl.name)) throw new Error(`policy name '${decl.name}': lower case letters, digits and '-'`);
  if (RESERVED_NAMES.has(decl.name)) throw new Error(`policy name '${decl.name}' is a key of the run document`);
  if (byName.has(decl.name)) throw new Error(`policy '${decl.name}' registered twice`);
  const seen = new Set<string>();
  for (const p of decl.params) {
    if (seen.has(p.name)) throw new Error(`policy '${decl.name}': parameter '${p.name}' declared twice`);
    seen.add(p.name);
  }
  const params: ParamSpec[] = decl.params.map((p, slot) => Object.freeze({ ...p, slot, description: p.meaning }));
  const spec: PolicySpec = Object.freeze({ ...decl, id: byId.length + 1, params: Object.freeze(params) as ParamSpec[] });
  byName.set(spec.name, spec);
  byId.push(spec);
  (POLICIES as Record<string, PolicySpec>)[spec.name] = spec;
  return spec;
}

/** Policy names, sorted. */
export function policyNames(): string[] {
  return [...byName.keys()].sort();
}

/** Every policy in registry order (id order). */
export function policySpecs(): readonly PolicySpec[] {
  return byId;
}

export function hasPolicy(name: string): boolean {
  return byName.has(name);
}

/** The spec of a policy; a UsageError listing the valid names for anything else. */
export function getPolicy(name: string): PolicySpec {
  const spec = byName.get(name);
  if (!spec) throw new UsageError(`unknown policy '${name}' (known: ${policyNames().join(', ')})`);
  return spec;
}

export function policyById(id: number): PolicySpec | undefined {
  return byId[id - 1];
}

/** The parameter of a policy by name, undefined when it has none of that name. */
export function paramOf(spec: PolicySpec, name: string): ParamSpec | undefined {
  return spec.params.find((q) => q.name === name);
}

/** Resolves `name=value` settings against a policy's parameter table: slot → value. */
export function resolveParams(spec: PolicySpec, settings: Record<string, string | number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, raw] of Object.entries(settings)) {
    const p = paramOf(spec, name);
    if (!p) {
      const known = spec.params.map((q) => q.name).join(', ') || '(none)';
      throw new UsageError(`policy '${spec.name}' has no parameter '${name}' (known: ${known})`);
    }
    const v = typeof raw === 'number' ? raw : parseSizeValue(raw);
    if (v === undefined || v < (p.minValue ?? 0)) throw new UsageError(`bad value '${raw}' for ${spec.name} parameter ${name}`);
    out.set(p.slot, v);
  }
  if (spec.validate) {
    const full: Record<string, number> = {};
    for (const p of spec.params) full[p.name] = out.get(p.slot) ?? p.defaultValue;
    const problem = spec.validate(full);
    if (problem) throw new UsageError(`bad parameters for ${spec.name}: ${problem}`);
  }
  return out;
}

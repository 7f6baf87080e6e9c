// The list of policies as people read it: `heapsim policies [--json]`, the policy lines of
// `run --help`, and the worker's policies() that the playground shows. One list, from the registry.
import { policyNames, policySpecs } from './registry.js';
import type { PolicyInfo, PolicySpec } from './kit/spec.js';

function infoOf(p: PolicySpec): PolicyInfo {
  return {
    name: p.name,
    description: p.description,
    platform: p.platform,
    stackable: p.stackable,
    parents: p.stackable ? [...(p.parents ?? policyNames())] : [],
    params: p.params.map((q) => ({
      name: q.name, defaultValue: q.defaultValue, unit: q.unit, description: q.meaning,
      ...(q.adaptive ? { adaptive: true } : {}),
      ...(q.defaultByArch ? { defaultByArch: { ...q.defaultByArch } } : {}),
      ...(q.minValue !== undefined ? { minValue: q.minValue } : {}),
    })),
    counters: [...p.counters],
    ...(p.trimName ? { trimName: p.trimName } : {}),
    ...(p.envNames ? { envNames: p.envNames } : {}),
    ...(p.refuses ? { refuses: p.refuses } : {}),
  };
}

/**
 * Every policy, sorted by name in code-point order, as policyNames() sorts them (names are lower-case
 * ASCII). Not localeCompare: its first call sets up ICU collation, tens of milliseconds of every
 * `heapsim run`, and its order would depend on the locale.
 */
export function policyCatalog(): PolicyInfo[] {
  return [...policySpecs()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(infoOf);
}

const KiB = 1024;

/** A value as users write it: bytes in K/M/G when whole, hex for odd page-sized values. */
export function formatParamValue(unit: string, v: number): string {
  if (unit !== 'bytes' || v === 0) return String(v);
  for (const [suffix, m] of [['G', KiB ** 3], ['M', KiB ** 2], ['K', KiB]] as const) if (v % m === 0) return `${v / m}${suffix}`;
  return v >= 4096 ? `0x${v.toString(16)}` : String(v);
}

/** One line per policy (`run --help`): name and description. */
export function policyLines(indent: string, width = 10): string {
  return policyCatalog().map((p) => `${indent}${p.name.padEnd(width)} ${p.description}`).join('\n');
}

/** The full text of `heapsim policies`: each policy with its parameters and what it stacks on. */
export function policyCatalogText(): string {
  const out: string[] = [];
  for (const p of policyCatalog()) {
    out.push(`${p.name}  (${p.platform}${p.stackable ? `, stackable on ${p.parents.join(', ')}` : ''})`);
    out.push(`  ${p.description}`);
    if (p.trimName) out.push(`  trim: ${p.trimName}`);
    if (p.envNames) out.push(`  --env: ${p.envNames.replace(/\n\s*/g, ' ')}`);
    if (p.refuses) out.push(`  refuses: ${p.refuses}`);
    if (p.params.length) {
      out.push('  parameters (--set NAME=VALUE):');
      const w = Math.max(...p.params.map((q) => q.name.length));
      for (const q of p.params) {
        const arch = q.defaultByArch ? Object.entries(q.defaultByArch).map(([a, v]) => `, ${a} ${formatParamValue(q.unit, v!)}`).join('') : '';
        const def = `default ${formatParamValue(q.unit, q.defaultValue)}${arch}${q.adaptive ? ', adaptive unless set' : ''}` +
          `${q.minValue !== undefined ? `, from ${q.minValue}` : ''}`;
        out.push(`    ${q.name.padEnd(w)}  ${q.unit.padEnd(6)}  ${def}: ${q.description}`);
      }
    } else {
      out.push('  parameters: none');
    }
    out.push(`  counters: ${p.counters.join(', ') || 'none'}`);
    out.push('');
  }
  return out.join('\n');
}

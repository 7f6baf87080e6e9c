// === kit: the parameter reader ===
//
// HEAP_CREATE hands a policy `count` f64 slots; slot i is parameter i (the order of the names in
// the policy's PolicyDef.params), NaN or a missing slot means "the default". The host checks
// values first (units, ranges it knows); a policy checks again and answers BAD_PARAM.

export const PARAM_INVALID: i64 = -1;
const MAX_SAFE_INTEGER: f64 = 9007199254740991; // 2^53 - 1: the largest integer an f64 holds exactly

// Slot i as given: NaN when not set.
export function paramValue(params: usize, count: i32, i: i32): f64 {
  return i < count ? load<f64>(params + <usize>i * 8) : NaN;
}

export function paramIsSet(params: usize, count: i32, i: i32): bool { return !isNaN(paramValue(params, count, i)); }

// Slot i as a non-negative integer: `def` when not set, PARAM_INVALID when it is not a whole
// number in 0 .. 2^53-1.
export function paramInt(params: usize, count: i32, i: i32, def: u64): i64 {
  const v = paramValue(params, count, i);
  if (isNaN(v)) return <i64>def;
  if (!(v >= 0) || v != Math.floor(v) || v > MAX_SAFE_INTEGER) return PARAM_INVALID;
  return <i64>v;
}

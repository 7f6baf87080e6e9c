// === kit: a balanced search tree over pool records (a treap) ===
//
// Ordered indexes of records (free blocks by size, ranges by address, ...) without any memory of
// their own: the links live in the records. The treap is balanced in expectation by a priority
// that is a fixed hash of the record index, so the shape depends only on which records are in
// it: deterministic, and the same for the same operations.
//
// A tree is described at compile time by a shape class S (@final @unmanaged, methods only, no
// fields; the kit calls them on a null instance, so everything inlines to plain loads):
//   left(n): u32   setLeft(n, v)   right(n): u32   setRight(n, v)
//   less(a, b): bool          strict order of records (must be total on the records in the tree)
//   pull(n)                   recompute n's summary from n and its children (or nothing)
// Roots are u32 record indices (0 = empty) kept wherever the policy likes.

// Deterministic priority of record n (a 32-bit integer hash).
// @ts-ignore: decorator
@inline export function treePriority(n: u32): u32 {
  let x = n * 0x9E3779B1;
  x ^= x >> 16; x *= 0x85EBCA6B; x ^= x >> 13;
  return x;
}

// @ts-ignore: decorator
@inline function shape<S>(): S { return changetype<S>(0); }

// Inserts record n (its links are overwritten) into the tree rooted at t; returns the new root.
export function treeInsert<S>(t: u32, n: u32): u32 {
  const s = shape<S>();
  if (!t) { s.setLeft(n, 0); s.setRight(n, 0); s.pull(n); return n; }
  if (s.less(n, t)) {
    const l = treeInsert<S>(s.left(t), n);
    s.setLeft(t, l);
    if (treePriority(l) > treePriority(t)) { s.setLeft(t, s.right(l)); s.setRight(l, t); s.pull(t); s.pull(l); return l; }
  } else {
    const r = treeInsert<S>(s.right(t), n);
    s.setRight(t, r);
    if (treePriority(r) > treePriority(t)) { s.setRight(t, s.left(r)); s.setLeft(r, t); s.pull(t); s.pull(r); return r; }
  }
  s.pull(t);
  return t;
}

// Joins two trees whose records are all ordered a < b.
export function treeJoin<S>(a: u32, b: u32): u32 {
  const s = shape<S>();
  if (!a) return b;
  if (!b) return a;
  if (treePriority(a) > treePriority(b)) { s.setRight(a, treeJoin<S>(s.right(a), b)); s.pull(a); return a; }
  s.setLeft(b, treeJoin<S>(a, s.left(b)));
  s.pull(b);
  return b;
}

// Removes record n (which must be in the tree, with its order key unchanged); returns the new root.
export function treeRemove<S>(t: u32, n: u32): u32 {
  const s = shape<S>();
  if (t == n) return treeJoin<S>(s.left(t), s.right(t));
  if (s.less(n, t)) s.setLeft(t, treeRemove<S>(s.left(t), n));
  else s.setRight(t, treeRemove<S>(s.right(t), n));
  s.pull(t);
  return t;
}

// Recomputes the summaries on the path from the root to n (after n's summarised value changed
// without changing its order).
export function treeRepull<S>(t: u32, n: u32): void {
  if (!t) return;
  const s = shape<S>();
  if (t != n) {
    if (s.less(n, t)) treeRepull<S>(s.left(t), n);
    else treeRepull<S>(s.right(t), n);
  }
  s.pull(t);
}

export function treeFirst<S>(t: u32): u32 {
  const s = shape<S>();
  if (!t) return 0;
  while (s.left(t)) t = s.left(t);
  return t;
}

export function treeLast<S>(t: u32): u32 {
  const s = shape<S>();
  if (!t) return 0;
  while (s.right(t)) t = s.right(t);
  return t;
}

// For checks: the records of the tree in order, by callback-free walking is up to the policy;
// this verifies the heap property of the priorities (the order is checked by the policy, which
// knows its keys). Returns the number of records, or -1 when a child outranks its parent.
export function treeCheckPriorities<S>(t: u32): i64 {
  if (!t) return 0;
  const s = shape<S>();
  const l = s.left(t), r = s.right(t);
  if ((l && treePriority(l) > treePriority(t)) || (r && treePriority(r) > treePriority(t))) return -1;
  const a = treeCheckPriorities<S>(l);
  if (a < 0) return -1;
  const b = treeCheckPriorities<S>(r);
  if (b < 0) return -1;
  return a + b + 1;
}

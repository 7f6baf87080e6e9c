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

// Top-down variants for trees whose summary is a maximum (or any value that only grows when a
// record joins a subtree). They build the same tree as treeInsert / treeRemove (a treap's shape
// depends only on its records and their order) but skip the recomputation of the summaries on the
// path above the change, which reads every sibling record of the path (one cache miss per level).
// The shape S needs two more methods:
//   grow(t, n)                t's summary after n joined t's subtree (without reading t's children)
//   keeps(t, n): bool         t's summary stays as it is when n leaves t's subtree
//                             (for a maximum: another record below t reaches it, e.g. t.max > n.size)

// The two halves of a split (module scratch: split is recursive and returns two roots).
let splitLeft: u32 = 0;
let splitRight: u32 = 0;

// Splits the tree rooted at t into the records before n (splitLeft) and after it (splitRight).
function treeSplit<S>(t: u32, n: u32): void {
  const s = shape<S>();
  if (!t) { splitLeft = 0; splitRight = 0; return; }
  if (s.less(n, t)) {
    treeSplit<S>(s.left(t), n);
    s.setLeft(t, splitRight); s.pull(t); splitRight = t;
  } else {
    treeSplit<S>(s.right(t), n);
    s.setRight(t, splitLeft); s.pull(t); splitLeft = t;
  }
}

// treeInsert's tree, built top down: the records that outrank n only grow their summaries; n
// takes the place of the first one it outranks, whose subtree is split around n.
export function treeInsertDown<S>(t: u32, n: u32): u32 {
  const s = shape<S>();
  const pn = treePriority(n);
  let parent: u32 = 0, wentLeft = false, cur = t;
  while (cur && treePriority(cur) > pn) {
    s.grow(cur, n);
    parent = cur;
    wentLeft = s.less(n, cur);
    cur = wentLeft ? s.left(cur) : s.right(cur);
  }
  treeSplit<S>(cur, n);
  s.setLeft(n, splitLeft); s.setRight(n, splitRight); s.pull(n);
  if (!parent) return n;
  if (wentLeft) s.setLeft(parent, n); else s.setRight(parent, n);
  return t;
}

// treeRemove's tree: the records above n whose summaries n's leaving keeps are passed by top
// down; from the first one it changes, treeRemove recomputes the rest of the path.
export function treeRemoveDown<S>(t: u32, n: u32): u32 {
  const s = shape<S>();
  let parent: u32 = 0, wentLeft = false, cur = t;
  while (cur != n && s.keeps(cur, n)) {
    parent = cur;
    wentLeft = s.less(n, cur);
    cur = wentLeft ? s.left(cur) : s.right(cur);
    if (!cur) unreachable();   // n is not in the tree (a broken order): trap, do not walk record 0
  }
  const sub = treeRemove<S>(cur, n);
  if (!parent) return sub;
  if (wentLeft) s.setLeft(parent, sub); else s.setRight(parent, sub);
  return t;
}

// Record n's summarised value grew, its order unchanged: grows the summaries on the path to n.
export function treeGrowDown<S>(t: u32, n: u32): void {
  const s = shape<S>();
  while (t) {
    s.grow(t, n);
    if (t == n) return;
    t = s.less(n, t) ? s.left(t) : s.right(t);
  }
}

// Before record n's summarised value drops (its order unchanged): the first record on the path to
// n whose summary n's old value may hold (n itself at the latest). Summaries above it keep; after
// the change, treeRepull(it, n) recomputes the rest.
export function treeShrinkFrom<S>(t: u32, n: u32): u32 {
  const s = shape<S>();
  while (t != n && s.keeps(t, n)) t = s.less(n, t) ? s.left(t) : s.right(t);
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

// === kit: an in-place heapsort of an array by a key ===
//
// For the checks that need a heap's records in some order (address, arena and offset, ...): no
// memory beyond the array itself, O(n log n) in the worst case, deterministic. Not stable: values
// with equal keys end in an order that depends on the input, so keys should be distinct where the
// order of equal ones would matter.
//
// The array holds `count` values of type T (u32 or u64: record indices, packed keys) at p. The key
// is described at compile time by a shape class K (@final @unmanaged, one method, no fields; the
// kit calls it on a null instance, so it inlines like tree.ts's shapes):
//   key(v: T): u64         the value's sort key (ascending)

// @ts-ignore: decorator
@inline function shape<K>(): K { return changetype<K>(0); }

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: u32): usize { return p + (<usize>i << alignof<T>()); }

// Sorts the `count` values of type T at p by K's key, smallest key first.
export function sortByKey<T, K>(p: usize, count: u32): void {
  if (count < 2) return;
  for (let i = count >> 1; i > 0; i--) siftDown<T, K>(p, i - 1, count);
  for (let end = count - 1; end > 0; end--) {
    const t = load<T>(p);
    store<T>(p, load<T>(at<T>(p, end)));
    store<T>(at<T>(p, end), t);
    siftDown<T, K>(p, 0, end);
  }
}

// Moves the value at i down the max-heap of the first `count` values until neither child's key is
// larger; the value is held aside and written once where it stops.
function siftDown<T, K>(p: usize, i: u32, count: u32): void {
  const s = shape<K>();
  const v = load<T>(at<T>(p, i));
  const k = s.key(v);
  while (true) {
    let c: u32 = 2 * i + 1;
    if (c >= count) break;
    let cv = load<T>(at<T>(p, c));
    let ck = s.key(cv);
    if (c + 1 < count) {
      const rv = load<T>(at<T>(p, c + 1));
      const rk = s.key(rv);
      if (rk > ck) { c++; cv = rv; ck = rk; }
    }
    if (ck <= k) break;
    store<T>(at<T>(p, i), cv);
    i = c;
  }
  store<T>(at<T>(p, i), v);
}

// === kit: a run of VM pages a record knows resident ===
//
// A policy that hands out many blocks from one record's pages (a mimalloc page, a tcmalloc span)
// may keep in that record a run of VM pages [from, end) it touched, and the VM's residency epoch it
// touched them at. While that epoch holds (no page anywhere has stopped being resident since:
// vm/space.ts vmResidencyHolds) every page of the run is still resident, so a touch inside the run
// changes nothing and is skipped: touchPages' page-table walk costs more, most of all in uniform
// resident slots the VM's leaf cache does not hold. The record keeps the three fields where its
// layout puts them (u64 first page, u64 page after the run, u32 epoch; epoch 0 = no run); these
// functions take their addresses. The policy's checker checks what a skip trusts (every page of a
// run resident while its epoch holds), and a debug build asserts it at each skip.
import { touchPages, vmResidencyEpoch, vmResidencyHolds, RESIDENCY_EPOCH_SATURATED } from "../vm/space";
import { PAGE_SHIFT, PAGE_MASK } from "../vm/constants";

// Whether a touch of [a, a + bytes) lies inside the run (fields at fromAt, endAt, epochAt) while
// its epoch holds: then it may be skipped.
// @ts-ignore: decorator
@inline export function residentRunCovers(fromAt: usize, endAt: usize, epochAt: usize, a: u64, bytes: u64): bool {
  return a >> PAGE_SHIFT >= load<u64>(fromAt) && (a + bytes + PAGE_MASK) >> PAGE_SHIFT <= load<u64>(endAt) &&
    vmResidencyHolds(load<u32>(epochAt));
}

// A touch of [a, a + bytes) for `owner` outside the run: made, then the run takes the touched pages
// in (joined when they meet or overlap it, else they replace it; a new epoch starts a new run; none
// is kept once the epoch has saturated).
// @ts-ignore: decorator
@inline export function residentRunTouch(fromAt: usize, endAt: usize, epochAt: usize, a: u64, bytes: u64, owner: u8): void {
  touchPages(a, bytes, owner);
  const epoch = vmResidencyEpoch();
  if (epoch == RESIDENCY_EPOCH_SATURATED) return;
  const first = a >> PAGE_SHIFT, end = (a + bytes + PAGE_MASK) >> PAGE_SHIFT;
  const from = load<u64>(fromAt), to = load<u64>(endAt);
  if (load<u32>(epochAt) != epoch || end < from || first > to) {
    store<u64>(fromAt, first);
    store<u64>(endAt, end);
    store<u32>(epochAt, epoch);
  } else {
    if (first < from) store<u64>(fromAt, first);
    if (end > to) store<u64>(endAt, end);
  }
}

// AssemblyScript entry for records.test.ts: the kit record pool (assembly/kit/records.ts) through
// its two forms, compiled on its own by the test (not part of the engine): pool A through
// takeRecord / dropRecord / recordAt (the record size and link offset read from the pool), pool B
// through takeRecordOf / dropRecordOf / recordAtOf with the same two as constants.
import {
  RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, recordAt, takeRecordOf, dropRecordOf, recordAtOf,
} from "../../../assembly/kit/records";

const RECORD_BYTES: usize = 12;  // not a power of two, as segregated's
const LINK_OFFSET: usize = 8;    // a dropped record's link, after a field the test writes at 0
const WRONG_RECORD_BYTES: usize = 16;

const A = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
const B = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));

export function init(firstCap: u32, limit: u32): void {
  initPool(A, <u32>RECORD_BYTES, <u32>LINK_OFFSET, firstCap, 4, limit);
  initPool(B, <u32>RECORD_BYTES, <u32>LINK_OFFSET, firstCap, 4, limit);
}
// A taken record gets `stamp` in its first word (records must never overlap, through growth too).
export function takeA(stamp: u32): u32 { const n = takeRecord(A); if (n) store<u32>(recordAt(A, n), stamp); return n; }
export function takeB(stamp: u32): u32 {
  const n = takeRecordOf(B, RECORD_BYTES, LINK_OFFSET);
  if (n) store<u32>(recordAtOf(B, n, RECORD_BYTES), stamp);
  return n;
}
export function dropA(n: u32): void { dropRecord(A, n); }
export function dropB(n: u32): void { dropRecordOf(B, n, RECORD_BYTES, LINK_OFFSET); }
export function stampA(n: u32): u32 { return load<u32>(recordAt(A, n)); }
export function stampB(n: u32): u32 { return load<u32>(recordAtOf(B, n, RECORD_BYTES)); }
export function offsetA(n: u32): usize { return recordAt(A, n) - A.base; }
export function offsetB(n: u32): usize { return recordAtOf(B, n, RECORD_BYTES) - B.base; }
export function inUseA(): u32 { return A.inUse; }
export function inUseB(): u32 { return B.inUse; }
// A record size other than the pool's: checked builds trap (CHECKS).
export function wrongSize(n: u32): usize { return recordAtOf(B, n, WRONG_RECORD_BYTES); }

/* mimalloc-replay: the installed mimalloc (Debian 12: libmimalloc2.0, mimalloc 2.0.9) as the
 * oracle of heapsim's `mimalloc` policy.
 *
 * Build: cc -O2 -o mimalloc-replay test/oracle/mimalloc-replay.c -lmimalloc
 * The library replaces malloc for the whole process (malloc, calloc, realloc, free and memalign
 * forward to mi_malloc, mi_calloc, mi_realloc, mi_free and mi_malloc_aligned); this program
 * replays allocator calls through it in one thread (input formats and discipline in
 * replay-core.h; `t` is mi_collect(true), `s MS` sleeps, since the library's delays run on wall
 * time) and prints the library's own numbers at checkpoints.
 *
 * usage: mimalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE
 *        mimalloc-replay --version      prints mi_version() (209 for 2.0.9)
 *
 * Output, one line per checkpoint: `start 0` before the first call, `at EVENT` every N events (and
 * after each `p` and `t`), `end EVENT` at the end; with --trim-at N, `before N` and `after N`
 * around an mi_collect(true). Each line carries, in order:
 *   current_commit peak_commit      mi_process_info: the library's commit counter, which it keeps
 *                                   even when built without statistics, printed as the signed
 *                                   64-bit counter it is (it can drop below zero)
 *   area_reserved area_committed area_used_bytes area_used_blocks areas
 *                                   sums over the areas (pages) that
 *                                   mi_heap_visit_blocks(mi_heap_get_default(), false, ...)
 *                                   reports: reserved, committed, used × block_size, used, count
 * With --resident (use it with --write) each line ends with the resident bytes (mincore) of the
 * segments the replay's blocks lie in, as long as they are mapped.
 */
#define _GNU_SOURCE
#include <mimalloc.h>
#include <stdbool.h>

static void note_segment(void *p);
#define REPLAY_BLOCK_HOOK(p) note_segment(p)
#include "replay-core.h"

static void out_i64(int64_t v)
{
  if (v < 0)
    {
      out_str("-");
      out_u64((uint64_t) 0 - (uint64_t) v);
    }
  else
    out_u64((uint64_t) v);
}

static void trim_now(uint64_t arg)
{
  (void) arg;
  mi_collect(true);
}

/* ------------------------------------------------------------------ resident pages
 * The segments the replay has seen: a block's segment starts at (p - 1) rounded down to 32 MiB,
 * as mi_free finds it; each with the extent its blocks reached (huge segments are longer). */

#define SEGMENT_BYTES ((uintptr_t) 32 << 20)
#define CORE_CHUNK_PAGES ((size_t) 8192)
struct seen { uintptr_t base, extent; };
static struct seen *seen;
static size_t seen_count, seen_cap;
static unsigned char *core_vec;

static void note_segment(void *p)
{
  if (!want_resident)
    return;
  const uintptr_t base = ((uintptr_t) p - 1) & ~(SEGMENT_BYTES - 1);
  uintptr_t extent = (uintptr_t) p + mi_usable_size(p) - base;
  if (extent < SEGMENT_BYTES)
    extent = SEGMENT_BYTES;
  extent = (extent + 4095) & ~(uintptr_t) 4095;
  for (size_t i = 0; i < seen_count; i++)
    if (seen[i].base == base)
      {
        if (extent > seen[i].extent)
          seen[i].extent = extent;
        return;
      }
  if (seen_count == seen_cap)
    {
      size_t cap = seen_cap ? seen_cap * 2 : 1024;
      struct seen *bigger = map_zeroed(cap * sizeof *bigger);
      if (seen)
        {
          memcpy(bigger, seen, seen_count * sizeof *seen);
          munmap(seen, seen_cap * sizeof *seen);
        }
      seen = bigger;
      seen_cap = cap;
    }
  seen[seen_count].base = base;
  seen[seen_count].extent = extent;
  seen_count++;
}

/* Resident bytes of the mapped parts of the seen segments. */
static uint64_t segments_resident(void)
{
  if (!core_vec)
    core_vec = map_zeroed(CORE_CHUNK_PAGES);
  uint64_t pages = 0;
  for (size_t i = 0; i < seen_count; i++)
    for (uintptr_t a = seen[i].base, end = seen[i].base + seen[i].extent; a < end;)
      {
        size_t n = (size_t) ((end - a) >> 12);
        if (n > CORE_CHUNK_PAGES)
          n = CORE_CHUNK_PAGES;
        if (mincore((void *) a, n << 12, core_vec) == 0)
          {
            for (size_t k = 0; k < n; k++)
              pages += core_vec[k] & 1;
            a += (uintptr_t) n << 12;
          }
        else if (a == seen[i].base && mincore((void *) a, 4096, core_vec) != 0)
          break; /* the segment is no longer mapped */
        else
          {
            /* part of the range is not mapped: one page at a time */
            if (mincore((void *) a, 4096, core_vec) == 0)
              pages += core_vec[0] & 1;
            a += 4096;
          }
      }
  return pages << 12;
}

/* ------------------------------------------------------------------ checkpoints */

struct area_sums { uint64_t reserved, committed, used_bytes, used_blocks, areas; };

static bool sum_area(const mi_heap_t *heap, const mi_heap_area_t *area, void *block, size_t block_size, void *arg)
{
  (void) heap; (void) block; (void) block_size;
  struct area_sums *s = arg;
  if (area == NULL)
    return true;
  s->reserved += area->reserved;
  s->committed += area->committed;
  s->used_bytes += (uint64_t) area->used * area->block_size;
  s->used_blocks += area->used;
  s->areas += 1;
  return true;
}

static void checkpoint(const char *tag, uint64_t event)
{
  size_t current_commit = 0, peak_commit = 0;
  mi_process_info(NULL, NULL, NULL, NULL, NULL, &current_commit, &peak_commit, NULL);
  struct area_sums s = { 0, 0, 0, 0, 0 };
  mi_heap_visit_blocks(mi_heap_get_default(), false, &sum_area, &s);
  const uint64_t fields[5] = { s.reserved, s.committed, s.used_bytes, s.used_blocks, s.areas };
  out_str(tag);
  out_str(" ");
  out_u64(event);
  out_str(" ");
  out_i64((int64_t) current_commit);
  out_str(" ");
  out_i64((int64_t) peak_commit);
  for (int i = 0; i < 5; i++)
    {
      out_str(" ");
      out_u64(fields[i]);
    }
  if (want_resident)
    {
      out_str(" ");
      out_u64(segments_resident());
    }
  out_str("\n");
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "--version") == 0)
    {
      out_u64((uint64_t) mi_version());
      out_str("\n");
      out_flush();
      return 0;
    }
  int ops;
  const char *path = replay_args(argc, argv,
    "usage: mimalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE\n", &ops);
  checkpoint("start", 0);
  replay_file(path, ops);
  return 0;
}

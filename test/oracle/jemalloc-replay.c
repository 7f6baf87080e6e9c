/* jemalloc-replay: the installed jemalloc (Debian 12: libjemalloc2 5.3.0) as an oracle for heapsim's
 * jemalloc policy.
 *
 * Replays allocator calls through jemalloc, single-threaded (input formats, event counting and
 * options: replay-core.h), and prints the library's own statistics, read with mallctl after
 * refreshing them with mallctl("epoch"), at checkpoints. The settings come from MALLOC_CONF, read by
 * the library itself.
 *
 * usage: jemalloc-replay [--ops] [--every N] [--write] [--trim-at N] FILE
 *
 * Output, one line per checkpoint: `start 0` first (the state before the first replayed call), then
 * after every N events, at each `p`, and `end`:
 *   at EVENT allocated active metadata resident mapped retained dirtyBytes muzzyBytes
 * the mallctl values stats.allocated, stats.active, stats.metadata, stats.resident, stats.mapped,
 * stats.retained, and stats.arenas.4096.pdirty / pmuzzy (all arenas) times the page size.
 * The trim call (`t`, --trim-at) is heapsim's trim of this policy: mallctl("thread.tcache.flush")
 * then mallctl("arena.4096.purge") (every arena); it prints `trim EVENT`.
 *
 * The first mallctl call makes jemalloc allocate its statistics tables (ctl_init); main() does it
 * before anything else, so they belong to the start state, as the runtime's own start-up does.
 * Nothing else here allocates through jemalloc (replay-core.h's tables are mmap'd).
 */
#define _GNU_SOURCE
#include <jemalloc/jemalloc.h>
#include "replay-core.h"

/* mallctl names, resolved to MIBs once (resolving does not allocate). */
enum { S_ALLOCATED, S_ACTIVE, S_METADATA, S_RESIDENT, S_MAPPED, S_RETAINED, S_PDIRTY, S_PMUZZY, S_COUNT };
static const char *const stat_names[S_COUNT] = {
  "stats.allocated", "stats.active", "stats.metadata", "stats.resident", "stats.mapped", "stats.retained",
  "stats.arenas.4096.pdirty", "stats.arenas.4096.pmuzzy",
};
static size_t stat_mib[S_COUNT][8];
static size_t stat_miblen[S_COUNT];
static size_t page_size;

static void refresh(void)
{
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0)
    die("jemalloc-replay: mallctl(\"epoch\") failed\n");
}

static void stats_init(void)
{
  refresh(); /* ctl_init: jemalloc's statistics tables are allocated now */
  for (int i = 0; i < S_COUNT; i++)
    {
      stat_miblen[i] = 8;
      if (mallctlnametomib(stat_names[i], stat_mib[i], &stat_miblen[i]) != 0)
        die("jemalloc-replay: mallctlnametomib failed (statistics not compiled in?)\n");
    }
  size_t len = sizeof page_size;
  if (mallctl("arenas.page", &page_size, &len, NULL, 0) != 0)
    die("jemalloc-replay: mallctl(\"arenas.page\") failed\n");
}

static void checkpoint(const char *tag, uint64_t event)
{
  refresh();
  out_str(tag);
  out_str(" ");
  out_u64(event);
  for (int i = 0; i < S_COUNT; i++)
    {
      size_t v = 0, len = sizeof v;
      if (mallctlbymib(stat_mib[i], stat_miblen[i], &v, &len, NULL, 0) != 0)
        die("jemalloc-replay: mallctlbymib failed\n");
      if (i == S_PDIRTY || i == S_PMUZZY)
        v *= page_size;
      out_str(" ");
      out_u64(v);
    }
  out_str("\n");
}

/* heapsim's trim for this policy: the thread's cache back to the arena, then every arena purged. */
static void trim_now(uint64_t arg)
{
  (void) arg;
  /* fails without a thread cache (MALLOC_CONF=tcache:false): nothing to flush then */
  (void) mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
  if (mallctl("arena.4096.purge", NULL, NULL, NULL, 0) != 0)
    die("jemalloc-replay: mallctl(\"arena.4096.purge\") failed\n");
  out_str("trim ");
  out_u64(events);
  out_str("\n");
}

int main(int argc, char **argv)
{
  stats_init();
  int ops;
  const char *path = replay_args(argc, argv, "usage: jemalloc-replay [--ops] [--every N] [--write] [--trim-at N] FILE\n", &ops);
  checkpoint("start", 0);
  replay_file(path, ops);
  return 0;
}

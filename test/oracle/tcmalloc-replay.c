/* tcmalloc-replay: the real gperftools tcmalloc (libtcmalloc_minimal, 2.10 on Debian 12) as an
 * oracle for heapsim's tcmalloc policy.
 *
 * Build: cc -O2 -o tcmalloc-replay tcmalloc-replay.c -ltcmalloc_minimal
 * The library replaces malloc for the whole process; this program replays allocator calls through
 * it, in one thread (input formats and discipline in replay-core.h; `t` is
 * MallocExtension_ReleaseFreeMemory()), and prints the library's own statistics
 * (MallocExtension_GetNumericProperty) at checkpoints.
 *
 * usage: tcmalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE
 *
 * Output, one line per checkpoint (after every N events, at each `p`, and `end` at the end):
 *   at EVENT current_allocated heap_size pageheap_free pageheap_unmapped central_free
 *            transfer_free thread_free current_total_thread_cache
 * (the eight properties, in the order of PROPS below). `t` prints `trim EVENT` before its line.
 * With --trim-at N, ReleaseFreeMemory() runs once N events have been replayed, between a `before`
 * and an `after` checkpoint line (with its `trim EVENT` line between them). With --write, every block is written whole (its
 * malloc_usable_size bytes), as heapsim assumes a program does. With --resident each line gets two
 * more fields: the resident bytes of the break segment (mincore over [start_brk, sbrk(0)), start_brk
 * read from /proc/self/stat since tcmalloc has moved the break before main) and its size.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <gperftools/malloc_extension_c.h>
#include "replay-core.h"

static const char *const PROPS[] = {
  "generic.current_allocated_bytes",
  "generic.heap_size",
  "tcmalloc.pageheap_free_bytes",
  "tcmalloc.pageheap_unmapped_bytes",
  "tcmalloc.central_cache_free_bytes",
  "tcmalloc.transfer_cache_free_bytes",
  "tcmalloc.thread_cache_free_bytes",
  "tcmalloc.current_total_thread_cache_bytes",
};
#define NPROPS (sizeof PROPS / sizeof PROPS[0])

static uintptr_t start_brk;

static void trim_now(uint64_t arg)
{
  (void) arg;
  MallocExtension_ReleaseFreeMemory();
  out_str("trim ");
  out_u64(events);
  out_str("\n");
}

/* Field 47 of /proc/self/stat: where the break segment starts. */
static uintptr_t read_start_brk(void)
{
  static char buf[4096];
  int fd = open("/proc/self/stat", O_RDONLY);
  if (fd < 0)
    die("tcmalloc-replay: cannot open /proc/self/stat\n");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    die("tcmalloc-replay: cannot read /proc/self/stat\n");
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p)
    die("tcmalloc-replay: bad /proc/self/stat\n");
  int field = 2;
  while (*p && field < 47)
    if (*p++ == ' ')
      field++;
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9')
    v = v * 10 + (uint64_t) (*p++ - '0');
  return (uintptr_t) v;
}

static void checkpoint(const char *tag, uint64_t event)
{
  out_str(tag);
  out_str(" ");
  out_u64(event);
  for (size_t i = 0; i < NPROPS; i++)
    {
      size_t v = 0;
      if (!MallocExtension_GetNumericProperty(PROPS[i], &v))
        die("tcmalloc-replay: property unknown to this library\n");
      out_str(" ");
      out_u64(v);
    }
  out_resident(start_brk);
  out_str("\n");
}

int main(int argc, char **argv)
{
  int ops;
  const char *path = replay_args(argc, argv, "usage: tcmalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE\n", &ops);
  if (want_resident)
    start_brk = read_start_brk();
  replay_file(path, ops);
  return 0;
}

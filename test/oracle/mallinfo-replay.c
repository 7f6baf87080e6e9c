/* mallinfo-replay: the real glibc as an oracle for heapsim's ptmalloc policy.
 *
 * Replays allocator calls through this process's own malloc and prints mallinfo2() at
 * checkpoints (and with --arenas what malloc_stats() prints for each arena). The replay itself (input formats, event counting, the rule that the
 * program never allocates for itself) is test/oracle/replay-core.h, shared with the other oracles;
 * `t PAD` is malloc_trim(PAD) here. Two input formats:
 *
 *   mtrace  (default)  glibc MALLOC_TRACE text. Events are counted as heapsim's trace readers
 *                      count them: one per `+`, `-`, `!` line and one per `<`/`>` pair. Calls the
 *                      trace cannot be replayed (free of an unknown or freed pointer, a failed
 *                      allocation, free(NULL), an unmatched realloc) are events that do nothing.
 *                      Every `+` is replayed as malloc (the line does not say which call it was).
 *   ops     (--ops)    heapsim's own test script, one call per line, blocks named by small ids:
 *                        m ID SIZE     malloc               c ID SIZE   calloc(1, SIZE)
 *                        a ID ALIGN SIZE  memalign          r ID SIZE   realloc (0 = free)
 *                        f ID          free                 t PAD       malloc_trim(PAD)
 *                        p             checkpoint now       # ...       comment
 *                      m, c, a, r and f are events; t and p are not.
 *
 * Threads (ops `T N` / `E N`, or --text traces with thread lines) run on real threads, one per
 * traced thread (replay-core.h). pthread_create callocs each new thread's DTV: this program
 * defines malloc, calloc, realloc and free itself so that those allocations come from its own
 * mapping while the threads are created, and every other call goes to glibc's __libc_* entry
 * points unchanged.
 *
 * usage: mallinfo-replay [--ops|--text] [--every N] [--resident] [--write] [--trim-at N] [--arenas] FILE
 *
 * Output, one line per checkpoint (after every N events, and `end` after the last line):
 *   at EVENT arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost
 *   end EVENT ...same ten fields...
 * With --trim-at N, malloc_trim(0) runs once N events have been replayed, between a `before` and
 * an `after` checkpoint line (the `trim` line in between gives its return value).
 * With --write, both modes write every byte of each block it gets (malloc_usable_size bytes), as
 * heapsim assumes a program does; realloc writes the whole new block.
 * With --arenas each line ends with `arenas N` and N pairs `SYSTEM INUSE`, malloc_stats()'s
 * "system bytes" and "in use bytes" of each arena in glibc's order (main arena first), read back
 * from what it prints on stderr (into a memfd for the moment). A first line `cores N` gives
 * get_nprocs(), the core count glibc's arena limit uses.
 * With --resident each line gets two more fields: the bytes of the break segment (from the
 * first break to the current one) that are resident (mincore), and the break segment's size.
 * A `t` line prints `trim EVENT RESULT` (malloc_trim's return value) before its checkpoint line.
 *
 * Nothing here may call malloc (or anything that does, like stdio) before or during the replay:
 * that would change the heap being measured. Tables live in mmap'd memory, output goes out
 * through write(2) from a static buffer, and the input file is mapped read-only.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <sys/sysinfo.h>
#include <sys/mman.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ allocations that are not replayed */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

#define OWN_BYTES (64u << 20)
static char *own_base;
static size_t own_used;
static int own_creating;

static int own_pointer(void *p)
{
  return own_base && (char *) p >= own_base && (char *) p < own_base + OWN_BYTES;
}

static void *own_alloc(size_t n)
{
  if (!own_base)
    {
      void *m = mmap(NULL, OWN_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED)
        return NULL;
      own_base = m;
    }
  n = (n + 15) & ~(size_t) 15;
  if (own_used + n > OWN_BYTES)
    return NULL;
  void *p = own_base + own_used;
  own_used += n;
  return p; /* fresh mapping: zeroed */
}

void *malloc(size_t n) { return own_creating ? own_alloc(n) : __libc_malloc(n); }
void *calloc(size_t n, size_t m)
{
  if (!own_creating)
    return __libc_calloc(n, m);
  size_t total;
  return __builtin_mul_overflow(n, m, &total) ? NULL : own_alloc(total);
}
void *realloc(void *p, size_t n)
{
  if (own_pointer(p) || (own_creating && !p))
    {
      void *q = own_alloc(n);
      if (q && p)
        memcpy(q, p, n); /* our blocks are never larger than what follows them in the mapping */
      return q;
    }
  return __libc_realloc(p, n);
}
void free(void *p)
{
  if (!own_pointer(p))
    __libc_free(p);
}

#define REPLAY_THREAD_CREATION_HOOK
static void replay_thread_creation(int creating) { own_creating = creating; }

#include "replay-core.h"

/* ------------------------------------------------------------------ checkpoints */

static void trim_now(uint64_t pad)
{
  int r = malloc_trim(pad);
  out_str("trim ");
  out_u64(events);
  out_str(" ");
  out_u64((uint64_t) r);
  out_str("\n");
}

static uintptr_t first_break;
static int want_arenas;
static int stats_fd = -1;
static char stats_text[1 << 20];

static const char *after(const char *p, const char *end, const char *label)
{
  size_t n = strlen(label);
  for (; p + n <= end; p++)
    if (memcmp(p, label, n) == 0)
      return p + n;
  return NULL;
}

/* malloc_stats() per arena: " arenas N sys inuse ..." from what it prints on stderr. */
static void out_arenas(void)
{
  if (stats_fd < 0)
    {
      stats_fd = memfd_create("malloc-stats", 0);
      if (stats_fd < 0)
        die("replay: memfd_create failed\n");
    }
  if (ftruncate(stats_fd, 0) != 0 || lseek(stats_fd, 0, SEEK_SET) != 0)
    die("replay: cannot reset the stats file\n");
  int saved = dup(2);
  if (saved < 0 || dup2(stats_fd, 2) < 0)
    die("replay: cannot redirect stderr\n");
  malloc_stats();
  dup2(saved, 2);
  close(saved);
  ssize_t n = pread(stats_fd, stats_text, sizeof stats_text, 0);
  if (n <= 0 || (size_t) n == sizeof stats_text)
    die("replay: cannot read malloc_stats output\n");
  const char *p = stats_text, *end = stats_text + n;
  const char *total = after(p, end, "Total (incl. mmap):");
  if (!total)
    die("replay: malloc_stats output without a total\n");
  uint64_t values[2 * 4096];
  size_t count = 0;
  for (;;)
    {
      const char *arena = after(p, total, "Arena ");
      if (!arena)
        break;
      for (int k = 0; k < 2; k++)
        {
          const char *v = after(arena, total, k == 0 ? "system bytes     =" : "in use bytes     =");
          if (!v)
            die("replay: malformed malloc_stats output\n");
          while (*v == ' ')
            v++;
          const char *d = v;
          while (*d >= '0' && *d <= '9')
            d++;
          if (count == sizeof values / sizeof values[0] || parse_dec(v, d, &values[count++]))
            die("replay: malformed malloc_stats number\n");
          arena = d;
        }
      p = arena;
    }
  out_str(" arenas ");
  out_u64(count / 2);
  for (size_t i = 0; i < count; i++)
    {
      out_str(" ");
      out_u64(values[i]);
    }
}

static void checkpoint(const char *tag, uint64_t event)
{
  struct mallinfo2 m = mallinfo2();
  out_str(tag);
  out_str(" ");
  out_u64(event);
  const size_t fields[10] = { m.arena, m.ordblks, m.smblks, m.hblks, m.hblkhd,
                              m.usmblks, m.fsmblks, m.uordblks, m.fordblks, m.keepcost };
  for (int i = 0; i < 10; i++)
    {
      out_str(" ");
      out_u64(fields[i]);
    }
  out_resident(first_break);
  if (want_arenas)
    out_arenas();
  out_str("\n");
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
  first_break = (uintptr_t) sbrk(0);
  int ops;
  /* --arenas is ours; the rest are replay-core.h's */
  int kept = 1;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp(argv[i], "--arenas") == 0)
        want_arenas = 1;
      else
        argv[kept++] = argv[i];
    }
  argc = kept;
  if (want_arenas)
    {
      out_str("cores ");
      out_u64((uint64_t) get_nprocs());
      out_str("\n");
    }
  const char *path = replay_args(argc, argv, "usage: mallinfo-replay [--ops|--text] [--every N] [--resident] [--write] [--trim-at N] [--arenas] FILE\n", &ops);
  replay_file(path, ops);
  return 0;
}

/* mallinfo-replay: the real glibc as an oracle for heapsim's ptmalloc policy.
 *
 * Replays allocator calls through this process's own malloc, single-threaded, and prints
 * mallinfo2() at checkpoints. The replay itself (input formats, event counting, the rule that the
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
 * usage: mallinfo-replay [--ops] [--every N] [--resident] [--write] [--trim-at N] FILE
 *
 * Output, one line per checkpoint (after every N events, and `end` after the last line):
 *   at EVENT arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost
 *   end EVENT ...same ten fields...
 * With --trim-at N, malloc_trim(0) runs once N events have been replayed, between a `before` and
 * an `after` checkpoint line (the `trim` line in between gives its return value).
 * With --write, both modes write every byte of each block it gets (malloc_usable_size bytes), as
 * heapsim assumes a program does; realloc writes the whole new block.
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
  out_str("\n");
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
  first_break = (uintptr_t) sbrk(0);
  int ops;
  const char *path = replay_args(argc, argv, "usage: mallinfo-replay [--ops] [--every N] [--resident] [--write] [--trim-at N] FILE\n", &ops);
  replay_file(path, ops);
  return 0;
}

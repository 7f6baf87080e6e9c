/* tlsf-replay: Matthew Conte's TLSF as the oracle for heapsim's tlsf policy.
 *
 * Not built by the test suite: Conte's source is not part of this repository and no Debian package
 * carries it, so a clean CI machine (npm and Debian registries only) cannot build this file. The
 * numbers it prints are committed as fixtures (test/policies/tlsf/fixtures/), and
 * test/policies/tlsf/make-fixtures.ts documents and runs the whole procedure, with a copy of his
 * published repository (github.com/mattconte/tlsf, tlsf 3.1 = commit deff9ab, BSD licence) in
 * /tmp/conte-tlsf:
 *
 *   cc -O2 -Wall -I/tmp/conte-tlsf -o /tmp/tlsf-replay test/oracle/tlsf-replay.c /tmp/conte-tlsf/tlsf.c
 *   npx tsx test/policies/tlsf/make-fixtures.ts /tmp/tlsf-replay
 *   npx tsx test/policies/tlsf/check-trace.ts /tmp/tlsf-replay TRACE     (a recorded program)
 *
 * usage: tlsf-replay POOL_BYTES < OPS
 *
 * Creates one pool with tlsf_create_with_pool(mem, POOL_BYTES), mem aligned to 64 KiB (as the
 * simulated reservation is), then replays one call per input line, blocks named by small ids:
 *   m ID SIZE         tlsf_malloc              r ID SIZE    tlsf_realloc (SIZE > 0)
 *   a ID ALIGN SIZE   tlsf_memalign            f ID         tlsf_free
 * A realloc or free of an id whose malloc returned NULL does nothing (and prints 0).
 * and prints one line per call: OFFSET USED HIGH_WATER
 *   OFFSET      the returned pointer minus mem (0: NULL, or a free)
 *   USED        the sum of tlsf_block_size over used blocks (tlsf_walk_pool)
 *   HIGH_WATER  the largest (pointer - mem + tlsf_block_size) of any block handed out so far
 * The first line is `tlsf_size N`. After every call tlsf_check and tlsf_check_pool must pass.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tlsf.h"

#define MAX_IDS 65536
#define MEM_ALIGN ((size_t) 1 << 16)

static void *ptrs[MAX_IDS];

static void sum_used (void *ptr, size_t size, int used, void *user)
{
  (void) ptr;
  if (used)
    *(size_t *) user += size;
}

int main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: tlsf-replay POOL_BYTES < OPS\n");
      return 2;
    }
  size_t bytes = strtoull (argv[1], 0, 0);
  char *raw = mmap (0, bytes + MEM_ALIGN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    {
      perror ("mmap");
      return 1;
    }
  char *mem = (char *) (((uintptr_t) raw + MEM_ALIGN - 1) & ~(uintptr_t) (MEM_ALIGN - 1));
  tlsf_t t = tlsf_create_with_pool (mem, bytes);
  if (!t)
    return 1;
  pool_t pool = tlsf_get_pool (t);
  printf ("tlsf_size %zu\n", tlsf_size ());
  size_t high_water = 0;
  char line[256];
  long lineno = 0;
  while (fgets (line, sizeof line, stdin))
    {
      lineno++;
      char op;
      unsigned long id;
      unsigned long long a = 0, b = 0;
      int n = sscanf (line, " %c %lu %llu %llu", &op, &id, &a, &b);
      if (n < 2 || id >= MAX_IDS)
        {
          fprintf (stderr, "line %ld: bad call\n", lineno);
          return 2;
        }
      void *p = 0;
      switch (op)
        {
        case 'm': p = ptrs[id] = tlsf_malloc (t, a); break;
        case 'a': p = ptrs[id] = tlsf_memalign (t, a, b); break;
        case 'r':
          if (!ptrs[id])
            break;      /* its malloc returned NULL: heapsim has no such block either */
          p = tlsf_realloc (t, ptrs[id], a);
          if (p)
            ptrs[id] = p;
          break;
        case 'f': tlsf_free (t, ptrs[id]); ptrs[id] = 0; break;
        default:
          fprintf (stderr, "line %ld: unknown call %c\n", lineno, op);
          return 2;
        }
      if (p)
        {
          size_t end = (size_t) ((char *) p - mem) + tlsf_block_size (p);
          if (end > high_water)
            high_water = end;
        }
      size_t used = 0;
      tlsf_walk_pool (pool, sum_used, &used);
      if (tlsf_check (t) || tlsf_check_pool (pool))
        {
          fprintf (stderr, "line %ld: tlsf_check failed\n", lineno);
          return 1;
        }
      printf ("%zu %zu %zu\n", p ? (size_t) ((char *) p - mem) : (size_t) 0, used, high_water);
    }
  return 0;
}

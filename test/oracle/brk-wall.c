// What glibc does when the break cannot grow (docs/ptmalloc.md, "sbrk failure"): sets M_TOP_PAD to
// argv[1], makes the first break with one malloc, maps a page right at the break's end so that sbrk
// fails from then on, then asks for argv[2] blocks of argv[3] bytes. Prints one line:
// "<ok> <failed> <arena> <brk moved>" (mallinfo2's arena, and how far the break moved after the wall).
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: brk-wall TOP_PAD COUNT SIZE\n"); return 2; }
  mallopt(M_TOP_PAD, atoi(argv[1]));
  long count = atol(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  if (!malloc(size)) { fprintf(stderr, "first malloc failed\n"); return 1; }
  char *end = sbrk(0);
  void *wall = mmap(end, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (wall != end) { fprintf(stderr, "could not map the wall at the break's end\n"); return 1; }
  long ok = 0, failed = 0;
  for (long i = 0; i < count; i++) { if (malloc(size)) ok++; else failed++; }
  struct mallinfo2 m = mallinfo2();
  printf("%ld %ld %zu %td\n", ok, failed, m.arena, (char *)sbrk(0) - end);
  return 0;
}

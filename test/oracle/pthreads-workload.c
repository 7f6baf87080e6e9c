/* pthreads-workload: a small multi-threaded C program for the thread-fidelity tests (recorded
 * with `heapsim record`, then replayed through the real glibc and through the ptmalloc model).
 *
 * Two waves of worker threads: the first wave's threads exit before the second wave starts, so
 * glibc hands their arenas (from its free list) to the second wave. A wave's threads each make
 * their first allocation (which gives the thread its arena) and then wait for one another, so no
 * thread of a wave exits before every other has its arena: a busy machine that runs them one
 * after another would otherwise let a later thread reuse an earlier one's arena (two arenas at
 * the end instead of five). Each worker allocates blocks
 * of every class (tcache, fastbin, small and large bins, and above the mmap threshold), grows
 * some with realloc, uses calloc and aligned allocations, frees part of what it made, and hands
 * the rest to a shared queue; the main thread (and later workers) free blocks from that queue,
 * so chunks go back to arenas of other threads. Sizes come from a per-thread generator, so the
 * calls are the same on every run; only their interleaving varies, and the recording keeps it.
 *
 * usage: pthreads-workload [threads-per-wave] [blocks-per-thread]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_SLOTS 65536

static void *queue[QUEUE_SLOTS];
static size_t queue_len;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static int blocks_per_thread = 3000;
static pthread_barrier_t wave_started;

static uint32_t next(uint32_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static size_t pick_size(uint32_t *s)
{
  uint32_t r = next(s) % 100;
  if (r < 35) return 1 + next(s) % 120;           /* tcache / fastbins */
  if (r < 70) return 121 + next(s) % 900;         /* small bins */
  if (r < 92) return 1025 + next(s) % 60000;      /* large bins */
  if (r < 98) return 60000 + next(s) % 70000;     /* around the mmap threshold */
  return 140000 + next(s) % 400000;               /* mmapped (until the threshold moves) */
}

static void push(void *p)
{
  pthread_mutex_lock(&queue_lock);
  if (queue_len < QUEUE_SLOTS)
    queue[queue_len++] = p;
  else
    free(p);
  pthread_mutex_unlock(&queue_lock);
}

static void *pop(void)
{
  void *p = NULL;
  pthread_mutex_lock(&queue_lock);
  if (queue_len)
    p = queue[--queue_len];
  pthread_mutex_unlock(&queue_lock);
  return p;
}

static void *worker(void *arg)
{
  uint32_t s = 2463534242u ^ (uint32_t) (uintptr_t) arg * 2654435761u;
  int n = blocks_per_thread;
  void **mine = calloc((size_t) n, sizeof *mine);
  pthread_barrier_wait(&wave_started);
  for (int i = 0; i < n; i++)
    {
      size_t size = pick_size(&s);
      uint32_t how = next(&s) % 20;
      void *p;
      if (how == 0)
        p = calloc(1, size);
      else if (how == 1)
        p = aligned_alloc(64, (size + 63) & ~(size_t) 63);
      else
        p = malloc(size);
      if (p)
        memset(p, 0x5A, size < 256 ? size : 256);
      mine[i] = p;
      uint32_t then = next(&s) % 10;
      if (then < 3 && i > 0)
        {
          int k = (int) (next(&s) % (uint32_t) i);
          free(mine[k]);
          mine[k] = NULL;
        }
      else if (then == 3 && mine[i])
        {
          void *q = realloc(mine[i], size + 1 + next(&s) % 5000);
          if (q)
            mine[i] = q;
        }
      else if (then == 4)
        {
          free(pop()); /* a block some other thread made */
        }
    }
  for (int i = 0; i < n; i++)
    {
      if (!mine[i])
        continue;
      if (next(&s) % 3 == 0)
        push(mine[i]);
      else
        free(mine[i]);
    }
  free(mine);
  return NULL;
}

static void wave(int threads, int first)
{
  pthread_t t[64];
  if (threads > 64)
    threads = 64;
  pthread_barrier_init(&wave_started, NULL, (unsigned) threads);
  for (int i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, worker, (void *) (uintptr_t) (first + i));
  for (int i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&wave_started);
}

int main(int argc, char **argv)
{
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  if (argc > 2)
    blocks_per_thread = atoi(argv[2]);
  void *keep = malloc(1000);
  wave(threads, 0);
  /* half of what the first wave left behind is freed by the main thread */
  for (size_t i = queue_len / 2; i > 0; i--)
    free(pop());
  wave(threads, threads);
  void *p;
  while ((p = pop()) != NULL)
    free(p);
  free(keep);
  return 0;
}

/* replay-core.h: what every allocator oracle of test/oracle/ shares.
 *
 * An oracle replays allocator calls through the library it is linked with (or preloaded) and
 * prints that library's statistics at checkpoints. It must not allocate through the library
 * except for the replayed calls: tables live in mmap'd memory, the input file is mapped
 * read-only, output leaves through write(2) from a static buffer.
 *
 * Threads: a trace that names threads (ops `T N` / `E N`, text `thread N` / `thread-end N`) is
 * replayed with one real thread per traced thread (a thread id that ends and comes back is a new
 * thread), all created before the replay. The events are handed out one at a time in trace
 * order: only the thread whose event is next runs, so a library's choices (which arena a thread
 * gets) repeat exactly. A thread's end returns from its thread function (the library runs its
 * thread-exit code) and the replay goes on once the thread is joined. Creating threads allocates
 * (glibc's pthread_create callocs the new thread's DTV): an oracle that must not see that defines
 * REPLAY_THREAD_CREATION_HOOK and `static void replay_thread_creation(int creating)`, called
 * with 1 before and 0 after the threads are created, and serves those allocations itself.
 *
 * Input, counted exactly as heapsim counts events:
 *   mtrace  glibc MALLOC_TRACE text: one event per `+`, `-`, `!` line and per `<`/`>` pair. Calls
 *           that cannot be replayed (free of an unknown or freed pointer, a failed allocation,
 *           free(NULL)) are events that do nothing; every `+` is a malloc. Pointers the trace did
 *           not see are replayed by heapsim's rules (src/trace/events.ts): a realloc of a pointer
 *           never seen is a malloc of the new size; an allocation returning a pointer still live
 *           frees the older block first (not an event).
 *   ops     heapsim's test script, one call per line, blocks named by small ids:
 *             m ID SIZE        malloc             c ID SIZE   calloc(1, SIZE)
 *             a ID ALIGN SIZE  memalign           r ID SIZE   realloc (0 = free)
 *             f ID             free               t [ARG]     the library's trim call
 *             s MS             sleep MS milliseconds (for libraries whose delays run on wall time)
 *             p                checkpoint now     # ...       comment
 *             T N              the following calls come from thread N
 *             E N              thread N exits
 *           m, c, a, r and f are events; t, s, p, T and E are not.
 *   text    (--text) heapsim's text trace (docs/trace-format.md), as `heapsim run` counts it:
 *           a, c, m, r, f and x lines are events (an r or f of an id that is not live, and x,
 *           do nothing); thread and thread-end lines are threads; mark and tick are ignored.
 *
 * Options every oracle takes (replay_args): --ops (the script format), --text (heapsim text), --every N (a checkpoint
 * after every N events), --trim-at N (the library's trim call once N events are replayed, between a
 * `before` and an `after` checkpoint), --write (every block is written whole, its
 * malloc_usable_size bytes, as heapsim assumes a program does), --resident (the oracle adds
 * resident bytes to its lines as it documents).
 *
 * The including file defines, before including this header:
 *   static void checkpoint(const char *tag, uint64_t event);
 *   static void trim_now(uint64_t arg);                 the library's trim call (`t`, --trim-at)
 * and its main calls replay_args, then replay_file. It may define REPLAY_BLOCK_HOOK(p), called
 * with every block the replay gets (an oracle that tracks where blocks lie).
 */
#ifndef HEAPSIM_REPLAY_CORE_H
#define HEAPSIM_REPLAY_CORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <pthread.h>
#include <semaphore.h>

#include <malloc.h>

/* Each oracle runs in a fixed, machine-independent memory layout, so that the resident pages it
 * reports depend only on the calls it replays:
 * - heapsim models 4 KiB pages only. With transparent huge pages set to `always`, the kernel backs a
 *   touched 2 MiB-aligned range of the break with one huge page, and mincore then counts pages the
 *   program never touched as resident (PR_SET_THP_DISABLE opts out).
 * - Address randomisation moves where the break starts. The real tcmalloc then touched 2 MiB more of
 *   its break in about 1 run in 60 of the same recorded awk trace: the runs whose break crossed a
 *   4 GiB-aligned address, where its page map needs more of its own memory. ADDR_NO_RANDOMIZE places
 *   the break where it is on every run.
 * Both must hold from the first instruction of the library under test, which has already grown the
 * break by the time any code of ours runs: the oracle sets them and starts itself again (the THP flag
 * survives execve, and the personality applies from it on). */
#define REPLAY_LAYOUT_ENV "HEAPSIM_ORACLE_FIXED_LAYOUT"
__attribute__((constructor)) static void replay_fixed_layout(int argc, char **argv, char **envp)
{
  (void) argc;
  (void) envp;
  if (getenv(REPLAY_LAYOUT_ENV))
    return;
  setenv(REPLAY_LAYOUT_ENV, "1", 1);
  int thp = prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  int old = personality(0xffffffff);
  int aslr = old == -1 ? -1 : personality((unsigned long) old | ADDR_NO_RANDOMIZE);
  if (thp == 0 || aslr != -1)
    execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}

static void checkpoint(const char *tag, uint64_t event);
static void trim_now(uint64_t arg);

/* ------------------------------------------------------------------ output */

static char out_buf[1 << 16];
static size_t out_len;

static void out_flush(void)
{
  size_t done = 0;
  while (done < out_len)
    {
      ssize_t n = write(1, out_buf + done, out_len - done);
      if (n <= 0)
        _exit(3);
      done += (size_t) n;
    }
  out_len = 0;
}

static void out_str(const char *s)
{
  while (*s)
    {
      if (out_len == sizeof out_buf)
        out_flush();
      out_buf[out_len++] = *s++;
    }
}

static void out_u64(uint64_t v)
{
  char tmp[24];
  int i = 0;
  do
    {
      tmp[i++] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v);
  if (out_len + (size_t) i > sizeof out_buf)
    out_flush();
  while (i)
    out_buf[out_len++] = tmp[--i];
}

static void die(const char *msg)
{
  out_flush();
  ssize_t ignored = write(2, msg, strlen(msg));
  (void) ignored;
  _exit(2);
}

/* ------------------------------------------------------------------ options and events */

static int want_write;
static int want_resident;

static void *written(void *p)
{
  if (p && want_write)
    memset(p, 0xA5, malloc_usable_size(p));
#ifdef REPLAY_BLOCK_HOOK
  if (p)
    REPLAY_BLOCK_HOOK(p);
#endif
  return p;
}

static uint64_t events;
static int text_mode;
static uint64_t every;
static uint64_t trim_at;
static int have_trim_at;

static void count_event(void)
{
  events++;
  if (every && events % every == 0)
    checkpoint("at", events);
  if (have_trim_at && events == trim_at)
    {
      checkpoint("before", events);
      trim_now(0);
      checkpoint("after", events);
    }
}

/* ------------------------------------------------------------------ pointer table
 * Open addressing, linear probing, keys = trace pointers (never 0). A freed key keeps its slot
 * with value 0, so the table only grows with the number of distinct addresses seen. */

struct slot { uint64_t key; void *value; };
static struct slot *table;
static size_t table_cap;   /* power of two */
static size_t table_used;

static void *map_zeroed(size_t bytes)
{
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    die("replay: mmap failed\n");
  return p;
}

static size_t slot_of(uint64_t key, size_t cap)
{
  uint64_t h = (key >> 4) * 0x9E3779B97F4A7C15ull;
  return (size_t) (h >> 17) & (cap - 1);
}

static struct slot *table_find(uint64_t key, int insert)
{
  size_t i = slot_of(key, table_cap);
  for (;;)
    {
      if (table[i].key == key)
        return &table[i];
      if (table[i].key == 0)
        break;
      i = (i + 1) & (table_cap - 1);
    }
  if (!insert)
    return NULL;
  if ((table_used + 1) * 2 > table_cap)
    {
      size_t cap = table_cap * 2;
      struct slot *bigger = map_zeroed(cap * sizeof *bigger);
      for (size_t j = 0; j < table_cap; j++)
        if (table[j].key)
          {
            size_t k = slot_of(table[j].key, cap);
            while (bigger[k].key)
              k = (k + 1) & (cap - 1);
            bigger[k] = table[j];
          }
      munmap(table, table_cap * sizeof *table);
      table = bigger;
      table_cap = cap;
      return table_find(key, 1);
    }
  table[i].key = key;
  table[i].value = NULL;
  table_used++;
  return &table[i];
}

/* ------------------------------------------------------------------ line parsing */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* `0x…`, `0`, or `(nil)`; returns 0 on success. */
static int parse_ptr(const char *s, const char *e, uint64_t *v)
{
  size_t n = (size_t) (e - s);
  if ((n == 5 && memcmp(s, "(nil)", 5) == 0) || (n == 1 && s[0] == '0'))
    {
      *v = 0;
      return 0;
    }
  if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    return -1;
  uint64_t r = 0;
  for (const char *p = s + 2; p < e; p++)
    {
      int d;
      if (*p >= '0' && *p <= '9') d = *p - '0';
      else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
      else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
      else return -1;
      r = r * 16 + (uint64_t) d;
    }
  *v = r;
  return 0;
}

static int parse_dec(const char *s, const char *e, uint64_t *v)
{
  if (s == e)
    return -1;
  uint64_t r = 0;
  for (const char *p = s; p < e; p++)
    {
      if (*p < '0' || *p > '9')
        return -1;
      r = r * 10 + (uint64_t) (*p - '0');
    }
  *v = r;
  return 0;
}

static void free_key(uint64_t key)
{
  struct slot *sl = table_find(key, 0);
  if (sl && sl->value)
    {
      free(sl->value);
      sl->value = NULL;
    }
}

static int have_pending;
static uint64_t pending_old;

/* The trace's block at `ptr` is about to be `ptr` again: a live one is freed first (an implicit
 * free, not an event), as heapsim's readers replay it (src/trace/events.ts). */
static struct slot *fresh_slot(uint64_t ptr)
{
  struct slot *sl = table_find(ptr, 1);
  if (sl->value)
    {
      free(sl->value);
      sl->value = NULL;
    }
  return sl;
}

static void mtrace_line(const char *s, const char *e)
{
  while (e > s && is_blank(e[-1])) e--;
  while (s < e && is_blank(*s)) s++;
  if (s == e || *s == '=')
    return;
  /* Tokens from the right: the last one is a number; the operator is the 2nd or 3rd. */
  const char *b1 = e;
  while (b1 > s && !is_blank(b1[-1])) b1--;
  const char *e2 = b1;
  while (e2 > s && is_blank(e2[-1])) e2--;
  const char *b2 = e2;
  while (b2 > s && !is_blank(b2[-1])) b2--;
  char op;
  uint64_t ptr, size = 0;
  if (e2 - b2 == 1 && (*b2 == '-' || *b2 == '<'))
    {
      op = *b2;
      if (parse_ptr(b1, e, &ptr))
        return;
    }
  else
    {
      const char *e3 = b2;
      while (e3 > s && is_blank(e3[-1])) e3--;
      const char *b3 = e3 - 1;
      if (b3 < s || (b3 > s && !is_blank(b3[-1])))
        return;
      op = *b3;
      if (op != '+' && op != '>' && op != '!')
        return;
      if (parse_ptr(b2, e2, &ptr) || parse_ptr(b1, e, &size))
        return;
    }
  if (have_pending && op != '>')
    return; /* a `<` must be followed by its `>` */
  switch (op)
    {
    case '+':
      if (ptr)
        {
          struct slot *sl = fresh_slot(ptr);
          sl->value = written(malloc(size));
        }
      count_event();
      break;
    case '-':
      if (ptr)
        free_key(ptr);
      count_event();
      break;
    case '<':
      have_pending = 1;
      pending_old = ptr;
      break;
    case '>':
      if (!have_pending)
        return;
      have_pending = 0;
      if (pending_old == 0)
        {
          if (ptr)
            {
              struct slot *sl = fresh_slot(ptr);
              sl->value = written(malloc(size));
            }
        }
      else if (size == 0)
        free_key(pending_old);
      else if (ptr)
        {
          struct slot *sl = table_find(pending_old, 0);
          if (!sl)
            {
              /* never seen (the trace began after it was allocated): a malloc of the new size */
              struct slot *nsl = fresh_slot(ptr);
              nsl->value = written(malloc(size));
            }
          else if (sl->value)
            {
              if (ptr != pending_old)
                free_key(ptr); /* the new address still live as another block: freed first */
              void *old = sl->value;
              sl->value = NULL;
              void *p = written(realloc(old, size));
              table_find(ptr, 1)->value = p;
            }
        }
      count_event();
      break;
    default: /* '!': a realloc that failed in the traced program */
      count_event();
      break;
    }
}

/* ops script: blocks named by dense ids in an mmap'd array that grows by doubling. */
static void **ids;
static size_t ids_cap;

static void **id_slot(uint64_t id)
{
  if (id >= ids_cap)
    {
      size_t cap = ids_cap ? ids_cap : 4096;
      while (cap <= id)
        cap *= 2;
      void **bigger = map_zeroed(cap * sizeof *bigger);
      if (ids)
        {
          memcpy(bigger, ids, ids_cap * sizeof *ids);
          munmap(ids, ids_cap * sizeof *ids);
        }
      ids = bigger;
      ids_cap = cap;
    }
  return &ids[id];
}

/* ------------------------------------------------------------------ scripted calls (ops and text)
 * Both formats are read into an array of calls first; each call names the thread (the run of a
 * thread id between its first call and its end) that makes it. */

enum { EV_MALLOC = 1, EV_CALLOC, EV_MEMALIGN, EV_REALLOC, EV_FREE, EV_SKIP, EV_TRIM, EV_CHECKPOINT, EV_END, EV_SLEEP };

struct ev { uint8_t op; uint32_t who; uint64_t a, b, c; };
static struct ev *evs;
static size_t evs_len, evs_cap;

#define NO_WHO UINT32_MAX
#define UNNAMED_THREAD UINT64_MAX

/* Thread id → its current run (NO_WHO after its end). A small open-addressing map. */
struct tslot { uint64_t tid_plus_one; uint32_t who; };
static struct tslot *tmap;
static size_t tmap_cap, tmap_used;
static uint32_t whos;            /* runs so far */
static uint64_t current_tid = UNNAMED_THREAD;

static struct tslot *tmap_find(uint64_t tid)
{
  if ((tmap_used + 1) * 2 > tmap_cap)
    {
      size_t cap = tmap_cap ? tmap_cap * 2 : 64;
      struct tslot *t = map_zeroed(cap * sizeof *t);
      for (size_t i = 0; i < tmap_cap; i++)
        if (tmap[i].tid_plus_one)
          {
            size_t k = slot_of(tmap[i].tid_plus_one << 4, cap);
            while (t[k].tid_plus_one)
              k = (k + 1) & (cap - 1);
            t[k] = tmap[i];
          }
      if (tmap)
        munmap(tmap, tmap_cap * sizeof *tmap);
      tmap = t;
      tmap_cap = cap;
    }
  size_t i = slot_of((tid + 1) << 4, tmap_cap);
  while (tmap[i].tid_plus_one && tmap[i].tid_plus_one != tid + 1)
    i = (i + 1) & (tmap_cap - 1);
  if (!tmap[i].tid_plus_one)
    {
      tmap[i].tid_plus_one = tid + 1;
      tmap[i].who = NO_WHO;
      tmap_used++;
    }
  return &tmap[i];
}

/* The run of the current thread id, started now if it has none. Calls before any thread switch
 * come from a thread of their own (not in the map: its id would need a key of its own). */
static uint32_t unnamed_who = NO_WHO;
static uint32_t current_who(void)
{
  if (current_tid == UNNAMED_THREAD)
    {
      if (unnamed_who == NO_WHO)
        unnamed_who = whos++;
      return unnamed_who;
    }
  struct tslot *t = tmap_find(current_tid);
  if (t->who == NO_WHO)
    t->who = whos++;
  return t->who;
}

static void add_ev(uint8_t op, uint32_t who, uint64_t a, uint64_t b, uint64_t c)
{
  if (evs_len == evs_cap)
    {
      size_t cap = evs_cap ? evs_cap * 2 : 1 << 16;
      struct ev *n = map_zeroed(cap * sizeof *n);
      if (evs)
        {
          memcpy(n, evs, evs_len * sizeof *n);
          munmap(evs, evs_cap * sizeof *evs);
        }
      evs = n;
      evs_cap = cap;
    }
  struct ev *e = &evs[evs_len++];
  e->op = op;
  e->who = who;
  e->a = a;
  e->b = b;
  e->c = c;
}

/* A thread switch. Runs start at a thread's first call, so a switch before any call names the
 * first thread, and calls before any switch come from a thread of their own. */
static int have_end;
static void switch_thread(uint64_t tid)
{
  if (tid == UNNAMED_THREAD)
    die("replay: thread id out of range\n");
  current_tid = tid;
}

static void end_thread(uint64_t tid)
{
  if (tid == UNNAMED_THREAD)
    die("replay: thread id out of range\n");
  struct tslot *t = tmap_find(tid);
  if (t->who == NO_WHO)
    die("replay: end of a thread that made no call\n");
  add_ev(EV_END, t->who, 0, 0, 0);
  t->who = NO_WHO;
  have_end = 1;
}

/* Up to three decimal numbers after the first token; returns how many. */
static int numbers(const char *s, const char *e, uint64_t *arg)
{
  int n = 0;
  while (s < e && n < 3)
    {
      while (s < e && is_blank(*s)) s++;
      if (s == e || *s == '@')
        break;
      const char *t = s;
      while (s < e && !is_blank(*s)) s++;
      if (parse_dec(t, s, &arg[n++]))
        die("replay: bad number in script\n");
    }
  return n;
}

static void ops_line(const char *s, const char *e)
{
  uint64_t arg[3] = { 0, 0, 0 };
  while (s < e && is_blank(*s)) s++;
  if (s == e || *s == '#')
    return;
  char op = *s++;
  numbers(s, e, arg);
  switch (op)
    {
    case 'm': add_ev(EV_MALLOC, current_who(), arg[0], arg[1], 0); break;
    case 'c': add_ev(EV_CALLOC, current_who(), arg[0], arg[1], 0); break;
    case 'a': add_ev(EV_MEMALIGN, current_who(), arg[0], arg[2], arg[1]); break;
    case 'r': add_ev(EV_REALLOC, current_who(), arg[0], arg[1], 0); break;
    case 'f': add_ev(EV_FREE, current_who(), arg[0], 0, 0); break;
    case 't': add_ev(EV_TRIM, current_who(), arg[0], 0, 0); break;
    case 's': add_ev(EV_SLEEP, current_who(), arg[0], 0, 0); break;
    case 'p': add_ev(EV_CHECKPOINT, current_who(), 0, 0, 0); break;
    case 'T': switch_thread(arg[0]); break;
    case 'E': end_thread(arg[0]); break;
    default:
      die("replay: unknown op in ops script\n");
    }
}

/* heapsim text: the first word names the line. */
static void text_line(const char *s, const char *e)
{
  uint64_t arg[3] = { 0, 0, 0 };
  while (s < e && is_blank(*s)) s++;
  while (e > s && is_blank(e[-1])) e--;
  if (s == e || *s == '#')
    return;
  const char *w = s;
  while (s < e && !is_blank(*s)) s++;
  size_t wl = (size_t) (s - w);
  if (wl == 4 && memcmp(w, "mark", 4) == 0)
    return;
  if (wl == 1 && *w == 'x')
    {
      add_ev(EV_SKIP, current_who(), 0, 0, 0);
      return;
    }
  int n = numbers(s, e, arg);
  if (wl == 1)
    switch (*w)
      {
      case 'a': add_ev(EV_MALLOC, current_who(), arg[0], arg[1], 0); return;
      case 'c': add_ev(EV_CALLOC, current_who(), arg[0], arg[1], 0); return;
      case 'm': add_ev(EV_MEMALIGN, current_who(), arg[0], arg[1], arg[2]); return;
      case 'r': add_ev(EV_REALLOC, current_who(), arg[0], arg[1], 0); return;
      case 'f': add_ev(EV_FREE, current_who(), arg[0], 0, 0); return;
      }
  if (wl == 4 && memcmp(w, "tick", 4) == 0)
    return;
  if (wl == 6 && memcmp(w, "thread", 6) == 0 && n == 1)
    {
      switch_thread(arg[0]);
      return;
    }
  if (wl == 10 && memcmp(w, "thread-end", 10) == 0 && n == 1)
    {
      end_thread(arg[0]);
      return;
    }
  die("replay: unknown line in text trace\n");
}

/* One call, in the thread that makes it. */
static void exec_ev(const struct ev *e)
{
  void **slot;
  switch (e->op)
    {
    case EV_MALLOC:
      slot = id_slot(e->a);
      *slot = written(malloc(e->b));
      count_event();
      break;
    case EV_CALLOC:
      slot = id_slot(e->a);
      *slot = written(calloc(1, e->b));
      count_event();
      break;
    case EV_MEMALIGN:
      slot = id_slot(e->a);
      *slot = written(memalign(e->c, e->b));
      count_event();
      break;
    case EV_REALLOC:
      slot = id_slot(e->a);
      if (*slot || !text_mode)
        {
          void *p = written(realloc(*slot, e->b));
          if (p || e->b == 0)
            *slot = p;
        }
      count_event(); /* text: a realloc of an id that is not live does nothing */
      break;
    case EV_FREE:
      slot = id_slot(e->a);
      free(*slot);
      *slot = NULL;
      count_event();
      break;
    case EV_SKIP:
      count_event();
      break;
    case EV_TRIM:
      trim_now(e->a);
      checkpoint("at", events);
      break;
    case EV_CHECKPOINT:
      checkpoint("at", events);
      break;
    case EV_SLEEP:
      {
        struct timespec t = { (time_t) (e->a / 1000), (long) (e->a % 1000) * 1000000L };
        while (nanosleep(&t, &t) != 0)
          ;
      }
      break;
    }
}

/* ------------------------------------------------------------------ one real thread per traced thread */

struct worker { pthread_t thread; sem_t go; int started; };
static struct worker *workers;
static size_t cursor;            /* next call to run */
static sem_t main_wake;
static uint32_t exiting = NO_WHO;

/* Runs calls while they are this thread's; hands the next one to its thread (or, at the end of a
 * thread or of the trace, to the main thread). */
static void *worker_main(void *arg)
{
  uint32_t me = (uint32_t) (uintptr_t) arg;
  for (;;)
    {
      while (sem_wait(&workers[me].go) != 0)
        ;
      for (;;)
        {
          if (cursor == evs_len)
            {
              sem_post(&main_wake);
              break;
            }
          const struct ev *e = &evs[cursor];
          if (e->who != me)
            {
              sem_post(&workers[e->who].go);
              break;
            }
          cursor++;
          if (e->op == EV_END)
            {
              exiting = me;
              sem_post(&main_wake);
              return NULL; /* the library's thread-exit code runs now */
            }
          exec_ev(e);
        }
    }
}

static void run_threads(void)
{
  workers = map_zeroed((size_t) whos * sizeof *workers);
  if (sem_init(&main_wake, 0, 0) != 0)
    die("replay: sem_init failed\n");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
#ifdef REPLAY_THREAD_CREATION_HOOK
  replay_thread_creation(1);
#endif
  for (uint32_t i = 0; i < whos; i++)
    {
      if (sem_init(&workers[i].go, 0, 0) != 0)
        die("replay: sem_init failed\n");
      if (pthread_create(&workers[i].thread, &attr, worker_main, (void *) (uintptr_t) i) != 0)
        die("replay: pthread_create failed\n");
      workers[i].started = 1;
    }
#ifdef REPLAY_THREAD_CREATION_HOOK
  replay_thread_creation(0);
#endif
  if (evs_len)
    sem_post(&workers[evs[0].who].go);
  for (;;)
    {
      while (sem_wait(&main_wake) != 0)
        ;
      if (exiting == NO_WHO)
        break; /* the last call has run */
      uint32_t gone = exiting;
      exiting = NO_WHO;
      pthread_join(workers[gone].thread, NULL);
      workers[gone].started = 0;
      if (cursor == evs_len)
        break;
      sem_post(&workers[evs[cursor].who].go);
    }
}

/* ------------------------------------------------------------------ resident pages */

static unsigned char *mincore_vec;
static size_t mincore_cap;

/* Resident bytes of [from, the current break) (mincore), and that segment's size. */
static uint64_t break_resident(uintptr_t from, uint64_t *segment_bytes)
{
  uintptr_t end = (uintptr_t) sbrk(0);
  *segment_bytes = end - from;
  size_t pages = (end - from) >> 12;
  if (pages == 0)
    return 0;
  if (pages > mincore_cap)
    {
      if (mincore_vec)
        munmap(mincore_vec, mincore_cap);
      mincore_cap = (pages + 4095) & ~(size_t) 4095;
      mincore_vec = map_zeroed(mincore_cap);
    }
  if (mincore((void *) from, pages << 12, mincore_vec) != 0)
    die("replay: mincore failed\n");
  uint64_t resident = 0;
  for (size_t i = 0; i < pages; i++)
    resident += mincore_vec[i] & 1;
  return resident << 12;
}

/* With --resident: appends " RESIDENT SEGMENT" (break_resident from `from`) to the line. */
static inline void out_resident(uintptr_t from)
{
  if (!want_resident)
    return;
  uint64_t seg;
  uint64_t res = break_resident(from, &seg);
  out_str(" ");
  out_u64(res);
  out_str(" ");
  out_u64(seg);
}

/* ------------------------------------------------------------------ command line and input file */

/* Reads the options above; returns the input path (dies with `usage` when there is none). */
static const char *replay_args(int argc, char **argv, const char *usage, int *ops)
{
  const char *path = NULL;
  *ops = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp(argv[i], "--ops") == 0)
        *ops = 1;
      else if (strcmp(argv[i], "--text") == 0)
        *ops = 2;
      else if (strcmp(argv[i], "--resident") == 0)
        want_resident = 1;
      else if (strcmp(argv[i], "--write") == 0)
        want_write = 1;
      else if (strcmp(argv[i], "--trim-at") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &trim_at))
            die("replay: bad --trim-at\n");
          have_trim_at = 1;
        }
      else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &every))
            die("replay: bad --every\n");
        }
      else
        path = argv[i];
    }
  if (!path)
    die(usage);
  return path;
}


/* Replays every line of the file (mtrace; the ops script when `ops` is 1, heapsim text when 2),
 * then the `end` checkpoint. */
static void replay_file(const char *path, int ops)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    die("replay: cannot open input\n");
  struct stat st;
  if (fstat(fd, &st) != 0)
    die("replay: cannot stat input\n");
  const char *text = "";
  size_t len = (size_t) st.st_size;
  if (len)
    {
      text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (text == MAP_FAILED)
        die("replay: cannot map input\n");
    }
  close(fd);

  table_cap = 1 << 12;
  table = map_zeroed(table_cap * sizeof *table);

  text_mode = ops == 2;
  const char *p = text, *end = text + len;
  while (p < end)
    {
      const char *nl = memchr(p, '\n', (size_t) (end - p));
      const char *le = nl ? nl : end;
      if (ops == 1)
        ops_line(p, le);
      else if (ops == 2)
        text_line(p, le);
      else
        mtrace_line(p, le);
      p = nl ? nl + 1 : end;
    }
  if (ops)
    {
      /* One thread: the calls run here, as they always did. Several: one real thread each. */
      if (whos <= 1 && !have_end)
        for (size_t i = 0; i < evs_len; i++)
          exec_ev(&evs[i]);
      else
        run_threads();
    }
  if (have_pending)
    {
      have_pending = 0;
      count_event(); /* a `<` whose `>` never came: the call happened, result unknown */
    }
  checkpoint("end", events);
  out_flush();
}

#endif

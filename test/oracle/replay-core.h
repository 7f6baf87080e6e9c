/* replay-core.h: what every allocator oracle of test/oracle/ shares.
 *
 * An oracle replays allocator calls through the library it is linked with (or preloaded), in one
 * thread, and prints that library's statistics at checkpoints. It must not allocate through the
 * library except for the replayed calls: tables live in mmap'd memory, the input file is mapped
 * read-only, output leaves through write(2) from a static buffer.
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
 *             p                checkpoint now     # ...       comment
 *           m, c, a, r and f are events; t and p are not.
 *
 * Options every oracle takes (replay_args): --ops (the script format), --every N (a checkpoint
 * after every N events), --trim-at N (the library's trim call once N events are replayed, between a
 * `before` and an `after` checkpoint), --write (every block is written whole, its
 * malloc_usable_size bytes, as heapsim assumes a program does), --resident (the oracle adds
 * resident bytes to its lines as it documents).
 *
 * The including file defines, before including this header:
 *   static void checkpoint(const char *tag, uint64_t event);
 *   static void trim_now(uint64_t arg);                 the library's trim call (`t`, --trim-at)
 * and its main calls replay_args, then replay_file.
 */
#ifndef HEAPSIM_REPLAY_CORE_H
#define HEAPSIM_REPLAY_CORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/personality.h>

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
  return p;
}

static uint64_t events;
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

static void ops_line(const char *s, const char *e)
{
  uint64_t arg[3] = { 0, 0, 0 };
  int nargs = 0;
  while (s < e && is_blank(*s)) s++;
  if (s == e || *s == '#')
    return;
  char op = *s++;
  while (s < e && nargs < 3)
    {
      while (s < e && is_blank(*s)) s++;
      if (s == e)
        break;
      const char *t = s;
      while (s < e && !is_blank(*s)) s++;
      if (parse_dec(t, s, &arg[nargs++]))
        die("replay: bad number in ops script\n");
    }
  void **slot;
  switch (op)
    {
    case 'm':
      slot = id_slot(arg[0]);
      *slot = written(malloc(arg[1]));
      count_event();
      break;
    case 'c':
      slot = id_slot(arg[0]);
      *slot = written(calloc(1, arg[1]));
      count_event();
      break;
    case 'a':
      slot = id_slot(arg[0]);
      *slot = written(memalign(arg[1], arg[2]));
      count_event();
      break;
    case 'r':
      slot = id_slot(arg[0]);
      {
        void *p = written(realloc(*slot, arg[1]));
        if (p || arg[1] == 0)
          *slot = p;
      }
      count_event();
      break;
    case 'f':
      slot = id_slot(arg[0]);
      free(*slot);
      *slot = NULL;
      count_event();
      break;
    case 't':
      trim_now(arg[0]);
      checkpoint("at", events);
      break;
    case 'p':
      checkpoint("at", events);
      break;
    default:
      die("replay: unknown op in ops script\n");
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
static void out_resident(uintptr_t from)
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


/* Replays every line of the file (mtrace, or the ops script when `ops`), then the `end` checkpoint. */
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

  const char *p = text, *end = text + len;
  while (p < end)
    {
      const char *nl = memchr(p, '\n', (size_t) (end - p));
      const char *le = nl ? nl : end;
      if (ops)
        ops_line(p, le);
      else
        mtrace_line(p, le);
      p = nl ? nl + 1 : end;
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

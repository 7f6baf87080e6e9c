/* tcmalloc-replay: the real gperftools tcmalloc (libtcmalloc_minimal, 2.10 on Debian 12) as an
 * oracle for heapsim's tcmalloc policy.
 *
 * Build: cc -O2 -o tcmalloc-replay tcmalloc-replay.c -ltcmalloc_minimal
 * The library replaces malloc for the whole process; this program replays allocator calls through
 * it, in one thread, and prints the library's own statistics (MallocExtension_GetNumericProperty)
 * at checkpoints. Two input formats, counted exactly as heapsim counts them:
 *
 *   mtrace  (default)  glibc MALLOC_TRACE text: one event per `+`, `-`, `!` line and per `<`/`>`
 *                      pair. Calls that cannot be replayed (free of an unknown or freed pointer, a
 *                      failed allocation, free(NULL), an unmatched realloc) are events that do
 *                      nothing. Every `+` is replayed as malloc.
 *   ops     (--ops)    heapsim's test script, one call per line, blocks named by small ids:
 *                        m ID SIZE        malloc            c ID SIZE   calloc(1, SIZE)
 *                        a ID ALIGN SIZE  memalign          r ID SIZE   realloc (0 = free)
 *                        f ID             free              t           ReleaseFreeMemory()
 *                        p                checkpoint now    # ...       comment
 *                      m, c, a, r and f are events; t and p are not.
 *
 * usage: tcmalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE
 *
 * Output, one line per checkpoint (after every N events, at each `p`, and `end` at the end):
 *   at EVENT current_allocated heap_size pageheap_free pageheap_unmapped central_free
 *            transfer_free thread_free current_total_thread_cache
 * (the eight properties, in the order of PROPS below). `t` prints `trim EVENT` before its line.
 * With --trim-at N, ReleaseFreeMemory() runs once N events have been replayed, between a `before`
 * and an `after` checkpoint line. With --write, every block is written whole (its
 * malloc_usable_size bytes), as heapsim assumes a program does. With --resident each line gets two
 * more fields: the resident bytes of the break segment (mincore over [start_brk, sbrk(0)), start_brk
 * read from /proc/self/stat since tcmalloc has moved the break before main) and its size.
 *
 * Nothing here may allocate through the library except the replayed calls: whatever this program
 * allocated would change the heap being measured. Tables live in mmap'd memory, the input file is
 * mapped read-only and output leaves through write(2) from a static buffer.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <gperftools/malloc_extension_c.h>

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

/* ------------------------------------------------------------------ checkpoints */

static int want_write;

static void *written(void *p)
{
  if (p && want_write)
    memset(p, 0xA5, malloc_usable_size(p));
  return p;
}

static int want_resident;
static uintptr_t start_brk;
static unsigned char *mincore_vec;
static size_t mincore_cap;

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

/* Resident bytes of [start_brk, current break). */
static uint64_t break_resident(uint64_t *segment_bytes)
{
  uintptr_t end = (uintptr_t) sbrk(0);
  *segment_bytes = end - start_brk;
  size_t pages = (end - start_brk) >> 12;
  if (pages == 0)
    return 0;
  if (pages > mincore_cap)
    {
      if (mincore_vec)
        munmap(mincore_vec, mincore_cap);
      mincore_cap = (pages + 4095) & ~(size_t) 4095;
      mincore_vec = mmap(NULL, mincore_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mincore_vec == MAP_FAILED)
        die("tcmalloc-replay: mmap failed\n");
    }
  if (mincore((void *) start_brk, pages << 12, mincore_vec) != 0)
    die("tcmalloc-replay: mincore failed\n");
  uint64_t resident = 0;
  for (size_t i = 0; i < pages; i++)
    resident += mincore_vec[i] & 1;
  return resident << 12;
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
  if (want_resident)
    {
      uint64_t seg;
      uint64_t res = break_resident(&seg);
      out_str(" ");
      out_u64(res);
      out_str(" ");
      out_u64(seg);
    }
  out_str("\n");
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
      MallocExtension_ReleaseFreeMemory();
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
    die("tcmalloc-replay: mmap failed\n");
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
 * free, as heapsim's readers replay it: src/trace/events.ts). */
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
        die("tcmalloc-replay: bad number in ops script\n");
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
      MallocExtension_ReleaseFreeMemory();
      out_str("trim ");
      out_u64(events);
      out_str("\n");
      checkpoint("at", events);
      break;
    case 'p':
      checkpoint("at", events);
      break;
    default:
      die("tcmalloc-replay: unknown op in ops script\n");
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
  int ops = 0;
  const char *path = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp(argv[i], "--ops") == 0)
        ops = 1;
      else if (strcmp(argv[i], "--write") == 0)
        want_write = 1;
      else if (strcmp(argv[i], "--resident") == 0)
        want_resident = 1;
      else if (strcmp(argv[i], "--trim-at") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &trim_at))
            die("tcmalloc-replay: bad --trim-at\n");
          have_trim_at = 1;
        }
      else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &every))
            die("tcmalloc-replay: bad --every\n");
        }
      else
        path = argv[i];
    }
  if (!path)
    die("usage: tcmalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE\n");
  if (want_resident)
    start_brk = read_start_brk();

  int fd = open(path, O_RDONLY);
  if (fd < 0)
    die("tcmalloc-replay: cannot open input\n");
  struct stat st;
  if (fstat(fd, &st) != 0)
    die("tcmalloc-replay: cannot stat input\n");
  const char *text = "";
  size_t len = (size_t) st.st_size;
  if (len)
    {
      text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (text == MAP_FAILED)
        die("tcmalloc-replay: cannot map input\n");
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
  return 0;
}

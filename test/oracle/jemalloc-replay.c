/* jemalloc-replay: the installed jemalloc (Debian 12: libjemalloc2 5.3.0) as an oracle for heapsim's
 * jemalloc policy.
 *
 * Replays allocator calls through jemalloc, single-threaded, and prints the library's own statistics
 * (read with mallctl after refreshing them with mallctl("epoch")) at checkpoints. The settings come
 * from MALLOC_CONF, read by the library itself. Two input formats:
 *
 *   mtrace  (default)  glibc MALLOC_TRACE text, with events counted as heapsim's trace readers count
 *                      them: one per `+`, `-`, `!` line and one per `<`/`>` pair. Calls that cannot be
 *                      replayed (free of an unknown or freed pointer, a failed allocation, free(NULL),
 *                      an unmatched realloc) are events that do nothing. `+` is replayed as malloc.
 *   ops     (--ops)    heapsim's test script, one call per line, blocks named by small ids:
 *                        m ID SIZE         malloc             c ID SIZE   calloc(1, SIZE)
 *                        a ID ALIGN SIZE   memalign           r ID SIZE   realloc (0 = free)
 *                        f ID              free               t PAD       purge (see below)
 *                        p                 checkpoint now     # ...       comment
 *                      m, c, a, r and f are events; t and p are not.
 *
 * usage: jemalloc-replay [--ops] [--every N] [--write] [--trim-at N] FILE
 *
 * Output, one line per checkpoint (after every N events, and `end` after the last line):
 *   at EVENT allocated active metadata resident mapped retained dirtyBytes muzzyBytes
 * the mallctl values stats.allocated, stats.active, stats.metadata, stats.resident, stats.mapped,
 * stats.retained, and stats.arenas.4096.pdirty / pmuzzy (all arenas) times the page size. A `start`
 * line comes first: the state before the first replayed call.
 * "Purge" is heapsim's trim of this policy: mallctl("thread.tcache.flush") then
 * mallctl("arena.4096.purge") (every arena). `t` prints `trim EVENT` and then an `at` line; with
 * --trim-at N it runs once N events have been replayed, between a `before` and an `after` line.
 * With --write every block gets all its usable bytes written (malloc_usable_size), as heapsim
 * assumes a program does; realloc writes the whole new block.
 *
 * Nothing here may allocate through jemalloc except the replayed calls: tables live in mmap'd
 * memory, output leaves through write(2) from a static buffer, the input file is mapped read-only.
 * The first mallctl call makes jemalloc allocate its statistics tables (ctl_init); main() does it
 * before anything else, so it belongs to the start state, as the runtime's own start-up does.
 */
#define _GNU_SOURCE
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

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

/* ------------------------------------------------------------------ statistics */

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
static void purge(void)
{
  if (mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
    {
      /* no tcache (MALLOC_CONF=tcache:false): nothing to flush */
    }
  if (mallctl("arena.4096.purge", NULL, NULL, NULL, 0) != 0)
    die("jemalloc-replay: mallctl(\"arena.4096.purge\") failed\n");
}

static int want_write;

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
      purge();
      out_str("trim ");
      out_u64(events);
      out_str("\n");
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
    die("jemalloc-replay: mmap failed\n");
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

static void release(uint64_t key)
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
        table_find(ptr, 1)->value = written(malloc(size));
      count_event();
      break;
    case '-':
      if (ptr)
        release(ptr);
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
            table_find(ptr, 1)->value = written(malloc(size));
        }
      else if (size == 0)
        release(pending_old);
      else
        {
          struct slot *sl = table_find(pending_old, 0);
          if (sl && sl->value && ptr)
            {
              void *p = written(realloc(sl->value, size));
              sl->value = NULL;
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
        die("jemalloc-replay: bad number in ops script\n");
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
      purge();
      out_str("trim ");
      out_u64(events);
      out_str("\n");
      checkpoint("at", events);
      break;
    case 'p':
      checkpoint("at", events);
      break;
    default:
      die("jemalloc-replay: unknown op in ops script\n");
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
  stats_init();
  int ops = 0;
  const char *path = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp(argv[i], "--ops") == 0)
        ops = 1;
      else if (strcmp(argv[i], "--write") == 0)
        want_write = 1;
      else if (strcmp(argv[i], "--trim-at") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &trim_at))
            die("jemalloc-replay: bad --trim-at\n");
          have_trim_at = 1;
        }
      else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          if (parse_dec(v, v + strlen(v), &every))
            die("jemalloc-replay: bad --every\n");
        }
      else
        path = argv[i];
    }
  if (!path)
    die("usage: jemalloc-replay [--ops] [--every N] [--write] [--trim-at N] FILE\n");

  int fd = open(path, O_RDONLY);
  if (fd < 0)
    die("jemalloc-replay: cannot open input\n");
  struct stat st;
  if (fstat(fd, &st) != 0)
    die("jemalloc-replay: cannot stat input\n");
  const char *text = "";
  size_t len = (size_t) st.st_size;
  if (len)
    {
      text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (text == MAP_FAILED)
        die("jemalloc-replay: cannot map input\n");
    }
  close(fd);

  table_cap = 1 << 12;
  table = map_zeroed(table_cap * sizeof *table);

  checkpoint("start", 0);
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

/* The native anchor of `npm run bench` (bench/replay.bench.ts builds it with the machine's C
 * compiler; it is never committed as a binary): the same allocator calls heapsim replays, made
 * through this machine's glibc malloc, timed with CLOCK_MONOTONIC.
 *
 *   replay-native hst FILE [WARM_PASSES]
 *     Reads a heapsim .hst trace (versions 1 to 3) into an array of calls first (not timed), then
 *     replays it: pass 1 is cold (a fresh process: every page glibc hands out is new), passes 2..
 *     are warm (glibc reuses what it kept; each pass ends by freeing every block still live, which
 *     is not timed). Prints one line of JSON: the events, and per pass (cold first) its wall-clock
 *     and CPU nanoseconds and the minor page faults the process took during it (getrusage: the
 *     pages glibc and the id table touch for the first time, most of a cold pass's cost):
 *     {"events":N,"passes":[{"wallNs":W,"cpuNs":C,"minorFaults":F},...]}.
 *
 *   replay-native mtrace
 *     Reads glibc mtrace text from stdin (as `gzip -dc t.mtrace.gz | replay-native mtrace`) and
 *     replays each call as it is parsed: a pointer table maps trace addresses to real blocks. Prints
 *     {"events":N,"lines":L}; the bench times the whole pipeline from outside.
 *
 * Counting is heapsim's: one event per allocator call (skipped calls included); the calls that do
 * nothing in heapsim (free of an unknown pointer, double free, failed allocation) do nothing here.
 * Blocks are not written: like heapsim, the replay touches only what the allocator itself touches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
  fprintf(stderr, "replay-native: %s\n", what);
  exit(2);
}

/* Tables come from mmap, never from the allocator being measured. */
static void *map_zeroed(size_t bytes)
{
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    die("mmap failed");
  return p;
}

static uint64_t clock_ns(clockid_t which)
{
  struct timespec t;
  clock_gettime(which, &t);
  return (uint64_t) t.tv_sec * 1000000000ull + (uint64_t) t.tv_nsec;
}

/* Minor page faults this process has taken so far. */
static uint64_t minor_faults(void)
{
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (uint64_t) u.ru_minflt;
}

/* ------------------------------------------------------------------ .hst: pre-parsed calls */

enum { C_MALLOC = 1, C_CALLOC, C_MEMALIGN, C_REALLOC, C_FREE, C_SKIP };

struct call { uint32_t kind_id; uint32_t align_log2; uint64_t size; }; /* kind in the top 4 bits */
#define KIND_SHIFT 28
#define ID_MASK ((1u << KIND_SHIFT) - 1)

static const uint8_t *in;
static size_t in_len, in_pos;

static uint64_t varint(void)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7)
    {
      if (in_pos >= in_len)
        die("truncated .hst record");
      uint8_t b = in[in_pos++];
      v |= (uint64_t) (b & 0x7f) << shift;
      if (b < 0x80)
        return v;
    }
  die("bad varint");
  return 0;
}

static int log2_of(uint64_t v)
{
  int l = 0;
  while (((uint64_t) 1 << l) < v)
    l++;
  return l;
}

static struct call *calls;
static size_t ncalls;
static uint64_t nevents;
static uint32_t max_id;

static void read_hst(const char *path)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    die("cannot open the .hst file");
  struct stat st;
  if (fstat(fd, &st) != 0)
    die("cannot stat the .hst file");
  in_len = (size_t) st.st_size;
  in = mmap(NULL, in_len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (in == MAP_FAILED)
    die("cannot map the .hst file");
  close(fd);
  if (in_len < 16 || memcmp(in, "\x89HST\r\n\x1a\n", 8) != 0)
    die("not a .hst file");
  unsigned version = in[8] | (in[9] << 8);
  in_pos = version == 1 ? 16 : version == 2 ? 24 : version == 3 ? 40 : 0;
  if (!in_pos)
    die("unknown .hst version");
  /* At most one call per two record bytes. */
  calls = map_zeroed((in_len / 2 + 1) * sizeof *calls);
  for (;;)
    {
      if (in_pos >= in_len)
        die("no END record");
      uint8_t opb = in[in_pos++];
      uint8_t op = opb & 0x7f;
      uint64_t a = varint();
      struct call c = { 0, 0, 0 };
      int kind = 0;
      switch (op)
        {
        case 0x01: kind = C_MALLOC; c.size = varint(); break;
        case 0x02: kind = C_CALLOC; c.size = varint(); break;
        case 0x03: kind = C_MEMALIGN; c.size = varint(); c.align_log2 = (uint32_t) log2_of(varint()); break;
        case 0x04: kind = C_REALLOC; c.size = varint(); break;
        case 0x0c: kind = C_MALLOC; c.size = varint(); break;           /* untraced realloc: a new block */
        case 0x05: kind = C_FREE; break;
        case 0x0d: kind = C_FREE; break;                                 /* implicit free: not an event */
        case 0x06: kind = C_SKIP; break;
        case 0x07: case 0x08: case 0x09: case 0x0e: break;               /* mark, tick, thread, thread end */
        case 0x0a: case 0x0b: in_pos += a; break;                        /* strings */
        case 0x0f: goto done;
        default: die("unknown .hst opcode");
        }
      if (opb & 0x80)
        varint(); /* caller index */
      if (!kind)
        continue;
      if (op != 0x0d)
        nevents++;
      if (kind == C_SKIP)
        continue;
      if (a > ID_MASK)
        die("id too large");
      if ((uint32_t) a > max_id)
        max_id = (uint32_t) a;
      c.kind_id = ((uint32_t) kind << KIND_SHIFT) | (uint32_t) a;
      calls[ncalls++] = c;
    }
done:;
}

static void **ptrs;

static void replay_pass(void)
{
  void **p = ptrs;
  const struct call *c = calls, *end = calls + ncalls;
  for (; c < end; c++)
    {
      uint32_t id = c->kind_id & ID_MASK;
      switch (c->kind_id >> KIND_SHIFT)
        {
        case C_MALLOC: p[id] = malloc(c->size); break;
        case C_CALLOC: p[id] = calloc(1, c->size); break;
        case C_MEMALIGN: p[id] = memalign((size_t) 1 << c->align_log2, c->size); break;
        case C_REALLOC:
          {
            void *q = realloc(p[id], c->size);
            if (q)
              p[id] = q;
            break;
          }
        case C_FREE: free(p[id]); p[id] = NULL; break;
        }
    }
}

static void free_all(void)
{
  for (uint32_t id = 0; id <= max_id; id++)
    if (ptrs[id])
      {
        free(ptrs[id]);
        ptrs[id] = NULL;
      }
}

static int replay_hst(const char *path, int warm_passes)
{
  read_hst(path);
  ptrs = map_zeroed(((size_t) max_id + 1) * sizeof *ptrs);
  printf("{\"events\":%llu,\"passes\":[", (unsigned long long) nevents);
  for (int pass = 0; pass <= warm_passes; pass++)
    {
      uint64_t f0 = minor_faults();
      uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
      replay_pass();
      uint64_t w1 = clock_ns(CLOCK_MONOTONIC), c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
      uint64_t f1 = minor_faults();
      free_all();
      printf("%s{\"wallNs\":%llu,\"cpuNs\":%llu,\"minorFaults\":%llu}", pass ? "," : "", (unsigned long long) (w1 - w0),
              (unsigned long long) (c1 - c0), (unsigned long long) (f1 - f0));
    }
  printf("]}\n");
  return 0;
}

/* ------------------------------------------------------------------ mtrace text from stdin */

struct slot { uint64_t key; void *value; };
static struct slot *table;
static size_t table_cap = 1 << 16, table_used;

static size_t slot_of(uint64_t key, size_t cap)
{
  return (size_t) (((key >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* The slot of `key`, made (value NULL) when absent. */
static struct slot *lookup(uint64_t key)
{
  size_t i = slot_of(key, table_cap);
  while (table[i].key && table[i].key != key)
    i = (i + 1) & (table_cap - 1);
  if (table[i].key == key)
    return &table[i];
  if ((table_used + 1) * 2 > table_cap)
    {
      size_t cap = table_cap * 2;
      struct slot *t = map_zeroed(cap * sizeof *t);
      for (size_t j = 0; j < table_cap; j++)
        if (table[j].key)
          {
            size_t k = slot_of(table[j].key, cap);
            while (t[k].key)
              k = (k + 1) & (cap - 1);
            t[k] = table[j];
          }
      munmap(table, table_cap * sizeof *table);
      table = t;
      table_cap = cap;
      return lookup(key);
    }
  table[i].key = key;
  table[i].value = NULL;
  table_used++;
  return &table[i];
}

/* A pointer or size token: 0x..., (nil) or 0. */
static uint64_t number(const char *s, const char *e)
{
  if (e - s >= 2 && s[0] == '0' && s[1] == 'x')
    {
      uint64_t v = 0;
      for (s += 2; s < e; s++)
        v = v * 16 + (uint64_t) (*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
      return v;
    }
  return 0;
}

static uint64_t events_text, lines_text;

static void text_line(const char *s, const char *e)
{
  lines_text++;
  /* The operator is the first one-character token after an optional "@ caller". */
  const char *t[4];
  const char *te[4];
  int n = 0;
  const char *p = s;
  if (p < e && *p == '=')
    return;
  if (p < e && *p == '@')
    {
      /* skip "@ caller " */
      p++;
      while (p < e && *p == ' ')
        p++;
      while (p < e && *p != ' ')
        p++;
    }
  while (p < e && n < 4)
    {
      while (p < e && *p == ' ')
        p++;
      if (p >= e)
        break;
      t[n] = p;
      while (p < e && *p != ' ')
        p++;
      te[n++] = p;
    }
  if (n < 2 || te[0] - t[0] != 1)
    return;
  static uint64_t pending;
  static int have_pending;
  uint64_t ptr = number(t[1], te[1]);
  uint64_t size = n > 2 ? number(t[2], te[2]) : 0;
  switch (*t[0])
    {
    case '+':
      events_text++;
      if (ptr)
        lookup(ptr)->value = malloc(size);
      break;
    case '-':
      events_text++;
      if (ptr)
        {
          struct slot *sl = lookup(ptr);
          free(sl->value);
          sl->value = NULL;
        }
      break;
    case '<':
      pending = ptr;
      have_pending = 1;
      break;
    case '>':
      if (!have_pending)
        return;
      have_pending = 0;
      events_text++;
      {
        struct slot *old = lookup(pending);
        if (!old->value)
          break;
        void *q = realloc(old->value, size ? size : 1);
        old->value = NULL;
        if (ptr)
          lookup(ptr)->value = q;
        else
          free(q);
      }
      break;
    case '!':
      events_text++;
      break;
    }
}

static int replay_mtrace(void)
{
  table = map_zeroed(table_cap * sizeof *table);
  size_t cap = 1 << 20, have = 0;
  char *buf = map_zeroed(cap + 1);
  for (;;)
    {
      ssize_t n = read(0, buf + have, cap - have);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        die("read failed");
      have += (size_t) n;
      char *s = buf, *end = buf + have;
      for (;;)
        {
          char *nl = memchr(s, '\n', (size_t) (end - s));
          if (!nl)
            break;
          text_line(s, nl);
          s = nl + 1;
        }
      have = (size_t) (end - s);
      memmove(buf, s, have);
      if (n == 0)
        break;
      if (have == cap)
        die("line longer than 1 MiB");
    }
  if (have)
    text_line(buf, buf + have);
  printf("{\"events\":%llu,\"lines\":%llu}\n", (unsigned long long) events_text, (unsigned long long) lines_text);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[1], "hst") == 0)
    return replay_hst(argv[2], argc >= 4 ? atoi(argv[3]) : 3);
  if (argc == 2 && strcmp(argv[1], "mtrace") == 0)
    return replay_mtrace();
  die("usage: replay-native hst FILE [WARM_PASSES] | replay-native mtrace < TEXT");
  return 2;
}

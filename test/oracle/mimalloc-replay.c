/* mimalloc-replay: the installed mimalloc (Debian 12: libmimalloc2.0, mimalloc 2.0.9) as the
 * oracle of heapsim's `mimalloc` policy.
 *
 * Build: cc -O2 -o mimalloc-replay test/oracle/mimalloc-replay.c -lmimalloc
 *
 * The library replaces malloc for the whole process, so this program must not allocate at all
 * apart from the replayed calls: no stdio, no getline, no qsort. The input is mapped read-only,
 * its tables live in mmap'd memory and its output leaves through write(2) from a static buffer.
 * Replayed calls go through the mi_* entry points (what malloc, calloc, realloc, free and the
 * aligned allocators forward to), one thread.
 *
 * Input, as heapsim counts events (one per allocator call, `skip`s included):
 *   mtrace (default)   glibc MALLOC_TRACE text: `+ P S` malloc (the line does not say which
 *                      allocator; heapsim replays it as malloc too), `- P` free, `< P` + `> Q S`
 *                      realloc (one event; S = 0 means free), `! P S` a failed realloc (an
 *                      event that does nothing). A call on an unknown or freed pointer, a failed
 *                      allocation, free(NULL) and a `<` with no `>` are events that do nothing.
 *   ops (--ops)        heapsim's test script, one call per line, blocks named by small ids:
 *                        m ID SIZE        mi_malloc          c ID SIZE   mi_calloc(1, SIZE)
 *                        a ID ALIGN SIZE  mi_malloc_aligned  r ID SIZE   mi_realloc
 *                        f ID             mi_free            t           mi_collect(true)
 *                        s MS             sleep MS milliseconds (the library's delays run on
 *                                         wall time)
 *                        p                checkpoint now     # ...       comment
 *                      m, c, a, r and f are events; t, s and p are not.
 *
 * usage: mimalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE
 *        mimalloc-replay --version      prints mi_version() (209 for 2.0.9)
 *
 * Output, one line per checkpoint: `start 0` before the first call, `at EVENT` every N events
 * (and for each `p`), `end EVENT` after the last line; with --trim-at N, `before N` and `after N`
 * around an mi_collect(true) once N events have been replayed. Each line carries, in order:
 *   current_commit peak_commit      mi_process_info (the library's commit counter, which it keeps
 *                                   even when built without statistics), printed as the signed
 *                                   64-bit counter it is (it can drop below zero)
 *   area_reserved area_committed area_used_bytes area_used_blocks areas
 *                                   sums over the areas (pages) that
 *                                   mi_heap_visit_blocks(mi_heap_get_default(), false, ...)
 *                                   reports: reserved, committed, used × block_size, used, count
 * With --write every block the replay gets is written in full (mi_usable_size bytes), as heapsim
 * assumes a program does. With --resident each line ends with the resident bytes (mincore) of
 * the segments the replay's blocks lie in, as long as they are mapped.
 */
#define _GNU_SOURCE
#include <mimalloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
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
  while (done < out_len) {
    ssize_t n = write(1, out_buf + done, out_len - done);
    if (n <= 0) _exit(3);
    done += (size_t)n;
  }
  out_len = 0;
}

static void out_char(char c)
{
  if (out_len == sizeof out_buf) out_flush();
  out_buf[out_len++] = c;
}

static void out_str(const char *s)
{
  while (*s) out_char(*s++);
}

static void out_u64(uint64_t v)
{
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) out_char(digits[--n]);
}

static void out_i64(int64_t v)
{
  if (v < 0) {
    out_char('-');
    out_u64((uint64_t)0 - (uint64_t)v);
  } else {
    out_u64((uint64_t)v);
  }
}

static void fail(const char *msg)
{
  out_flush();
  ssize_t ignored = write(2, msg, strlen(msg));
  (void)ignored;
  _exit(2);
}

static void *map_zeroed(size_t bytes)
{
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("mimalloc-replay: mmap failed\n");
  return p;
}

/* ------------------------------------------------------------------ resident pages */

static bool want_write, want_resident;
static uint64_t events, every, trim_at;
static bool have_trim_at;

/* --resident: the segments the replay has seen (a block's segment starts at (p - 1) rounded down
 * to 32 MiB, as mi_free finds it), each with the extent its blocks reached. */
#define SEGMENT_BYTES ((uintptr_t)32 << 20)
struct seen { uintptr_t base, extent; };
static struct seen *seen;
static size_t seen_count, seen_cap;
static unsigned char *core_vec;
#define CORE_CHUNK_PAGES ((size_t)8192)

static void note_segment(void *p)
{
  const uintptr_t base = ((uintptr_t)p - 1) & ~(SEGMENT_BYTES - 1);
  uintptr_t extent = (uintptr_t)p + mi_usable_size(p) - base;
  if (extent < SEGMENT_BYTES) extent = SEGMENT_BYTES;
  extent = (extent + 4095) & ~(uintptr_t)4095;
  for (size_t i = 0; i < seen_count; i++) {
    if (seen[i].base == base) {
      if (extent > seen[i].extent) seen[i].extent = extent;
      return;
    }
  }
  if (seen_count == seen_cap) {
    size_t cap = seen_cap ? seen_cap * 2 : 1024;
    struct seen *bigger = map_zeroed(cap * sizeof *bigger);
    if (seen) {
      memcpy(bigger, seen, seen_count * sizeof *seen);
      munmap(seen, seen_cap * sizeof *seen);
    }
    seen = bigger;
    seen_cap = cap;
  }
  seen[seen_count].base = base;
  seen[seen_count].extent = extent;
  seen_count++;
}

/* Resident bytes of the mapped parts of the seen segments (mincore, page by page where a
 * segment has been unmapped or is shorter than its extent). */
static uint64_t segments_resident(void)
{
  if (!core_vec) core_vec = map_zeroed(CORE_CHUNK_PAGES);
  uint64_t pages = 0;
  for (size_t i = 0; i < seen_count; i++) {
    for (uintptr_t a = seen[i].base, end = seen[i].base + seen[i].extent; a < end;) {
      size_t n = (size_t)((end - a) >> 12);
      if (n > CORE_CHUNK_PAGES) n = CORE_CHUNK_PAGES;
      if (mincore((void *)a, n << 12, core_vec) == 0) {
        for (size_t k = 0; k < n; k++) pages += core_vec[k] & 1;
        a += (uintptr_t)n << 12;
      } else if (a == seen[i].base && mincore((void *)a, 4096, core_vec) != 0) {
        break; /* the segment is no longer mapped */
      } else {
        /* part of the range is not mapped: look at one page */
        if (mincore((void *)a, 4096, core_vec) == 0) pages += core_vec[0] & 1;
        a += 4096;
      }
    }
  }
  return pages << 12;
}

/* ------------------------------------------------------------------ checkpoints */

struct area_sums { uint64_t reserved, committed, used_bytes, used_blocks, areas; };

static bool sum_area(const mi_heap_t *heap, const mi_heap_area_t *area, void *block, size_t block_size, void *arg)
{
  (void)heap; (void)block; (void)block_size;
  struct area_sums *s = arg;
  if (area == NULL) return true;
  s->reserved += area->reserved;
  s->committed += area->committed;
  s->used_bytes += (uint64_t)area->used * area->block_size;
  s->used_blocks += area->used;
  s->areas += 1;
  return true;
}

static void checkpoint(const char *tag, uint64_t event)
{
  size_t current_commit = 0, peak_commit = 0;
  mi_process_info(NULL, NULL, NULL, NULL, NULL, &current_commit, &peak_commit, NULL);
  struct area_sums s = { 0, 0, 0, 0, 0 };
  mi_heap_visit_blocks(mi_heap_get_default(), false, &sum_area, &s);
  const uint64_t fields[5] = { s.reserved, s.committed, s.used_bytes, s.used_blocks, s.areas };
  out_str(tag);
  out_char(' ');
  out_u64(event);
  /* The commit counter is an int64 that mi_process_info hands out as size_t: print it signed
   * (huge aligned blocks can take it below zero). */
  out_char(' ');
  out_i64((int64_t)current_commit);
  out_char(' ');
  out_i64((int64_t)peak_commit);
  for (int i = 0; i < 5; i++) {
    out_char(' ');
    out_u64(fields[i]);
  }
  if (want_resident) {
    out_char(' ');
    out_u64(segments_resident());
  }
  out_char('\n');
}

static void *written(void *p)
{
  if (p && want_write) memset(p, 0xA5, mi_usable_size(p));
  if (p && want_resident) note_segment(p);
  return p;
}

static void count_event(void)
{
  events++;
  if (every && events % every == 0) checkpoint("at", events);
  if (have_trim_at && events == trim_at) {
    checkpoint("before", events);
    mi_collect(true);
    checkpoint("after", events);
  }
}

/* ------------------------------------------------------------------ trace pointer table
 * Open addressing on the trace's pointer values (never 0); a freed pointer keeps its slot with
 * value NULL, so the table grows only with the number of distinct addresses. */

struct slot { uint64_t key; void *value; };
static struct slot *slots;
static size_t slot_cap, slot_used; /* capacity: a power of two */

static size_t home(uint64_t key, size_t cap)
{
  return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

static struct slot *lookup(uint64_t key, bool insert)
{
  if (insert && (slot_used + 1) * 2 > slot_cap) {
    size_t cap = slot_cap * 2;
    struct slot *bigger = map_zeroed(cap * sizeof *bigger);
    for (size_t i = 0; i < slot_cap; i++) {
      if (!slots[i].key) continue;
      size_t j = home(slots[i].key, cap);
      while (bigger[j].key) j = (j + 1) & (cap - 1);
      bigger[j] = slots[i];
    }
    munmap(slots, slot_cap * sizeof *slots);
    slots = bigger;
    slot_cap = cap;
  }
  size_t i = home(key, slot_cap);
  while (slots[i].key && slots[i].key != key) i = (i + 1) & (slot_cap - 1);
  if (slots[i].key == key) return &slots[i];
  if (!insert) return NULL;
  slots[i].key = key;
  slots[i].value = NULL;
  slot_used++;
  return &slots[i];
}

/* The live block a trace pointer stands for, or NULL. */
static void *live(uint64_t key)
{
  struct slot *s = key ? lookup(key, false) : NULL;
  return s ? s->value : NULL;
}

static void forget(uint64_t key)
{
  struct slot *s = lookup(key, false);
  if (s) s->value = NULL;
}

static void remember(uint64_t key, void *p)
{
  if (key) lookup(key, true)->value = p;
}

/* ------------------------------------------------------------------ tokens */

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* `0x…` hex, a bare `0` or `(nil)`; false when the token is none of these. */
static bool hex_token(const char *s, const char *e, uint64_t *v)
{
  size_t n = (size_t)(e - s);
  if ((n == 1 && s[0] == '0') || (n == 5 && memcmp(s, "(nil)", 5) == 0)) { *v = 0; return true; }
  if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  uint64_t r = 0;
  for (const char *p = s + 2; p < e; p++) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
    else return false;
    r = r * 16 + (uint64_t)d;
  }
  *v = r;
  return true;
}

static bool dec_token(const char *s, const char *e, uint64_t *v)
{
  if (s == e) return false;
  uint64_t r = 0;
  for (const char *p = s; p < e; p++) {
    if (*p < '0' || *p > '9') return false;
    r = r * 10 + (uint64_t)(*p - '0');
  }
  *v = r;
  return true;
}

/* Splits [s, e) into at most `max` blank-separated tokens, counted from the right:
 * tok[0] is the last token. Returns how many were found. */
static int tokens_from_right(const char *s, const char *e, const char **tok, const char **tok_end, int max)
{
  int n = 0;
  while (n < max) {
    while (e > s && blank(e[-1])) e--;
    if (e == s) break;
    const char *b = e;
    while (b > s && !blank(b[-1])) b--;
    tok[n] = b;
    tok_end[n] = e;
    n++;
    e = b;
  }
  return n;
}

/* ------------------------------------------------------------------ mtrace */

static bool pending;       /* a `<` line waits for its `>` */
static uint64_t pending_old;

static void mtrace_line(const char *s, const char *e)
{
  while (s < e && blank(*s)) s++;
  if (s == e || *s == '=') return;
  const char *tok[3], *tok_end[3];
  int n = tokens_from_right(s, e, tok, tok_end, 3);
  uint64_t ptr = 0, size = 0;
  char op;
  if (n >= 2 && tok_end[1] - tok[1] == 1 && (*tok[1] == '-' || *tok[1] == '<')) {
    op = *tok[1];
    if (!hex_token(tok[0], tok_end[0], &ptr)) return;
  } else if (n >= 3 && tok_end[2] - tok[2] == 1 && (*tok[2] == '+' || *tok[2] == '>' || *tok[2] == '!')) {
    op = *tok[2];
    if (!hex_token(tok[1], tok_end[1], &ptr) || !hex_token(tok[0], tok_end[0], &size)) return;
  } else {
    return;
  }
  if (pending && op != '>') return; /* a `<` is followed by its `>` */
  switch (op) {
  case '+':
    if (ptr) remember(ptr, written(mi_malloc(size)));
    count_event();
    break;
  case '-': {
    void *p = live(ptr);
    if (p) { mi_free(p); forget(ptr); }
    count_event();
    break;
  }
  case '<':
    pending = true;
    pending_old = ptr;
    break;
  case '>': {
    if (!pending) return;
    pending = false;
    if (pending_old == 0) {
      if (ptr) remember(ptr, written(mi_malloc(size)));
    } else {
      void *old = live(pending_old);
      if (old && size == 0) {
        mi_free(old);
        forget(pending_old);
      } else if (old && ptr) {
        void *p = written(mi_realloc(old, size));
        forget(pending_old);
        remember(ptr, p);
      }
    }
    count_event();
    break;
  }
  default: /* '!': a realloc that failed in the traced program */
    count_event();
    break;
  }
}

/* ------------------------------------------------------------------ ops scripts */

static void **ids;
static size_t id_cap;

static void **id_slot(uint64_t id)
{
  if (id >= id_cap) {
    size_t cap = id_cap ? id_cap : 4096;
    while (cap <= id) cap *= 2;
    void **bigger = map_zeroed(cap * sizeof *bigger);
    if (ids) {
      memcpy(bigger, ids, id_cap * sizeof *ids);
      munmap(ids, id_cap * sizeof *ids);
    }
    ids = bigger;
    id_cap = cap;
  }
  return &ids[id];
}

static void sleep_ms(uint64_t ms)
{
  struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
  while (nanosleep(&t, &t) != 0) { }
}

static void ops_line(const char *s, const char *e)
{
  while (s < e && blank(*s)) s++;
  if (s == e || *s == '#') return;
  const char op = *s++;
  uint64_t arg[3] = { 0, 0, 0 };
  int nargs = 0;
  while (nargs < 3) {
    while (s < e && blank(*s)) s++;
    if (s == e) break;
    const char *t = s;
    while (s < e && !blank(*s)) s++;
    if (!dec_token(t, s, &arg[nargs++])) fail("mimalloc-replay: bad number in ops script\n");
  }
  void **slot;
  switch (op) {
  case 'm':
    slot = id_slot(arg[0]);
    *slot = written(mi_malloc(arg[1]));
    count_event();
    break;
  case 'c':
    slot = id_slot(arg[0]);
    *slot = written(mi_calloc(1, arg[1]));
    count_event();
    break;
  case 'a':
    slot = id_slot(arg[0]);
    *slot = written(mi_malloc_aligned(arg[2], arg[1]));
    count_event();
    break;
  case 'r': {
    slot = id_slot(arg[0]);
    void *p = written(mi_realloc(*slot, arg[1]));
    if (p) *slot = p;
    count_event();
    break;
  }
  case 'f':
    slot = id_slot(arg[0]);
    mi_free(*slot);
    *slot = NULL;
    count_event();
    break;
  case 't':
    mi_collect(true);
    break;
  case 's':
    sleep_ms(arg[0]);
    break;
  case 'p':
    checkpoint("at", events);
    break;
  default:
    fail("mimalloc-replay: unknown op in ops script\n");
  }
}

/* ------------------------------------------------------------------ main */

static bool number_arg(const char *v, uint64_t *out)
{
  return dec_token(v, v + strlen(v), out);
}

int main(int argc, char **argv)
{
  bool ops = false;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      out_u64((uint64_t)mi_version());
      out_char('\n');
      out_flush();
      return 0;
    }
    if (strcmp(argv[i], "--ops") == 0) ops = true;
    else if (strcmp(argv[i], "--write") == 0) want_write = true;
    else if (strcmp(argv[i], "--resident") == 0) want_resident = true;
    else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
      if (!number_arg(argv[++i], &every)) fail("mimalloc-replay: bad --every\n");
    } else if (strcmp(argv[i], "--trim-at") == 0 && i + 1 < argc) {
      if (!number_arg(argv[++i], &trim_at)) fail("mimalloc-replay: bad --trim-at\n");
      have_trim_at = true;
    } else if (argv[i][0] == '-') {
      fail("usage: mimalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE\n");
    } else {
      path = argv[i];
    }
  }
  if (!path) fail("usage: mimalloc-replay [--ops] [--every N] [--write] [--resident] [--trim-at N] FILE\n");

  int fd = open(path, O_RDONLY);
  if (fd < 0) fail("mimalloc-replay: cannot open the input\n");
  struct stat st;
  if (fstat(fd, &st) != 0) fail("mimalloc-replay: cannot stat the input\n");
  const size_t len = (size_t)st.st_size;
  const char *text = "";
  if (len) {
    text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (text == MAP_FAILED) fail("mimalloc-replay: cannot map the input\n");
  }
  close(fd);
  slot_cap = 1 << 12;
  slots = map_zeroed(slot_cap * sizeof *slots);

  checkpoint("start", 0);
  for (const char *p = text, *end = text + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    if (ops) ops_line(p, line_end);
    else mtrace_line(p, line_end);
    p = nl ? nl + 1 : end;
  }
  if (pending) {
    pending = false;
    count_event(); /* the `<` whose `>` never came: the call happened, its result is unknown */
  }
  checkpoint("end", events);
  out_flush();
  return 0;
}

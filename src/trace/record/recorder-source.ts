// C source of the LD_PRELOAD library `heapsim record` compiles at run time (formats hst and text):
// it records every malloc-family call of every thread with its thread id, caller and time, straight
// into heapsim's formats, never allocating through the allocator it records. What it does and why
// is in the comment at the top of the source; docs/trace-format.md (record) says it for users.
export const RECORDER_SOURCE = String.raw`/* heapsim recorder: an LD_PRELOAD library that records every malloc-family call of every thread
 * of a program, with its thread id, its caller and the time, straight into heapsim's .hst (or text)
 * format. It never allocates through the allocator it records: its tables live in mmap'd memory,
 * the file is written with write(2) from its own buffer, and the real calls go to glibc's exported
 * __libc_* entry points.
 *
 * Order: one lock is held around each real call and its record, so the file's order is the order
 * in which the allocator saw the calls (a free in one thread and the malloc that gets the same
 * address in another can never appear swapped).
 *
 * Threads: a 'thread N' record precedes the first call of a thread after another thread's (N =
 * the kernel's thread id). A thread's exit is seen from a pthread key destructor that re-arms
 * itself until the last destructor round; the 'thread-end N' record is written once the thread
 * is really gone (tgkill says so), before the next record of any thread, so every call the
 * thread made while exiting comes before it. Threads still alive at exit() get no end record
 * (they do not run their exit code).
 *
 * Time: a 'tick' record of the nanoseconds since the previous tick (CLOCK_MONOTONIC) precedes a
 * call when at least TICK_RESOLUTION_NS have passed.
 *
 * Environment: HEAPSIM_RECORD_FILE (the output), HEAPSIM_RECORD_FORMAT (hst or text),
 * HEAPSIM_RECORD_PARENT (the recorder's pid: a process whose parent it is writes FILE, any other
 * process FILE.<pid>).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc (size_t);
extern void *__libc_calloc (size_t, size_t);
extern void *__libc_realloc (void *, size_t);
extern void __libc_free (void *);
extern void *__libc_memalign (size_t, size_t);

#define TICK_RESOLUTION_NS 1000
#define OUT_BYTES (1 << 20)
#define PAGE_BYTES 4096
#define PATH_BYTES 4096
#define DESTRUCTOR_ROUNDS 4      /* PTHREAD_DESTRUCTOR_ITERATIONS */
#define MAX_PENDING_EXITS 256
#define CALLER_TEXT_BYTES 1024

/* .hst (docs/trace-format.md) */
#define HST_HEADER_BYTES 40
#define HST_VERSION 3
#define HST_EVENT_COUNT_OFFSET 16   /* then the hint: id bound (24), peak live blocks (32) */
#define HST_FINAL_HEADER_BYTES (HST_HEADER_BYTES - HST_EVENT_COUNT_OFFSET)
#define OP_ALLOC 0x01
#define OP_CALLOC 0x02
#define OP_ALIGNED 0x03
#define OP_REALLOC 0x04
#define OP_FREE 0x05
#define OP_SKIP 0x06
#define OP_TICK 0x08
#define OP_THREAD 0x09
#define OP_DEF_CALLER 0x0b
#define OP_THREAD_END 0x0e
#define OP_END 0x0f
#define OP_HAS_CALLER 0x80
#define SKIP_UNMATCHED_FREE 0
#define SKIP_FAILED_ALLOC 3
#define SKIP_FREE_NULL 4

static const char *const SKIP_NAMES[] = { "unmatched-free", "unmatched-realloc", "double-free", "failed-alloc", "free-null", "unknown-result" };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int active;             /* recording */
static int text_format;
static int out_fd = -1;
static char path[PATH_BYTES];
static unsigned char *out;     /* OUT_BYTES, mmap'd */
static size_t out_len;
static uint32_t crc = 0xFFFFFFFFu;
static uint32_t crc_table[256];
static uint64_t events;
static uint64_t last_tid;      /* thread of the last record, 0 = none yet */
static uint64_t last_ns;
static pthread_key_t exit_key;

static __thread int in_recorder __attribute__ ((tls_model ("initial-exec")));
static __thread uint64_t my_tid __attribute__ ((tls_model ("initial-exec")));
static __thread uint64_t my_generation __attribute__ ((tls_model ("initial-exec")));
static uint64_t generation = 1; /* bumped in a forked child: every thread's cached tid is stale */

static uint64_t pending[MAX_PENDING_EXITS];
static int pending_count;

/* ------------------------------------------------------------------ memory of our own */

static void *map_zeroed (size_t bytes)
{
  void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------ output */

static void crc_init (void)
{
  for (uint32_t i = 0; i < 256; i++)
    {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
}

static void write_all (const unsigned char *p, size_t n)
{
  while (n > 0 && out_fd >= 0)
    {
      ssize_t w = write (out_fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          active = 0; /* the disk is full or the file is gone: stop recording, keep running */
          return;
        }
      p += w;
      n -= (size_t) w;
    }
}

/* Writes the buffer out; 'record_bytes_from' is where record bytes start (the checksum's part). */
static void flush_out (size_t record_bytes_from)
{
  if (!text_format)
    for (size_t i = record_bytes_from; i < out_len; i++)
      crc = crc_table[(crc ^ out[i]) & 0xFF] ^ (crc >> 8);
  write_all (out, out_len);
  out_len = 0;
}

static void room (size_t bytes)
{
  if (out_len + bytes > OUT_BYTES)
    flush_out (0);
}

static void put_byte (unsigned char b) { out[out_len++] = b; }

static void put_varint (uint64_t v)
{
  while (v >= 0x80)
    {
      put_byte ((unsigned char) (v | 0x80));
      v >>= 7;
    }
  put_byte ((unsigned char) v);
}

static void put_text (const char *s)
{
  size_t n = strlen (s);
  room (n);
  memcpy (out + out_len, s, n);
  out_len += n;
}

static void put_dec (uint64_t v)
{
  char tmp[24];
  int i = 0;
  do
    tmp[i++] = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  room ((size_t) i);
  while (i)
    put_byte ((unsigned char) tmp[--i]);
}

/* ------------------------------------------------------------------ pointer -> block id
 * Open addressing (linear probing, backward-shift deletion) in mmap'd memory; ids are dense: a
 * freed block's id goes on a stack and is handed out again first. */

struct slot { uint64_t key; uint64_t id; };
static struct slot *table;
static size_t table_cap;   /* power of two */
static size_t table_used;
static uint64_t *free_ids;
static size_t free_ids_cap, free_ids_len;
static uint64_t next_id;
static uint64_t peak_live;  /* the most entries in the table at once, for the .hst hint */

static size_t slot_of (uint64_t key, size_t cap)
{
  return (size_t) (((key >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static int grow_table (void)
{
  size_t cap = table_cap ? table_cap * 2 : 1 << 16;
  struct slot *t = map_zeroed (cap * sizeof *t);
  if (!t)
    return -1;
  for (size_t i = 0; i < table_cap; i++)
    if (table[i].key)
      {
        size_t k = slot_of (table[i].key, cap);
        while (t[k].key)
          k = (k + 1) & (cap - 1);
        t[k] = table[i];
      }
  if (table)
    munmap (table, table_cap * sizeof *table);
  table = t;
  table_cap = cap;
  return 0;
}

static struct slot *find (uint64_t key)
{
  size_t i = slot_of (key, table_cap);
  while (table[i].key)
    {
      if (table[i].key == key)
        return &table[i];
      i = (i + 1) & (table_cap - 1);
    }
  return NULL;
}

static void remove_slot (struct slot *s)
{
  size_t hole = (size_t) (s - table), mask = table_cap - 1, j = (hole + 1) & mask;
  while (table[j].key)
    {
      size_t home = slot_of (table[j].key, table_cap);
      int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!in_range)
        {
          table[hole] = table[j];
          hole = j;
        }
      j = (j + 1) & mask;
    }
  table[hole].key = 0;
  table[hole].id = 0;
  table_used--;
}

static void release_id (uint64_t id)
{
  if (free_ids_len == free_ids_cap)
    {
      size_t cap = free_ids_cap ? free_ids_cap * 2 : 1 << 16;
      uint64_t *n = map_zeroed (cap * sizeof *n);
      if (!n)
        return; /* the id is not reused: ids stay unique, only less dense */
      if (free_ids)
        {
          memcpy (n, free_ids, free_ids_len * sizeof *n);
          munmap (free_ids, free_ids_cap * sizeof *n);
        }
      free_ids = n;
      free_ids_cap = cap;
    }
  free_ids[free_ids_len++] = id;
}

/* A new block at 'ptr': its id (the live entry for ptr is replaced). Returns (uint64_t)-1 when our tables cannot grow. */
static uint64_t insert (uint64_t ptr, uint64_t *displaced)
{
  *displaced = (uint64_t) -1;
  if ((table_used + 1) * 2 > table_cap && grow_table ())
    return (uint64_t) -1;
  size_t i = slot_of (ptr, table_cap);
  while (table[i].key && table[i].key != ptr)
    i = (i + 1) & (table_cap - 1);
  if (table[i].key == ptr)
    *displaced = table[i].id;
  else if (++table_used > peak_live)
    peak_live = table_used;
  uint64_t id = free_ids_len ? free_ids[--free_ids_len] : next_id++;
  table[i].key = ptr;
  table[i].id = id;
  return id;
}

/* ------------------------------------------------------------------ callers
 * Return address -> its text (made once, with dladdr) and its index in the file (.hst defines a
 * caller before its first use). Texts live in an mmap'd arena. */

struct caller_slot { uint64_t addr; uint64_t index; uint64_t text_at; uint64_t text_len; };
static struct caller_slot *callers;
static size_t callers_cap, callers_used;
static uint64_t callers_defined;
static char *texts;
static size_t texts_cap, texts_len;

static int grow_callers (void)
{
  size_t cap = callers_cap ? callers_cap * 2 : 1 << 12;
  struct caller_slot *t = map_zeroed (cap * sizeof *t);
  if (!t)
    return -1;
  for (size_t i = 0; i < callers_cap; i++)
    if (callers[i].addr)
      {
        size_t k = slot_of (callers[i].addr, cap);
        while (t[k].addr)
          k = (k + 1) & (cap - 1);
        t[k] = callers[i];
      }
  if (callers)
    munmap (callers, callers_cap * sizeof *callers);
  callers = t;
  callers_cap = cap;
  return 0;
}

static struct caller_slot *caller_find (uint64_t addr)
{
  if (!callers)
    return NULL;
  size_t i = slot_of (addr, callers_cap);
  while (callers[i].addr)
    {
      if (callers[i].addr == addr)
        return &callers[i];
      i = (i + 1) & (callers_cap - 1);
    }
  return NULL;
}

/* Adds a caller with its text; NULL when our tables cannot grow (the call is then recorded without it). */
static struct caller_slot *caller_add (uint64_t addr, const char *desc, size_t len)
{
  struct caller_slot *c = caller_find (addr);
  if (c)
    return c;
  if ((!callers || (callers_used + 1) * 2 > callers_cap) && grow_callers ())
    return NULL;
  if (texts_len + len > texts_cap)
    {
      size_t cap = texts_cap ? texts_cap * 2 : 1 << 20;
      while (cap < texts_len + len)
        cap *= 2;
      char *t = map_zeroed (cap);
      if (!t)
        return NULL;
      if (texts)
        {
          memcpy (t, texts, texts_len);
          munmap (texts, texts_cap);
        }
      texts = t;
      texts_cap = cap;
    }
  memcpy (texts + texts_len, desc, len);
  size_t i = slot_of (addr, callers_cap);
  while (callers[i].addr)
    i = (i + 1) & (callers_cap - 1);
  callers[i].addr = addr;
  callers[i].index = (uint64_t) -1;
  callers[i].text_at = texts_len;
  callers[i].text_len = len;
  texts_len += len;
  callers_used++;
  return &callers[i];
}

static void hex (char *dst, size_t *n, size_t cap, uint64_t v)
{
  char tmp[20];
  int i = 0;
  do
    tmp[i++] = "0123456789abcdef"[v & 15];
  while ((v >>= 4) != 0);
  if (*n + 2 < cap) { dst[(*n)++] = '0'; dst[(*n)++] = 'x'; }
  while (i && *n < cap)
    dst[(*n)++] = tmp[--i];
}

static void text (char *dst, size_t *n, size_t cap, const char *s)
{
  while (*s && *n < cap)
    dst[(*n)++] = *s++;
}

/* 'object:(symbol+0xoff)[0xaddr]' (or 'object+0xoff[0xaddr]' without a symbol), as glibc's mtrace names callers. */
static size_t describe_caller (uint64_t addr, char *dst, size_t cap)
{
  size_t n = 0;
  Dl_info info;
  if (dladdr ((void *) (uintptr_t) addr, &info) && info.dli_fname)
    {
      text (dst, &n, cap, info.dli_fname[0] ? info.dli_fname : "?");
      if (info.dli_sname && info.dli_saddr)
        {
          text (dst, &n, cap, ":(");
          text (dst, &n, cap, info.dli_sname);
          text (dst, &n, cap, "+");
          hex (dst, &n, cap, addr - (uint64_t) (uintptr_t) info.dli_saddr);
          text (dst, &n, cap, ")");
        }
      else
        {
          text (dst, &n, cap, "+");
          hex (dst, &n, cap, addr - (uint64_t) (uintptr_t) info.dli_fbase);
        }
    }
  text (dst, &n, cap, "[");
  hex (dst, &n, cap, addr);
  text (dst, &n, cap, "]");
  for (size_t i = 0; i < n; i++)
    if (dst[i] == '\n' || dst[i] == '\r')
      dst[i] = ' ';
  return n;
}

/* ------------------------------------------------------------------ records (lock held) */

static uint64_t now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void rec_simple (int op, const char *word, uint64_t v)
{
  if (text_format)
    {
      put_text (word);
      put_text (" ");
      put_dec (v);
      put_text ("\n");
    }
  else
    {
      room (11);
      put_byte ((unsigned char) op);
      put_varint (v);
    }
}

static void write_pending_exits (void)
{
  for (int i = 0; i < pending_count;)
    {
      if (syscall (SYS_tgkill, (long) getpid (), (long) pending[i], 0) != 0 && errno == ESRCH)
        {
          rec_simple (OP_THREAD_END, "thread-end", pending[i]);
          if (last_tid == pending[i])
            last_tid = 0;
          pending[i] = pending[--pending_count];
        }
      else
        i++;
    }
}

static uint64_t current_tid (void)
{
  if (my_generation != generation)
    {
      my_tid = (uint64_t) syscall (SYS_gettid);
      my_generation = generation;
      /* A thread whose id the kernel gave again: the old one is gone. */
      for (int i = 0; i < pending_count; i++)
        if (pending[i] == my_tid)
          {
            rec_simple (OP_THREAD_END, "thread-end", my_tid);
            if (last_tid == my_tid)
              last_tid = 0;
            pending[i] = pending[--pending_count];
            break;
          }
      pthread_setspecific (exit_key, (void *) 1);
    }
  return my_tid;
}

/* Everything that precedes an event: exits of dead threads, the thread switch, the time. */
static void before_event (void)
{
  if (pending_count)
    write_pending_exits ();
  uint64_t tid = current_tid ();
  if (tid != last_tid)
    {
      rec_simple (OP_THREAD, "thread", tid);
      last_tid = tid;
    }
  uint64_t t = now_ns ();
  if (t - last_ns >= TICK_RESOLUTION_NS)
    {
      rec_simple (OP_TICK, "tick", t - last_ns);
      last_ns = t;
    }
}

/* The caller's index in the file, defining it first when new. */
static uint64_t caller_index (struct caller_slot *c)
{
  if (c->index == (uint64_t) -1)
    {
      c->index = callers_defined++;
      room (11 + c->text_len);
      put_byte (OP_DEF_CALLER);
      put_varint (c->text_len);
      memcpy (out + out_len, texts + c->text_at, c->text_len);
      out_len += c->text_len;
    }
  return c->index;
}

static void rec_block (int op, char kind, uint64_t id, uint64_t size, uint64_t align, struct caller_slot *c)
{
  events++;
  if (text_format)
    {
      char k[2] = { kind, 0 };
      put_text (k);
      put_text (" ");
      put_dec (id);
      put_text (" ");
      put_dec (size);
      if (op == OP_ALIGNED)
        {
          put_text (" ");
          put_dec (align);
        }
      if (c)
        {
          put_text (" @");
          room (c->text_len);
          memcpy (out + out_len, texts + c->text_at, c->text_len);
          out_len += c->text_len;
        }
      put_text ("\n");
      return;
    }
  uint64_t ci = c ? caller_index (c) : (uint64_t) -1;
  room (41);
  put_byte ((unsigned char) (ci == (uint64_t) -1 ? op : op | OP_HAS_CALLER));
  put_varint (id);
  put_varint (size);
  if (op == OP_ALIGNED)
    put_varint (align);
  if (ci != (uint64_t) -1)
    put_varint (ci);
}

static void rec_free (uint64_t id)
{
  events++;
  rec_simple (OP_FREE, "f", id);
}

static void rec_skip (int reason)
{
  events++;
  if (text_format)
    {
      put_text ("x ");
      put_text (SKIP_NAMES[reason]);
      put_text ("\n");
    }
  else
    rec_simple (OP_SKIP, "x", (uint64_t) reason);
}

/* ------------------------------------------------------------------ the wrappers */

/* Takes the lock when recording and returns the caller's entry through *caller (NULL when it
 * cannot be kept); returns 0 when the call should pass through unrecorded. A new caller's text is
 * made outside the lock: dladdr takes the loader's lock, which a thread in dlopen may hold while
 * it waits for ours. */
static int begin (struct caller_slot **caller, void *ret)
{
  if (!active || in_recorder)
    return 0;
  in_recorder = 1;
  uint64_t addr = (uint64_t) (uintptr_t) ret;
  pthread_mutex_lock (&lock);
  struct caller_slot *c = caller_find (addr);
  if (!c)
    {
      char desc[CALLER_TEXT_BYTES];
      pthread_mutex_unlock (&lock);
      size_t len = describe_caller (addr, desc, sizeof desc);
      pthread_mutex_lock (&lock);
      c = caller_add (addr, desc, len);
    }
  if (!active)
    {
      pthread_mutex_unlock (&lock);
      in_recorder = 0;
      return 0;
    }
  *caller = c;
  before_event ();
  return 1;
}

static void end (void)
{
  pthread_mutex_unlock (&lock);
  in_recorder = 0;
}

/* A block the allocator returned at address p: the entry for its id. An address still live in our
 * table means a free we could not see: that block is recorded freed first. */
static int take_id (void *p, uint64_t *id)
{
  struct slot *old = find ((uint64_t) (uintptr_t) p);
  if (old)
    {
      uint64_t gone = old->id;
      remove_slot (old);
      rec_free (gone);
      release_id (gone);
    }
  uint64_t displaced;
  *id = insert ((uint64_t) (uintptr_t) p, &displaced);
  if (*id == (uint64_t) -1)
    {
      active = 0;
      return -1;
    }
  return 0;
}

static void allocated (struct caller_slot *c, int op, char kind, void *p, uint64_t size, uint64_t align)
{
  uint64_t id;
  if (!p)
    rec_skip (SKIP_FAILED_ALLOC);
  else if (take_id (p, &id) == 0)
    rec_block (op, kind, id, size, align, c);
}

void *malloc (size_t n)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_malloc (n);
  void *p = __libc_malloc (n);
  allocated (c, OP_ALLOC, 'a', p, n, 0);
  end ();
  return p;
}

void *calloc (size_t n, size_t m)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_calloc (n, m);
  void *p = __libc_calloc (n, m);
  size_t total;
  if (__builtin_mul_overflow (n, m, &total))
    rec_skip (SKIP_FAILED_ALLOC);
  else
    allocated (c, OP_CALLOC, 'c', p, total, 0);
  end ();
  return p;
}

void free (void *p)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    {
      __libc_free (p);
      return;
    }
  struct slot *s = p ? find ((uint64_t) (uintptr_t) p) : NULL;
  __libc_free (p);
  if (!p)
    rec_skip (SKIP_FREE_NULL);
  else if (!s)
    rec_skip (SKIP_UNMATCHED_FREE);
  else
    {
      uint64_t id = s->id;
      remove_slot (s);
      rec_free (id);
      release_id (id);
    }
  end ();
}

void *realloc (void *old, size_t n)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_realloc (old, n);
  struct slot *s = old ? find ((uint64_t) (uintptr_t) old) : NULL;
  void *p = __libc_realloc (old, n);
  if (!old)
    allocated (c, OP_ALLOC, 'a', p, n, 0);            /* realloc(NULL, n) is malloc(n) */
  else if (!s)
    {
      /* A block we never saw allocated: the program now holds a block of n bytes (or none). */
      if (n == 0)
        rec_skip (SKIP_UNMATCHED_FREE);
      else
        allocated (c, OP_ALLOC, 'a', p, n, 0);
    }
  else if (n == 0)
    {
      uint64_t id = s->id;                                /* glibc frees and returns NULL */
      remove_slot (s);
      rec_free (id);
      release_id (id);
    }
  else if (!p)
    rec_skip (SKIP_FAILED_ALLOC);                        /* the old block stays */
  else
    {
      uint64_t id = s->id;
      if (p != old)
        {
          /* The block moved: its id moves with it (the free stack hands it out again first). */
          remove_slot (s);
          struct slot *other = find ((uint64_t) (uintptr_t) p);
          if (other)
            {
              uint64_t gone = other->id;
              remove_slot (other);
              rec_free (gone);
              release_id (gone);
            }
          release_id (id);
          uint64_t displaced;
          if (insert ((uint64_t) (uintptr_t) p, &displaced) == (uint64_t) -1)
            active = 0;
        }
      rec_block (OP_REALLOC, 'r', id, n, 0, c);
    }
  end ();
  return p;
}

static uint64_t power_of_two (uint64_t a)
{
  uint64_t p = 1;
  while (p < a && p)
    p <<= 1;
  return p ? p : a;
}

static void *aligned (struct caller_slot *c, size_t align, size_t n)
{
  void *p = __libc_memalign (align, n);
  allocated (c, OP_ALIGNED, 'm', p, n, power_of_two (align ? align : 1));
  return p;
}

void *memalign (size_t align, size_t n)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_memalign (align, n);
  void *p = aligned (c, align, n);
  end ();
  return p;
}

void *aligned_alloc (size_t align, size_t n)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_memalign (align, n);
  void *p = aligned (c, align, n);
  end ();
  return p;
}

int posix_memalign (void **res, size_t align, size_t n)
{
  /* glibc's rule: a power of two, a multiple of sizeof (void *); anything else is EINVAL, no call. */
  if (align % sizeof (void *) != 0 || (align & (align - 1)) != 0 || align == 0)
    return EINVAL;
  struct caller_slot *c;
  void *p;
  if (!begin (&c, __builtin_return_address (0)))
    p = __libc_memalign (align, n);
  else
    {
      p = aligned (c, align, n);
      end ();
    }
  if (!p)
    return ENOMEM;
  *res = p;
  return 0;
}

void *valloc (size_t n)
{
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_memalign (PAGE_BYTES, n);
  void *p = aligned (c, PAGE_BYTES, n);
  end ();
  return p;
}

void *pvalloc (size_t n)
{
  size_t rounded = (n + PAGE_BYTES - 1) & ~(size_t) (PAGE_BYTES - 1);
  if (rounded < n)
    return NULL;
  struct caller_slot *c;
  if (!begin (&c, __builtin_return_address (0)))
    return __libc_memalign (PAGE_BYTES, rounded);
  void *p = aligned (c, PAGE_BYTES, rounded);
  end ();
  return p;
}

/* ------------------------------------------------------------------ threads, fork, start, end */

static void thread_exiting (void *value)
{
  uintptr_t round = (uintptr_t) value;
  if (round < DESTRUCTOR_ROUNDS)
    {
      /* Not yet: other destructors may still free memory. Ask for another round. */
      pthread_setspecific (exit_key, (void *) (round + 1));
      return;
    }
  int was = in_recorder;
  in_recorder = 1;
  pthread_mutex_lock (&lock);
  if (active && my_generation == generation && pending_count < MAX_PENDING_EXITS)
    pending[pending_count++] = my_tid;
  pthread_mutex_unlock (&lock);
  in_recorder = was;
}

static int open_output (const char *file)
{
  out_fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0)
    return -1;
  out_len = 0;
  crc = 0xFFFFFFFFu;
  events = 0;
  last_tid = 0;
  last_ns = now_ns ();
  callers_defined = 0;
  peak_live = table_used;
  for (size_t i = 0; i < callers_cap; i++)
    callers[i].index = (uint64_t) -1; /* a new file defines its callers again */
  if (text_format)
    put_text ("#heapsim-trace 1\n# recorded by heapsim record\n");
  else
    {
      static const unsigned char magic[8] = { 0x89, 0x48, 0x53, 0x54, 0x0D, 0x0A, 0x1A, 0x0A };
      memcpy (out, magic, 8);
      memset (out + 8, 0, HST_HEADER_BYTES - 8);
      out[8] = HST_VERSION;
      out_len = HST_HEADER_BYTES;
      flush_out (HST_HEADER_BYTES);
    }
  return 0;
}

static void finish_output (void)
{
  if (out_fd < 0)
    return;
  if (pending_count)
    write_pending_exits ();
  if (text_format)
    flush_out (0);
  else
    {
      room (11);
      put_byte (OP_END);
      put_varint (events);
      flush_out (0);
      uint32_t sum = crc ^ 0xFFFFFFFFu;
      unsigned char trailer[4] = { (unsigned char) sum, (unsigned char) (sum >> 8), (unsigned char) (sum >> 16), (unsigned char) (sum >> 24) };
      write_all (trailer, 4);
      /* The event count and the hint: ids are below next_id; at most peak_live blocks were live. */
      uint64_t final[3] = { events, next_id, peak_live };
      unsigned char bytes[HST_FINAL_HEADER_BYTES];
      for (int f = 0; f < 3; f++)
        for (int i = 0; i < 8; i++)
          bytes[8 * f + i] = (unsigned char) (final[f] >> (8 * i));
      if (pwrite (out_fd, bytes, HST_FINAL_HEADER_BYTES, HST_EVENT_COUNT_OFFSET) != HST_FINAL_HEADER_BYTES)
        active = 0;
    }
  close (out_fd);
  out_fd = -1;
}

static void before_fork (void)
{
  in_recorder++;
  pthread_mutex_lock (&lock);
}

static void after_fork_parent (void)
{
  pthread_mutex_unlock (&lock);
  in_recorder--;
}

static size_t with_pid (char *dst, const char *file, uint64_t pid)
{
  size_t n = strlen (file);
  char tmp[24];
  int i = 0;
  if (n + 24 >= PATH_BYTES)
    return 0;
  memcpy (dst, file, n);
  do
    tmp[i++] = (char) ('0' + pid % 10);
  while ((pid /= 10) != 0);
  dst[n++] = '.';
  while (i)
    dst[n++] = tmp[--i];
  dst[n] = 0;
  return n;
}

/* The child writes FILE.<pid>, starting empty (the parent writes what was recorded before). */
static void after_fork_child (void)
{
  if (active)
    {
      out_fd = -1; /* the parent's: not ours to write or close */
      const char *file = getenv ("HEAPSIM_RECORD_FILE");
      pending_count = 0;
      generation++;
      if (!file || !with_pid (path, file, (uint64_t) getpid ()) || open_output (path) != 0)
        active = 0;
    }
  pthread_mutex_unlock (&lock);
  in_recorder--;
}

__attribute__ ((constructor)) static void recorder_start (void)
{
  in_recorder = 1;
  const char *file = getenv ("HEAPSIM_RECORD_FILE");
  const char *format = getenv ("HEAPSIM_RECORD_FORMAT");
  const char *parent = getenv ("HEAPSIM_RECORD_PARENT");
  if (!file || !file[0])
    {
      in_recorder = 0;
      return;
    }
  text_format = format && strcmp (format, "text") == 0;
  /* The process the recorder started (its parent is the recorder) writes FILE; any other FILE.<pid>. */
  char ppid_text[24];
  char tmp[24];
  int i = 0, n = 0;
  long v = (long) getppid ();
  do
    tmp[i++] = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  while (i)
    ppid_text[n++] = tmp[--i];
  ppid_text[n] = 0;
  if (parent && strcmp (parent, ppid_text) == 0)
    {
      if (strlen (file) + 1 > PATH_BYTES)
        {
          in_recorder = 0;
          return;
        }
      strcpy (path, file);
    }
  else if (!with_pid (path, file, (uint64_t) getpid ()))
    {
      in_recorder = 0;
      return;
    }
  crc_init ();
  out = map_zeroed (OUT_BYTES);
  if (!out || grow_table () || pthread_key_create (&exit_key, thread_exiting) != 0 || open_output (path) != 0)
    {
      in_recorder = 0;
      return;
    }
  pthread_atfork (before_fork, after_fork_parent, after_fork_child);
  active = 1;
  in_recorder = 0;
}

__attribute__ ((destructor)) static void recorder_stop (void)
{
  in_recorder = 1;
  pthread_mutex_lock (&lock);
  if (active)
    {
      finish_output ();
      active = 0;
    }
  pthread_mutex_unlock (&lock);
}

/* A program that leaves with _exit skips destructors: finish the file first. */
void _exit (int status)
{
  recorder_stop ();
  syscall (SYS_exit_group, status);
  for (;;)
    ;
}
`;

/** Environment the recorder reads: the output file, the format, and the recorder's own pid. */
export const RECORDER_FILE_VARIABLE = 'HEAPSIM_RECORD_FILE';
export const RECORDER_FORMAT_VARIABLE = 'HEAPSIM_RECORD_FORMAT';
export const RECORDER_PARENT_VARIABLE = 'HEAPSIM_RECORD_PARENT';

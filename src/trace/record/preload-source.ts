// C source of the tiny preload library `heapsim record` compiles at run time. glibc (2.34 and
// later) keeps mtrace() in libc_malloc_debug.so, and tracing starts only when the program calls
// mtrace(): preloading the library with MALLOC_TRACE set records nothing by itself. This
// library's constructor makes that call, before the program's main(), after choosing the file:
//
//   - the first traced process writes the file named by HEAPSIM_RECORD_FILE (the -o file) and
//     records its pid in HEAPSIM_RECORD_OWNER, which its children inherit;
//   - any other process (a child) writes FILE.<pid>, so children never overwrite each other;
//   - the first process after an exec (same pid as the owner) writes FILE again: glibc does not
//     flush the trace buffer across exec, so the image that runs last is the one worth keeping.
//
// glibc's mtrace() opens MALLOC_TRACE as given (no %p-style expansion), hence the setenv.
export const PRELOAD_SOURCE = String.raw`
#include <mcheck.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAPSIM_FILE_VARIABLE "HEAPSIM_RECORD_FILE"
#define HEAPSIM_OWNER_VARIABLE "HEAPSIM_RECORD_OWNER"
#define HEAPSIM_PATH_BYTES 4096
#define HEAPSIM_PID_BYTES 32

__attribute__((constructor)) static void heapsim_start_mtrace(void) {
  const char *base = getenv(HEAPSIM_FILE_VARIABLE);
  if (base == NULL || base[0] == '\0') return;
  char pid_text[HEAPSIM_PID_BYTES];
  snprintf(pid_text, sizeof pid_text, "%ld", (long) getpid());
  const char *owner = getenv(HEAPSIM_OWNER_VARIABLE);
  char path[HEAPSIM_PATH_BYTES];
  int written;
  if (owner == NULL || strcmp(owner, pid_text) == 0) {
    written = snprintf(path, sizeof path, "%s", base);
    if (owner == NULL) setenv(HEAPSIM_OWNER_VARIABLE, pid_text, 1);
  } else {
    written = snprintf(path, sizeof path, "%s.%s", base, pid_text);
  }
  if (written < 0 || written >= (int) sizeof path) return;
  setenv("MALLOC_TRACE", path, 1);
  mtrace();
}
`;

export const RECORD_FILE_VARIABLE = 'HEAPSIM_RECORD_FILE';
export const RECORD_OWNER_VARIABLE = 'HEAPSIM_RECORD_OWNER';

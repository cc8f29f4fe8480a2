/*
 * Line I/O helpers shared by echo_server.c and echo_client.c: sending a whole
 * buffer, reading '\n'-terminated lines and dying with an errno message, all
 * over shunt sockets.
 *
 * The including program defines _GNU_SOURCE before its first #include (see
 * the examples) and LINE_IO_NAME, the prefix of its messages ("client",
 * "server"), before including this header.
 */
#ifndef SHUNT_EXAMPLES_LINE_IO_H
#define SHUNT_EXAMPLES_LINE_IO_H

#include <errno.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#ifndef LINE_IO_NAME
#error "define LINE_IO_NAME before including line_io.h"
#endif

/* The longest line either side handles, newline included. */
#define LINE_MAX_BYTES 4096

/* Prints "NAME: what: strerror(errno)" to stderr and exits 1. */
static inline void die(const char *what) {
  fprintf(stderr, LINE_IO_NAME ": %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Writes all of buf, retrying short writes and EINTR. Returns 0, or -1 with
 * errno set. */
static inline int send_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = shunt_send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads one '\n'-terminated line into line (without the '\n'); buf holds
 * LINE_MAX_BYTES and line one more. Bytes past the newline stay in buf/used
 * for the next call. Returns the length, or -1 on error or end of stream. */
static inline ssize_t read_line(int fd, char *buf, size_t *used, char *line) {
  for (;;) {
    char *nl = memchr(buf, '\n', *used);
    if (nl != NULL) {
      size_t len = (size_t)(nl - buf);
      memcpy(line, buf, len);
      line[len] = '\0';
      memmove(buf, nl + 1, *used - len - 1);
      *used -= len + 1;
      return (ssize_t)len;
    }
    if (*used == LINE_MAX_BYTES) {
      errno = EMSGSIZE;
      return -1;
    }
    ssize_t n = shunt_recv(fd, buf + *used, LINE_MAX_BYTES - *used, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ECONNRESET;
      return -1;
    }
    *used += (size_t)n;
  }
}

#endif /* SHUNT_EXAMPLES_LINE_IO_H */

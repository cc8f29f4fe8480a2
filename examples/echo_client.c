/*
 * Client for echo_server.
 *
 *   echo_client PATH [LINE...]
 *
 * Connects to PATH (retrying briefly while the server is starting), sends
 * each LINE (or a few built-in ones), prints every reply, then sends "quit"
 * and waits for "BYE". A LINE "quit" or "shutdown" ends the session early.
 * Exits non-zero if a reply is not the upper-cased line.
 */
/* Linux program: struct mmsghdr (named in shunt.h) and nanosleep. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#define LINE_IO_NAME "client"
#include "line_io.h"

/* Connects, retrying for up to ~5 s while the server is not listening yet
 * (the name exists between bind and listen: ECONNREFUSED). */
static int connect_with_retry(const char *path) {
  struct sockaddr_un addr;
  int attempt;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  for (attempt = 0;; ++attempt) {
    struct timespec pause = {0, 50 * 1000 * 1000};
    int fd = shunt_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (shunt_connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
      return fd;
    int err = errno;
    shunt_close(fd);
    errno = err;
    if ((err != ECONNREFUSED && err != ENOENT) || attempt == 100)
      die("connect");
    nanosleep(&pause, NULL);
  }
}

int main(int argc, char **argv) {
  static const char *default_lines[] = {"hello", "shunt sockets", "line 3"};
  const char **lines;
  int nlines;
  char buf[LINE_MAX_BYTES];
  char reply[LINE_MAX_BYTES + 1];
  size_t used = 0;
  int fd, i, status = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH [LINE...]\n", argv[0]);
    return 2;
  }
  if (strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    fprintf(stderr, "client: path too long: %s\n", argv[1]);
    return 2;
  }
  if (argc > 2) {
    lines = (const char **)(argv + 2);
    nlines = argc - 2;
  } else {
    lines = default_lines;
    nlines = (int)(sizeof(default_lines) / sizeof(default_lines[0]));
  }

  fd = connect_with_retry(argv[1]);
  printf("client: connected to %s\n", argv[1]);
  for (i = 0; i <= nlines; ++i) {
    const char *line = i < nlines ? lines[i] : "quit";
    /* The server answers its control words with BYE and ends the session. */
    int last = strcmp(line, "quit") == 0 || strcmp(line, "shutdown") == 0;
    size_t len = strlen(line);
    size_t k;
    char msg[LINE_MAX_BYTES + 1];
    if (len >= LINE_MAX_BYTES || memchr(line, '\n', len) != NULL) {
      fprintf(stderr, "client: skipping unsendable line\n");
      continue;
    }
    memcpy(msg, line, len);
    msg[len] = '\n';
    printf("client: sending \"%s\"\n", line);
    if (send_all(fd, msg, len + 1) < 0) die("send");
    if (read_line(fd, buf, &used, reply) < 0) die("recv");
    printf("client: got \"%s\"\n", reply);
    if (last) {
      if (strcmp(reply, "BYE") != 0) status = 1;
      break;
    }
    for (k = 0; k < len; ++k) msg[k] = (char)toupper((unsigned char)line[k]);
    msg[len] = '\0';
    if (strcmp(reply, msg) != 0) {
      fprintf(stderr, "client: expected \"%s\"\n", msg);
      status = 1;
    }
  }
  shunt_close(fd);
  printf("client: done (%s)\n",
         status == 0 ? "all replies correct" : "MISMATCH");
  return status;
}

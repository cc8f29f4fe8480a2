/*
 * Line-based echo server over a path-bound shunt SOCK_STREAM socket.
 *
 *   echo_server [--forever] PATH
 *
 * Binds PATH, then accepts clients one at a time. Every line a client sends
 * comes back upper-cased. A line "quit" ends that client's session (the
 * server answers "BYE"); a line "shutdown" also stops the server. Without
 * --forever the server exits after its first client. The client must use
 * the same shunt arena (SHUNT_ARENA) as the server.
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
#include <unistd.h>

#define LINE_IO_NAME "server"
#include "line_io.h"

enum session_end { END_EOF, END_QUIT, END_SHUTDOWN, END_ERROR };

/* Handles one line (without its '\n'). Returns END_EOF to keep going. */
static enum session_end handle_line(int fd, char *line, size_t len) {
  char reply[LINE_MAX_BYTES + 1];
  size_t i;
  if (len > 0 && line[len - 1] == '\r') --len; /* tolerate CRLF clients */
  printf("server: got \"%.*s\"\n", (int)len, line);
  if ((len == 4 && memcmp(line, "quit", 4) == 0) ||
      (len == 8 && memcmp(line, "shutdown", 8) == 0)) {
    int is_shutdown = len == 8;
    printf("server: client asked to %s\n", is_shutdown ? "shut down" : "quit");
    if (send_all(fd, "BYE\n", 4) < 0) return END_ERROR;
    return is_shutdown ? END_SHUTDOWN : END_QUIT;
  }
  for (i = 0; i < len; ++i) reply[i] = (char)toupper((unsigned char)line[i]);
  reply[len] = '\n';
  if (send_all(fd, reply, len + 1) < 0) return END_ERROR;
  printf("server: replied \"%.*s\"\n", (int)len, reply);
  return END_EOF;
}

/* Serves one client until it quits or disconnects. */
static enum session_end serve(int fd) {
  char buf[LINE_MAX_BYTES];
  size_t used = 0;
  for (;;) {
    ssize_t n = shunt_recv(fd, buf + used, sizeof(buf) - used, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "server: recv: %s\n", strerror(errno));
      return END_ERROR;
    }
    if (n == 0) {
      if (used > 0)
        printf("server: dropping %zu bytes without newline\n", used);
      printf("server: client closed the connection\n");
      return END_EOF;
    }
    used += (size_t)n;
    /* Hand over every complete line; keep the partial tail. */
    for (;;) {
      char *nl = memchr(buf, '\n', used);
      size_t len;
      enum session_end end;
      if (nl == NULL) {
        if (used < sizeof(buf)) break;
        nl = buf + used; /* over-long line: echo what we have */
      }
      len = (size_t)(nl - buf);
      end = handle_line(fd, buf, len);
      if (end != END_EOF) return end;
      if (len < used) ++len; /* skip the '\n' */
      memmove(buf, buf + len, used - len);
      used -= len;
    }
  }
}

int main(int argc, char **argv) {
  int forever = 0;
  const char *path;
  struct sockaddr_un addr;
  int listener;
  int stop = 0;
  int status = 0;

  setvbuf(stdout, NULL, _IOLBF, 0); /* interleave sanely with the client */
  if (argc == 3 && strcmp(argv[1], "--forever") == 0) {
    forever = 1;
    path = argv[2];
  } else if (argc == 2) {
    path = argv[1];
  } else {
    fprintf(stderr, "usage: %s [--forever] PATH\n", argv[0]);
    return 2;
  }
  if (strlen(path) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "server: path too long: %s\n", path);
    return 2;
  }

  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  listener = shunt_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  if (shunt_bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    die("bind");
  if (shunt_listen(listener, 8) < 0) die("listen");
  printf("server: listening on %s\n", path);

  while (!stop) {
    enum session_end end;
    int client = shunt_accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      die("accept");
    }
    printf("server: client connected\n");
    end = serve(client);
    shunt_close(client);
    printf("server: client session ended\n");
    if (end == END_ERROR) status = 1;
    if (end == END_SHUTDOWN || !forever) stop = 1;
  }

  shunt_close(listener);
  unlink(path); /* the name outlives the socket, as with kernel sockets */
  printf("server: exiting\n");
  return status;
}

/* Smallest useful shunt program: one stream socketpair, one round trip. */
#include <shunt/shunt.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  int sv[2];
  char buf[16];
  ssize_t n;
  if (shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    perror("consumer: shunt_socketpair");
    return 1;
  }
  /* Proves the descriptors come from shunt, not the kernel. */
  if (!shunt_is_socket(sv[0]) || !shunt_is_socket(sv[1])) {
    fprintf(stderr, "consumer: not shunt sockets\n");
    return 1;
  }
  if (shunt_send(sv[0], "ping", 4, 0) != 4) {
    perror("consumer: shunt_send");
    return 1;
  }
  n = shunt_recv(sv[1], buf, sizeof(buf), 0);
  if (n != 4 || memcmp(buf, "ping", 4) != 0) {
    perror("consumer: shunt_recv");
    return 1;
  }
  if (shunt_close(sv[0]) != 0 || shunt_close(sv[1]) != 0) {
    perror("consumer: shunt_close");
    return 1;
  }
  printf("consumer: ok\n");
  return 0;
}

// The two backends a benchmark row runs on. Rows are templates over Api so
// that both sides execute the same loop, call for call: KernelApi goes to
// libc (kernel AF_UNIX sockets), ShuntApi to the shunt_* calls.

#ifndef SHUNT_TOOLS_BENCH_API_H_
#define SHUNT_TOOLS_BENCH_API_H_

#include <shunt/shunt.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shunt_tool {

struct KernelApi {
  static constexpr bool kIsShunt = false;
  static constexpr const char* kName = "kernel";
  static int socket(int d, int t, int p) { return ::socket(d, t, p); }
  static int socketpair(int d, int t, int p, int sv[2]) {
    return ::socketpair(d, t, p, sv);
  }
  static int bind(int fd, const sockaddr* a, socklen_t n) {
    return ::bind(fd, a, n);
  }
  static int listen(int fd, int backlog) { return ::listen(fd, backlog); }
  static int connect(int fd, const sockaddr* a, socklen_t n) {
    return ::connect(fd, a, n);
  }
  static int accept4(int fd, sockaddr* a, socklen_t* n, int flags) {
    return ::accept4(fd, a, n, flags);
  }
  static ssize_t send(int fd, const void* b, size_t n, int f) {
    return ::send(fd, b, n, f);
  }
  static ssize_t recv(int fd, void* b, size_t n, int f) {
    return ::recv(fd, b, n, f);
  }
  static ssize_t sendmsg(int fd, const msghdr* m, int f) {
    return ::sendmsg(fd, m, f);
  }
  static ssize_t recvmsg(int fd, msghdr* m, int f) {
    return ::recvmsg(fd, m, f);
  }
  static int setsockopt(int fd, int l, int n, const void* v, socklen_t len) {
    return ::setsockopt(fd, l, n, v, len);
  }
  static int close(int fd) { return ::close(fd); }
};

struct ShuntApi {
  static constexpr bool kIsShunt = true;
  static constexpr const char* kName = "shunt";
  static int socket(int d, int t, int p) { return shunt_socket(d, t, p); }
  static int socketpair(int d, int t, int p, int sv[2]) {
    return shunt_socketpair(d, t, p, sv);
  }
  static int bind(int fd, const sockaddr* a, socklen_t n) {
    return shunt_bind(fd, a, n);
  }
  static int listen(int fd, int backlog) { return shunt_listen(fd, backlog); }
  static int connect(int fd, const sockaddr* a, socklen_t n) {
    return shunt_connect(fd, a, n);
  }
  static int accept4(int fd, sockaddr* a, socklen_t* n, int flags) {
    return shunt_accept4(fd, a, n, flags);
  }
  static ssize_t send(int fd, const void* b, size_t n, int f) {
    return shunt_send(fd, b, n, f);
  }
  static ssize_t recv(int fd, void* b, size_t n, int f) {
    return shunt_recv(fd, b, n, f);
  }
  static ssize_t sendmsg(int fd, const msghdr* m, int f) {
    return shunt_sendmsg(fd, m, f);
  }
  static ssize_t recvmsg(int fd, msghdr* m, int f) {
    return shunt_recvmsg(fd, m, f);
  }
  static int setsockopt(int fd, int l, int n, const void* v, socklen_t len) {
    return shunt_setsockopt(fd, l, n, v, len);
  }
  static int close(int fd) { return shunt_close(fd); }
};

}  // namespace shunt_tool

#endif  // SHUNT_TOOLS_BENCH_API_H_

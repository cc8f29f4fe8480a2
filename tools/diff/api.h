// Api: the socket calls one world is run with, as a table of functions with
// the POSIX signatures (the variadic fcntl and ioctl take one argument).
// KernelApi() is plain libc, ShuntApi() the shunt_* calls; a test can build
// its own table (e.g. a deliberately faulty one) to check the oracle.
#ifndef SHUNT_TOOLS_DIFF_API_H_
#define SHUNT_TOOLS_DIFF_API_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

namespace shunt_diff {

struct Api {
  const char* name;
  int (*socket)(int, int, int);
  int (*socketpair)(int, int, int, int[2]);
  int (*bind)(int, const sockaddr*, socklen_t);
  int (*listen)(int, int);
  int (*accept4)(int, sockaddr*, socklen_t*, int);
  int (*connect)(int, const sockaddr*, socklen_t);
  ssize_t (*send)(int, const void*, size_t, int);
  ssize_t (*sendto)(int, const void*, size_t, int, const sockaddr*, socklen_t);
  ssize_t (*sendmsg)(int, const msghdr*, int);
  int (*sendmmsg)(int, mmsghdr*, unsigned, int);
  ssize_t (*recv)(int, void*, size_t, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, sockaddr*, socklen_t*);
  ssize_t (*recvmsg)(int, msghdr*, int);
  int (*recvmmsg)(int, mmsghdr*, unsigned, int, timespec*);
  ssize_t (*read)(int, void*, size_t);
  ssize_t (*readv)(int, const iovec*, int);
  ssize_t (*write)(int, const void*, size_t);
  ssize_t (*writev)(int, const iovec*, int);
  int (*shutdown)(int, int);
  int (*close)(int);
  int (*getsockopt)(int, int, int, void*, socklen_t*);
  int (*setsockopt)(int, int, int, const void*, socklen_t);
  int (*getsockname)(int, sockaddr*, socklen_t*);
  int (*getpeername)(int, sockaddr*, socklen_t*);
  int (*fcntl)(int, int, long);
  int (*ioctl)(int, unsigned long, void*);
  int (*dup)(int);
  int (*poll)(pollfd*, nfds_t, int);
};

const Api& KernelApi();
const Api& ShuntApi();

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_API_H_

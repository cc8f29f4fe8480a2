#include "api.h"

#include <fcntl.h>
#include <shunt/shunt.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace shunt_diff {
namespace {

int KernelFcntl(int fd, int cmd, long arg) { return ::fcntl(fd, cmd, arg); }
int KernelIoctl(int fd, unsigned long req, void* arg) {
  return ::ioctl(fd, req, arg);
}
int KernelSendmmsg(int fd, mmsghdr* v, unsigned n, int f) {
  return ::sendmmsg(fd, v, n, f);
}
int KernelRecvmmsg(int fd, mmsghdr* v, unsigned n, int f, timespec* t) {
  return ::recvmmsg(fd, v, n, f, t);
}
int ShuntFcntl(int fd, int cmd, long arg) { return shunt_fcntl(fd, cmd, arg); }
int ShuntIoctl(int fd, unsigned long req, void* arg) {
  return shunt_ioctl(fd, req, arg);
}

}  // namespace

const Api& KernelApi() {
  // clang-format off
  static const Api api = {
      "Kernel",      false,         ::socket,      ::socketpair,
      ::bind,        ::listen,      ::accept,      ::accept4,
      ::connect,     ::send,        ::sendto,      ::sendmsg,
      KernelSendmmsg, ::recv,       ::recvfrom,    ::recvmsg,
      KernelRecvmmsg, ::read,       ::readv,       ::write,
      ::writev,      ::shutdown,    ::close,       ::getsockopt,
      ::setsockopt,  ::getsockname, ::getpeername, KernelFcntl,
      KernelIoctl,   ::dup,         ::dup2,        ::dup3,
      ::poll,        ::ppoll,       ::select,      ::pselect,
  };
  // clang-format on
  return api;
}

const Api& ShuntApi() {
  // clang-format off
  static const Api api = {
      "Shunt",           true,              shunt_socket,
      shunt_socketpair,  shunt_bind,        shunt_listen,
      shunt_accept,      shunt_accept4,     shunt_connect,
      shunt_send,        shunt_sendto,      shunt_sendmsg,
      shunt_sendmmsg,    shunt_recv,        shunt_recvfrom,
      shunt_recvmsg,     shunt_recvmmsg,    shunt_read,
      shunt_readv,       shunt_write,       shunt_writev,
      shunt_shutdown,    shunt_close,       shunt_getsockopt,
      shunt_setsockopt,  shunt_getsockname, shunt_getpeername,
      ShuntFcntl,        ShuntIoctl,        shunt_dup,
      shunt_dup2,        shunt_dup3,        shunt_poll,
      shunt_ppoll,       shunt_select,      shunt_pselect,
  };
  // clang-format on
  return api;
}

}  // namespace shunt_diff

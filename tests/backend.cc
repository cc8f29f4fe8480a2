#include "backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <shunt/shunt.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>

namespace shunt_test {
namespace {

int KernelFcntl(int fd, int cmd, long arg) { return ::fcntl(fd, cmd, arg); }
int KernelIoctl(int fd, unsigned long req, void* arg) {
  return ::ioctl(fd, req, arg);
}
int ShuntFcntl(int fd, int cmd, long arg) { return shunt_fcntl(fd, cmd, arg); }
int ShuntIoctl(int fd, unsigned long req, void* arg) {
  return shunt_ioctl(fd, req, arg);
}
int KernelRecvmmsg(int fd, mmsghdr* v, unsigned n, int f, timespec* t) {
  return ::recvmmsg(fd, v, n, f, t);
}

}  // namespace

const SocketApi& KernelApi() {
  static const SocketApi api = {
      "Kernel",      false,         ::socket,      ::socketpair,
      ::bind,        ::listen,      ::accept,      ::accept4,
      ::connect,     ::send,        ::sendto,      ::sendmsg,
      ::sendmmsg,    ::recv,        ::recvfrom,    ::recvmsg,
      KernelRecvmmsg, ::read,       ::readv,       ::write,
      ::writev,      ::shutdown,    ::close,       ::getsockopt,
      ::setsockopt,  ::getsockname, ::getpeername, KernelFcntl,
      KernelIoctl,   ::dup,         ::dup2,        ::dup3,
      ::poll,        ::ppoll,       ::select,      ::pselect,
  };
  return api;
}

const SocketApi& ShuntApi() {
  static const SocketApi api = {
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
  return api;
}

int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the DIR's own descriptor
}

void BothBackends::SetUp() { fds_at_start_ = CountOpenFds(); }

void BothBackends::TearDown() {
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
  EXPECT_EQ(CountOpenFds(), fds_at_start_) << "descriptor leak";
}

const std::string& BothBackends::TempDir() {
  if (temp_dir_.empty()) {
    char tmpl[] = "/tmp/shunt-test-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) abort();
    temp_dir_ = d;
  }
  return temp_dir_;
}

std::string BackendName(const ::testing::TestParamInfo<const SocketApi*>& i) {
  return i.param->name;
}

}  // namespace shunt_test

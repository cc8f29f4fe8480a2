// Runs one test body against two implementations of the socket calls: the
// kernel's (plain libc) and shunt's (shunt_* from <shunt/shunt.h>). A test
// written with TEST_P(..., ...) over BothBackends must pass on both; that is
// how the suites prove an expectation is Linux's and not ours.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <string>

namespace shunt_test {

// Every socket call with its POSIX signature, except the variadic ones
// (fcntl, ioctl), which take one explicit argument.
struct SocketApi {
  const char* name;
  bool is_shunt;
  int (*socket)(int, int, int);
  int (*socketpair)(int, int, int, int[2]);
  int (*bind)(int, const sockaddr*, socklen_t);
  int (*listen)(int, int);
  int (*accept)(int, sockaddr*, socklen_t*);
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
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*poll)(pollfd*, nfds_t, int);
  int (*ppoll)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  int (*select)(int, fd_set*, fd_set*, fd_set*, timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const timespec*,
                 const sigset_t*);
};

const SocketApi& KernelApi();
const SocketApi& ShuntApi();

// Fixture for tests that run on both backends. `api()` is the backend under
// test. The fixture fails the test if the process's descriptor count changed
// between SetUp and TearDown (a leaked or over-closed descriptor).
class BothBackends : public ::testing::TestWithParam<const SocketApi*> {
 protected:
  const SocketApi& api() const { return *GetParam(); }
  void SetUp() override;
  void TearDown() override;

  // A fresh directory for filesystem socket names, removed in TearDown.
  const std::string& TempDir();

 private:
  int fds_at_start_ = 0;
  std::string temp_dir_;
};

// Number of entries in /proc/self/fd.
int CountOpenFds();

std::string BackendName(const ::testing::TestParamInfo<const SocketApi*>& i);

}  // namespace shunt_test

// Instantiates a BothBackends-derived suite on the kernel and on shunt.
#define SHUNT_BOTH_BACKENDS(Suite)                                     \
  INSTANTIATE_TEST_SUITE_P(                                            \
      , Suite,                                                         \
      ::testing::Values(&::shunt_test::KernelApi(),                    \
                        &::shunt_test::ShuntApi()),                    \
      ::shunt_test::BackendName)

// Runs one test body against two implementations of the socket calls: the
// kernel's (plain libc) and shunt's (shunt_* from <shunt/shunt.h>). A test
// written with TEST_P(..., ...) over BothBackends must pass on both; that is
// how the suites prove an expectation is Linux's and not ours.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "api.h"

namespace shunt_test {

// Every socket call with its POSIX signature, except the variadic ones
// (fcntl, ioctl), which take one explicit argument: the table the
// differential oracle runs its worlds with (tools/diff/api.h).
using SocketApi = shunt_diff::Api;

const SocketApi& KernelApi();
const SocketApi& ShuntApi();

// CLOCK_MONOTONIC in milliseconds and in seconds.
long NowMs();
double NowSeconds();
// Sleeps ms milliseconds, resuming after signals.
void SleepMs(long ms);

// The number in a /proc/sys file, or -1.
long ReadSysctl(const char* path);

// Forks a child that drops to uid/gid 65534 (no supplementary groups), runs
// fn and exits with its return value. Returns the exit status, or -1 if the
// child did not exit normally.
int RunAsNobody(const std::function<int()>& fn);

// sendmsg (through `send_fn`: ::sendmsg or shunt_sendmsg) of the byte
// `byte` with one SCM_RIGHTS message holding fds; returns its result.
ssize_t SendRights(ssize_t (*send_fn)(int, const msghdr*, int), int fd,
                   const std::vector<int>& fds, int flags = 0, char byte = 'f');
// recvmsg (through `recv_fn`) of one byte with room for `room` descriptors.
// Returns the descriptors of the SCM_RIGHTS messages received; *rc (if
// given) gets recvmsg's result, and *cmsg_len the first message's length.
std::vector<int> RecvRights(ssize_t (*recv_fn)(int, msghdr*, int), int fd,
                            size_t room, int flags = 0, ssize_t* rc = nullptr,
                            size_t* cmsg_len = nullptr);
// True if pipe read end rd is at end-of-file now: empty, no writer left.
bool PipeAtEof(int rd);
// A listening shunt stream socket bound to `path`, or -1.
int ShuntListenerAt(const std::string& path);
// Forks and execs this test binary with the environment variable `name`
// set to `value` (a child mode of main.cc), and SHUNT_TEST_KERNEL set if
// `kernel`. Returns the child's pid.
pid_t ExecSelf(const char* name, const std::string& value, bool kernel);

// Runs fn on a helper thread after delay_ms; joins on destruction so the
// helper never outlives the test body.
class Later {
 public:
  Later(long delay_ms, std::function<void()> fn)
      : thread_([delay_ms, fn = std::move(fn)] {
          SleepMs(delay_ms);
          fn();
        }) {}
  ~Later() { Join(); }
  Later(const Later&) = delete;
  Later& operator=(const Later&) = delete;
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// Installs a SIGUSR1 handler with the given sa_flags that counts deliveries,
// for the lifetime of the object (the count starts at zero).
class ScopedUsr1Counter {
 public:
  explicit ScopedUsr1Counter(int sa_flags);
  ~ScopedUsr1Counter();
  ScopedUsr1Counter(const ScopedUsr1Counter&) = delete;
  ScopedUsr1Counter& operator=(const ScopedUsr1Counter&) = delete;
  int count() const;

 private:
  struct sigaction old_ {};
};

// Leaves the process no free descriptor number for the lifetime of the
// object: lowers RLIMIT_NOFILE close above the highest open descriptor and
// fills what is left with duplicates; the destructor closes them and
// restores the limit.
class ScopedNoFreeNumbers {
 public:
  ScopedNoFreeNumbers();
  ~ScopedNoFreeNumbers();
  ScopedNoFreeNumbers(const ScopedNoFreeNumbers&) = delete;
  ScopedNoFreeNumbers& operator=(const ScopedNoFreeNumbers&) = delete;

 private:
  rlimit old_{};
  std::vector<int> fill_;
};

constexpr socklen_t kPathOffset = offsetof(sockaddr_un, sun_path);  // 2

// A sockaddr_un and the length passed with it.
struct UnixName {
  sockaddr_un sun;
  socklen_t len;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&sun); }
};

// A filesystem name; len counts the terminating NUL, as most programs do. A
// path of sizeof(sun_path) bytes or more fills sun_path without a NUL.
UnixName PathName(const std::string& path);
// An abstract name: a leading NUL followed by exactly the bytes of `name`.
UnixName AbstractName(const std::string& name);

// The first len bytes at p; the len bytes of a name.
std::string Bytes(const void* p, socklen_t len);
std::string Bytes(const UnixName& n);

// Fixture for tests that run on both backends. `api()` is the backend under
// test. The fixture fails the test if the process's descriptor count changed
// between SetUp and TearDown (a leaked or over-closed descriptor).
//
// Sockets made through Socket() and Pair() (or handed to Track()) and pipes
// made through Pipe() are closed in TearDown before that check, so a failed
// ASSERT reports only itself.
class BothBackends : public ::testing::TestWithParam<const SocketApi*> {
 protected:
  const SocketApi& api() const { return *GetParam(); }
  void SetUp() override;
  void TearDown() override;

  // A fresh directory for filesystem socket names, removed in TearDown.
  const std::string& TempDir();
  // TempDir() + "/" + leaf.
  std::string TempPath(const std::string& leaf);
  // A sockaddr_un holding TempPath(leaf) (NUL-terminated; truncated to fit).
  sockaddr_un TempAddr(const std::string& leaf);

  // Closes fd in TearDown unless it is negative; returns fd.
  int Track(int fd);
  // Stops tracking fd: the test closes it itself (e.g. from another thread).
  void Untrack(int fd);
  // Untracks and closes fd now; returns close()'s result.
  int Close(int fd);
  // Untracks and closes fd now, EXPECTing close() to succeed.
  void ExpectClose(int fd);

  // A tracked AF_UNIX socket of `type` (EXPECTs success).
  int Socket(int type);
  // A tracked AF_UNIX socketpair of `type` (ASSERTs success).
  void Pair(int type, int sv[2]);
  // A pipe(2), closed with close(2) in TearDown (ASSERTs success).
  void Pipe(int p[2]);
  // Closes both ends of an untracked pair now, EXPECTing success.
  void ClosePair(const int sv[2]);

  // bind/connect to a whole sockaddr_un (length sizeof(sockaddr_un)).
  int Bind(int fd, const sockaddr_un& a);
  int Connect(int fd, const sockaddr_un& a);
  // bind/connect to a name with its own length.
  int Bind(int fd, const UnixName& n);
  int Connect(int fd, const UnixName& n);

  // Sets SO_RCVTIMEO or SO_SNDTIMEO (`opt`) to `ms`; returns setsockopt's
  // result.
  int SetTimeoutMs(int fd, int opt, long ms);
  // getsockopt of an int option, EXPECTing success and an int-sized result.
  int GetIntOption(int fd, int level, int name);
  // setsockopt of an int option; returns setsockopt's result.
  int SetIntOption(int fd, int level, int name, int v);

  // send() of all of s with MSG_NOSIGNAL added to flags (ASSERTs that all of
  // it was taken).
  void SendAll(int fd, const std::string& s, int flags = 0);
  // recv(fd, len, flags), EXPECTed to succeed; returns the bytes received.
  std::string RecvString(int fd, size_t len, int flags = 0);

 private:
  int fds_at_start_ = 0;
  std::string temp_dir_;
  std::vector<int> tracked_;
  std::vector<int> pipes_;
};

// Number of entries in /proc/self/fd.
int CountOpenFds();

std::string BackendName(const ::testing::TestParamInfo<const SocketApi*>& i);

}  // namespace shunt_test

// Instantiates a BothBackends-derived suite on the kernel and on shunt.
#define SHUNT_BOTH_BACKENDS(Suite)                                       \
  INSTANTIATE_TEST_SUITE_P(, Suite,                                      \
                           ::testing::Values(&::shunt_test::KernelApi(), \
                                             &::shunt_test::ShuntApi()), \
                           ::shunt_test::BackendName)

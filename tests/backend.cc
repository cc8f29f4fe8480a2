#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

namespace shunt_test {
namespace {

std::atomic<int> g_usr1_count{0};
void CountUsr1(int) { g_usr1_count.fetch_add(1); }

}  // namespace

const SocketApi& KernelApi() { return shunt_diff::KernelApi(); }
const SocketApi& ShuntApi() { return shunt_diff::ShuntApi(); }

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

long NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double NowSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void SleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

long ReadSysctl(const char* path) {
  FILE* f = fopen(path, "r");
  if (f == nullptr) return -1;
  long v = -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}

int RunAsNobody(const std::function<int()>& fn) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);  // never outlive a stuck test
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 ||
        setuid(65534) != 0) {
      _exit(200);
    }
    _exit(fn());
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ssize_t SendRights(ssize_t (*send_fn)(int, const msghdr*, int), int fd,
                   const std::vector<int>& fds, int flags, char byte) {
  std::vector<cmsghdr> control(
      CMSG_SPACE(fds.size() * sizeof(int)) / sizeof(cmsghdr) + 1);
  iovec iov{&byte, 1};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.data();
  mh.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  return send_fn(fd, &mh, flags);
}

std::vector<int> RecvRights(ssize_t (*recv_fn)(int, msghdr*, int), int fd,
                            size_t room, int flags, ssize_t* rc,
                            size_t* cmsg_len) {
  std::vector<cmsghdr> control(
      CMSG_SPACE(room * sizeof(int)) / sizeof(cmsghdr) + 1);
  char byte = 0;
  iovec iov{&byte, 1};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.data();
  mh.msg_controllen = CMSG_SPACE(room * sizeof(int));
  const ssize_t r = recv_fn(fd, &mh, flags);
  if (rc != nullptr) *rc = r;
  std::vector<int> fds;
  if (r < 0) return fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_len < CMSG_LEN(0)) break;
    if (cmsg_len != nullptr && fds.empty()) *cmsg_len = c->cmsg_len;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
      int v;
      memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof v);
      fds.push_back(v);
    }
  }
  return fds;
}

bool PipeAtEof(int rd) {
  const int fl = fcntl(rd, F_GETFL);
  fcntl(rd, F_SETFL, fl | O_NONBLOCK);
  char c;
  const ssize_t r = read(rd, &c, 1);
  fcntl(rd, F_SETFL, fl);
  return r == 0;
}

int ShuntListenerAt(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  const int l = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0) return -1;
  if (shunt_bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      shunt_listen(l, 1) != 0) {
    shunt_close(l);
    return -1;
  }
  return l;
}

pid_t ExecSelf(const char* name, const std::string& value, bool kernel) {
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setenv(name, value.c_str(), 1);
    if (kernel) setenv("SHUNT_TEST_KERNEL", "1", 1);
    execl("/proc/self/exe", "shunt_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

ScopedUsr1Counter::ScopedUsr1Counter(int sa_flags) {
  g_usr1_count = 0;
  struct sigaction sa {};
  sa.sa_handler = CountUsr1;
  sa.sa_flags = sa_flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &old_);
}

ScopedUsr1Counter::~ScopedUsr1Counter() { sigaction(SIGUSR1, &old_, nullptr); }

int ScopedUsr1Counter::count() const { return g_usr1_count.load(); }

ScopedNoFreeNumbers::ScopedNoFreeNumbers() {
  EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &old_), 0);
  int high = 0;
  for (int fd = 0; fd < 1024; ++fd)
    if (fcntl(fd, F_GETFD) >= 0) high = fd;
  rlimit low = old_;
  low.rlim_cur = static_cast<rlim_t>(high) + 8;
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd; (fd = dup(0)) >= 0;) fill_.push_back(fd);
}

ScopedNoFreeNumbers::~ScopedNoFreeNumbers() {
  for (int fd : fill_) close(fd);
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &old_), 0);
}

UnixName PathName(const std::string& path) {
  UnixName n;
  memset(&n, 0, sizeof(n));
  n.sun.sun_family = AF_UNIX;
  const size_t size = std::min(path.size(), sizeof(n.sun.sun_path));
  memcpy(n.sun.sun_path, path.data(), size);
  n.len = std::min<socklen_t>(kPathOffset + size + 1, sizeof(sockaddr_un));
  return n;
}

UnixName AbstractName(const std::string& name) {
  UnixName n;
  memset(&n, 0, sizeof(n));
  n.sun.sun_family = AF_UNIX;
  memcpy(n.sun.sun_path + 1, name.data(), name.size());
  n.len = kPathOffset + 1 + name.size();
  return n;
}

std::string Bytes(const void* p, socklen_t len) {
  return std::string(static_cast<const char*>(p), len);
}

std::string Bytes(const UnixName& n) { return Bytes(&n.sun, n.len); }

void BothBackends::SetUp() { fds_at_start_ = CountOpenFds(); }

void BothBackends::TearDown() {
  for (int fd : tracked_) api().close(fd);
  tracked_.clear();
  for (int fd : pipes_) ::close(fd);
  pipes_.clear();
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

std::string BothBackends::TempPath(const std::string& leaf) {
  return TempDir() + "/" + leaf;
}

sockaddr_un BothBackends::TempAddr(const std::string& leaf) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string p = TempPath(leaf);
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", p.c_str());
  return a;
}

int BothBackends::Track(int fd) {
  if (fd >= 0) tracked_.push_back(fd);
  return fd;
}

void BothBackends::Untrack(int fd) {
  tracked_.erase(std::remove(tracked_.begin(), tracked_.end(), fd),
                 tracked_.end());
}

int BothBackends::Close(int fd) {
  Untrack(fd);
  return api().close(fd);
}

void BothBackends::ExpectClose(int fd) {
  Untrack(fd);
  EXPECT_EQ(api().close(fd), 0);
}

int BothBackends::Socket(int type) {
  const int fd = api().socket(AF_UNIX, type, 0);
  EXPECT_GE(fd, 0) << strerror(errno);
  return Track(fd);
}

void BothBackends::Pair(int type, int sv[2]) {
  ASSERT_EQ(api().socketpair(AF_UNIX, type, 0, sv), 0) << strerror(errno);
  Track(sv[0]);
  Track(sv[1]);
}

void BothBackends::Pipe(int p[2]) {
  ASSERT_EQ(pipe(p), 0);
  pipes_.push_back(p[0]);
  pipes_.push_back(p[1]);
}

void BothBackends::ClosePair(const int sv[2]) {
  EXPECT_EQ(api().close(sv[0]), 0);
  EXPECT_EQ(api().close(sv[1]), 0);
}

int BothBackends::Bind(int fd, const sockaddr_un& a) {
  return api().bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
}

int BothBackends::Connect(int fd, const sockaddr_un& a) {
  return api().connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
}

int BothBackends::Bind(int fd, const UnixName& n) {
  return api().bind(fd, n.sa(), n.len);
}

int BothBackends::Connect(int fd, const UnixName& n) {
  return api().connect(fd, n.sa(), n.len);
}

int BothBackends::SetTimeoutMs(int fd, int opt, long ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  return api().setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

int BothBackends::GetIntOption(int fd, int level, int name) {
  int v = -12345;
  socklen_t len = sizeof(v);
  EXPECT_EQ(api().getsockopt(fd, level, name, &v, &len), 0) << strerror(errno);
  EXPECT_EQ(len, sizeof(int));
  return v;
}

int BothBackends::SetIntOption(int fd, int level, int name, int v) {
  return api().setsockopt(fd, level, name, &v, sizeof(v));
}

void BothBackends::SendAll(int fd, const std::string& s, int flags) {
  ASSERT_EQ(api().send(fd, s.data(), s.size(), flags | MSG_NOSIGNAL),
            static_cast<ssize_t>(s.size()))
      << strerror(errno);
}

std::string BothBackends::RecvString(int fd, size_t len, int flags) {
  std::string buf(len, '\0');
  const ssize_t n = api().recv(fd, buf.data(), len, flags);
  EXPECT_GE(n, 0) << strerror(errno);
  buf.resize(n < 0 ? 0 : n);
  return buf;
}

std::string BackendName(const ::testing::TestParamInfo<const SocketApi*>& i) {
  return i.param->name;
}

}  // namespace shunt_test

// SCM_RIGHTS on AF_UNIX sockets: descriptors of every kind in flight, the
// control-buffer rules of recvmsg (MSG_CTRUNC, msg_controllen,
// MSG_CMSG_CLOEXEC), how descriptors shape stream reads, their release when
// a message is discarded, and passing between processes.
#include <errno.h>
#include <fcntl.h>
#include <shunt/shunt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::PipeAtEof;

constexpr int kScmMaxFd = 253;

// What one recvmsg gave.
struct Got {
  ssize_t rc = -1;
  int err = 0;
  std::string data;
  int flags = 0;
  size_t controllen = 0;
  std::vector<int> fds;  // from every SCM_RIGHTS message, in order
  int cmsgs = 0;
  size_t first_cmsg_len = 0;
};

class DescriptorFixture : public shunt_test::BothBackends {
 protected:
  // sendmsg of `data` with one SCM_RIGHTS message per group of fds.
  ssize_t SendFds(int fd, const std::string& data,
                  const std::vector<std::vector<int>>& groups, int flags = 0) {
    std::vector<char> control;
    for (const auto& g : groups) {
      const size_t at = control.size();
      control.resize(at + CMSG_SPACE(sizeof(int) * g.size()));
      cmsghdr h{};
      h.cmsg_len = CMSG_LEN(sizeof(int) * g.size());
      h.cmsg_level = SOL_SOCKET;
      h.cmsg_type = SCM_RIGHTS;
      memcpy(control.data() + at, &h, sizeof h);
      if (!g.empty())
        memcpy(control.data() + at + CMSG_LEN(0), g.data(),
               sizeof(int) * g.size());
    }
    return SendControl(fd, data, control, flags);
  }
  ssize_t SendControl(int fd, const std::string& data,
                      std::vector<char> control, int flags = 0) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    // The buffer is copied into cmsghdr-aligned storage.
    std::vector<cmsghdr> aligned(control.size() / sizeof(cmsghdr) + 1);
    if (!control.empty()) {
      memcpy(aligned.data(), control.data(), control.size());
      mh.msg_control = aligned.data();
      mh.msg_controllen = control.size();
    }
    return api().sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
  }
  ssize_t SendFd(int fd, const std::string& data, int passed, int flags = 0) {
    return SendFds(fd, data, {{passed}}, flags);
  }

  // recvmsg with a buffer of len bytes and a control buffer of controllen
  // bytes (none if controllen is 0 and `no_control`).
  Got RecvFds(int fd, size_t len, size_t controllen, int flags = 0,
              bool no_control = false) {
    Got g;
    std::string buf(len, '\0');
    std::vector<cmsghdr> control(controllen / sizeof(cmsghdr) + 2);
    iovec iov{buf.data(), len};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (!no_control) {
      mh.msg_control = control.data();
      mh.msg_controllen = controllen;
    }
    g.rc = api().recvmsg(fd, &mh, flags);
    g.err = g.rc < 0 ? errno : 0;
    if (g.rc < 0) return g;
    g.data.assign(buf.data(), std::min<size_t>(g.rc, len));
    g.flags = mh.msg_flags;
    g.controllen = mh.msg_controllen;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr;
         c = CMSG_NXTHDR(&mh, c)) {
      if (g.cmsgs++ == 0) g.first_cmsg_len = c->cmsg_len;
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; ++i) {
        int v;
        memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof v);
        g.fds.push_back(v);
      }
    }
    return g;
  }

  // Closes received descriptors: sockets of this backend through it.
  void CloseAll(const std::vector<int>& fds) {
    for (int fd : fds) EXPECT_EQ(api().close(fd), 0) << fd;
  }

  // a and b are writers of the pipe whose read end is rd: each writes a
  // byte there, then both are closed.
  static void WriteBothAndClose(int rd, int a, int b) {
    EXPECT_EQ(write(a, "1", 1), 1);
    EXPECT_EQ(write(b, "2", 1), 1);
    char buf[2];
    EXPECT_EQ(read(rd, buf, 2), 2);
    close(a);
    close(b);
  }

  // The n lowest descriptor numbers not in use now.
  static std::vector<int> LowestFree(int n) {
    std::vector<int> v;
    for (int i = 0; i < n; ++i) v.push_back(dup(0));
    for (int fd : v) close(fd);
    return v;
  }
};

// ---------------------------------------------------------------------------
class DescriptorPassing : public DescriptorFixture {};

TEST_P(DescriptorPassing, PipeEndOverStreamOutlivesSendersCopy) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(sv[0], "x", p[1]), 1);
  close(p[1]);  // the message holds the only writer now
  const std::vector<int> expect = LowestFree(1);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.rc, 1);
  EXPECT_EQ(g.data, "x");
  EXPECT_EQ(g.flags, 0);
  EXPECT_EQ(g.controllen, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.cmsgs, 1);
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(g.fds, expect);  // a fresh number: the lowest free
  EXPECT_EQ(write(g.fds[0], "via", 3), 3);
  char buf[4];
  EXPECT_EQ(read(p[0], buf, sizeof buf), 3);
  close(g.fds[0]);
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(DescriptorPassing, SocketOverDatagramKeepsItsQueue) {
  int sv[2], other[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
  SendAll(other[1], "queued");
  ASSERT_EQ(SendFd(sv[0], "s", other[0]), 1);
  EXPECT_EQ(api().close(other[0]), 0);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.rc, 1);
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(RecvString(g.fds[0], 16), "queued");
  SendAll(g.fds[0], "back");
  EXPECT_EQ(RecvString(other[1], 16), "back");
  struct stat st {};
  ASSERT_EQ(fstat(g.fds[0], &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(api().close(g.fds[0]), 0);
  EXPECT_EQ(api().close(other[1]), 0);
}

TEST_P(DescriptorPassing, EventfdOverSeqpacket) {
  int sv[2];
  Pair(SOCK_SEQPACKET, sv);
  const int efd = eventfd(5, 0);
  ASSERT_GE(efd, 0);
  ASSERT_EQ(SendFd(sv[0], "e", efd), 1);
  close(efd);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  eventfd_t v = 0;
  EXPECT_EQ(eventfd_read(g.fds[0], &v), 0);
  EXPECT_EQ(v, 5u);
  close(g.fds[0]);
}

TEST_P(DescriptorPassing, SeveralControlMessagesArriveAsOne) {
  int sv[2], p[2], q[2];
  Pair(SOCK_DGRAM, sv);
  Pipe(p);
  Pipe(q);
  ASSERT_EQ(SendFds(sv[0], "m", {{p[0]}, {p[1], q[1]}}), 1);
  const std::vector<int> expect = LowestFree(3);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(3 * sizeof(int)));
  ASSERT_EQ(g.rc, 1);
  EXPECT_EQ(g.cmsgs, 1);
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(3 * sizeof(int)));
  EXPECT_EQ(g.fds, expect);
  EXPECT_EQ(g.controllen, CMSG_SPACE(3 * sizeof(int)));
  // In order: q's writer is the third.
  EXPECT_EQ(write(g.fds[2], "q", 1), 1);
  char c = 0;
  EXPECT_EQ(read(q[0], &c, 1), 1);
  EXPECT_EQ(c, 'q');
  for (int fd : g.fds) close(fd);
}

TEST_P(DescriptorPassing, MixedKindsAreNumberedInMessageOrder) {
  int sv[2], p[2], other[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  Pair(SOCK_DGRAM, other);
  ASSERT_EQ(SendFds(sv[0], "m", {{p[0], other[0], p[1], other[1]}}), 1);
  const std::vector<int> expect = LowestFree(4);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(4 * sizeof(int)));
  ASSERT_EQ(g.fds, expect);
  // The second and fourth are the pair; the third is the pipe's writer.
  EXPECT_EQ(api().send(g.fds[1], "d", 1, 0), 1);
  EXPECT_EQ(RecvString(g.fds[3], 4), "d");
  EXPECT_EQ(write(g.fds[2], "w", 1), 1);
  char c;
  EXPECT_EQ(read(g.fds[0], &c, 1), 1);
  close(g.fds[0]);
  close(g.fds[2]);
  EXPECT_EQ(api().close(g.fds[1]), 0);
  EXPECT_EQ(api().close(g.fds[3]), 0);
}

TEST_P(DescriptorPassing, MaxFdsPerMessage) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  Pipe(p);
  std::vector<int> many(kScmMaxFd + 1, p[1]);
  errno = 0;
  EXPECT_EQ(SendFds(sv[0], "m", {many}), -1);
  EXPECT_EQ(errno, EINVAL);
  // Split over two headers, the total still counts.
  std::vector<int> half(kScmMaxFd / 2 + 1, p[1]);
  errno = 0;
  EXPECT_EQ(SendFds(sv[0], "m", {half, half}), -1);
  EXPECT_EQ(errno, EINVAL);
  many.pop_back();
  ASSERT_EQ(SendFds(sv[0], "m", {many}), 1);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(kScmMaxFd * sizeof(int)));
  EXPECT_EQ(g.rc, 1);
  EXPECT_EQ(g.flags, 0);
  EXPECT_EQ(g.fds.size(), static_cast<size_t>(kScmMaxFd));
  for (int fd : g.fds) close(fd);
}

TEST_P(DescriptorPassing, BadDescriptorSendsNothing) {
  int sv[2], p[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  Pipe(p);
  const int closed = dup(p[0]);
  close(closed);
  errno = 0;
  EXPECT_EQ(SendFds(sv[0], "m", {{p[1], closed}}), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(SendFds(sv[0], "m", {{-1}}), -1);
  EXPECT_EQ(errno, EBADF);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.rc, -1);
  EXPECT_EQ(g.err, EAGAIN);
}

TEST_P(DescriptorPassing, MalformedControlMessages) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM | SOCK_NONBLOCK, sv);
  Pipe(p);
  auto header = [](size_t len, int level, int type, size_t space) {
    std::vector<char> c(space, 0);
    cmsghdr h{};
    h.cmsg_len = len;
    h.cmsg_level = level;
    h.cmsg_type = type;
    memcpy(c.data(), &h, sizeof h);
    return c;
  };
  // Shorter than a header, or longer than the buffer: EINVAL.
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "m", header(8, SOL_SOCKET, SCM_RIGHTS, 24)), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "m", header(40, SOL_SOCKET, SCM_RIGHTS, 24)),
            -1);
  EXPECT_EQ(errno, EINVAL);
  // An unknown type at SOL_SOCKET: EINVAL.
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "m", header(CMSG_LEN(4), SOL_SOCKET, 77, 24)),
            -1);
  EXPECT_EQ(errno, EINVAL);
  // Another level is not AF_UNIX's business: skipped.
  EXPECT_EQ(SendControl(sv[0], "a", header(CMSG_LEN(4), 0 /* SOL_IP */, 1, 24)),
            1);
  // A buffer too short for any header holds none.
  EXPECT_EQ(SendControl(sv[0], "b", std::vector<char>(8, 1)), 1);
  // SCM_RIGHTS with no descriptors carries none.
  EXPECT_EQ(
      SendControl(sv[0], "c",
                  header(CMSG_LEN(0), SOL_SOCKET, SCM_RIGHTS, CMSG_LEN(0))),
      1);
  for (const char* want : {"a", "b", "c"}) {
    Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
    EXPECT_EQ(g.data, want);
    EXPECT_EQ(g.controllen, 0u);
    EXPECT_EQ(g.flags, 0);
  }
}

TEST_P(DescriptorPassing, ControlBufferBeyondOptmemIsEnobufs) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  const long optmem = shunt_test::ReadSysctl("/proc/sys/net/core/optmem_max");
  ASSERT_GT(optmem, 0);
  std::vector<char> big(static_cast<size_t>(optmem) + 8, 0);
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "m", big), -1);
  EXPECT_EQ(errno, ENOBUFS);
}

TEST_P(DescriptorPassing, CloexecOnRequest) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "a", p[0]), 1);
  ASSERT_EQ(SendFd(sv[0], "b", sv[0]), 1);
  ASSERT_EQ(SendFd(sv[0], "c", p[0]), 1);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(g.flags, MSG_CMSG_CLOEXEC);  // Linux echoes it
  EXPECT_EQ(fcntl(g.fds[0], F_GETFD), FD_CLOEXEC);
  close(g.fds[0]);
  g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(api().fcntl(g.fds[0], F_GETFD, 0), FD_CLOEXEC);
  EXPECT_EQ(api().close(g.fds[0]), 0);
  g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(g.flags, 0);
  EXPECT_EQ(fcntl(g.fds[0], F_GETFD), 0);
  close(g.fds[0]);
}

TEST_P(DescriptorPassing, PassedSocketKeepsNonblockingStatus) {
  int sv[2], other[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, other), 0);
  ASSERT_EQ(SendFd(sv[0], "s", other[0]), 1);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_NE(api().fcntl(g.fds[0], F_GETFL, 0) & O_NONBLOCK, 0);
  char c;
  errno = 0;
  EXPECT_EQ(api().recv(g.fds[0], &c, 1, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(api().close(g.fds[0]), 0);
  EXPECT_EQ(api().close(other[0]), 0);
  EXPECT_EQ(api().close(other[1]), 0);
}

TEST_P(DescriptorPassing, EmptyStreamSendDropsTheDescriptors) {
  int sv[2], p[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(SendFd(sv[0], "", p[1]), 0);
  close(p[1]);
  EXPECT_TRUE(PipeAtEof(p[0]));
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.rc, -1);
  EXPECT_EQ(g.err, EAGAIN);
  close(p[0]);
}

TEST_P(DescriptorPassing, EmptyDatagramCarriesDescriptors) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "", p[1]), 0);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.rc, 0);
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
}

TEST_P(DescriptorPassing, BetweenThreads) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  std::thread t([&] { EXPECT_EQ(SendFd(sv[0], "t", p[1]), 1); });
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  t.join();
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(write(g.fds[0], "z", 1), 1);
  close(g.fds[0]);
}

SHUNT_BOTH_BACKENDS(DescriptorPassing);

// ---------------------------------------------------------------------------
// Kernel descriptors in flight between sockets of one process (which shunt
// keeps inside the process while only it can reach the receiver,
// fd/mailbox.h): numbered on receipt as receive_fd numbers them, close-on-
// exec as asked, and still there for a thread started after the send. The
// fixture's descriptor count shows that nothing is left behind.
class InProcessFlight : public DescriptorFixture {
 protected:
  // Sends a pipe's write end over a new stream pair, peeks it with
  // MSG_CMSG_CLOEXEC, then reads it without: the two copies must get
  // `expect` (the two lowest free numbers before the send), FD_CLOEXEC only
  // on the first, and both write to the pipe.
  void PeekThenRead(const std::vector<int>& expect) {
    int sv[2], p[2];
    Pair(SOCK_STREAM, sv);
    Pipe(p);
    ASSERT_EQ(SendFd(sv[0], "x", p[1]), 1);
    Got peeked =
        RecvFds(sv[1], 1, CMSG_SPACE(sizeof(int)), MSG_PEEK | MSG_CMSG_CLOEXEC);
    ASSERT_EQ(peeked.fds.size(), 1u);
    Got g = RecvFds(sv[1], 1, CMSG_SPACE(sizeof(int)));
    ASSERT_EQ(g.fds.size(), 1u);
    EXPECT_EQ((std::vector<int>{peeked.fds[0], g.fds[0]}), expect);
    EXPECT_EQ(fcntl(peeked.fds[0], F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(fcntl(g.fds[0], F_GETFD), 0);
    WriteBothAndClose(p[0], peeked.fds[0], g.fds[0]);
  }
};

TEST_P(InProcessFlight, PeekAndReadGetTheLowestFreeNumbers) {
  // The pair and the pipe take the four lowest free numbers first.
  const std::vector<int> free = LowestFree(6);
  PeekThenRead({free[4], free[5]});
}

// With every number up to past where shunt keeps descriptors in flight
// taken, the lowest free numbers are still what the receiver gets.
TEST_P(InProcessFlight, DenseTableStillGetsTheLowestFreeNumbers) {
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  const int top = static_cast<int>(std::min<rlim_t>(lim.rlim_cur / 2, 4096));
  if (lim.rlim_cur < static_cast<rlim_t>(top) + 64)
    GTEST_SKIP() << "descriptor limit too low";
  std::vector<int> filler;
  for (int fd = dup(0); fd >= 0; fd = dup(0)) {
    filler.push_back(fd);
    if (fd >= top + 8) break;
  }
  const int next = filler.back() + 1;
  PeekThenRead({next + 4, next + 5});
  for (int fd : filler) close(fd);
}

TEST_P(InProcessFlight, ThreadStartedAfterTheSendReceives) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "x", p[1]), 1);
  std::thread t([&] {
    Got g = RecvFds(sv[1], 1, CMSG_SPACE(sizeof(int)));
    ASSERT_EQ(g.fds.size(), 1u);
    EXPECT_EQ(write(g.fds[0], "t", 1), 1);
    close(g.fds[0]);
  });
  t.join();
  char c;
  EXPECT_EQ(read(p[0], &c, 1), 1);
}

TEST_P(InProcessFlight, ReceiverClosedUnreadLeavesNoDescriptor) {
  const int before = shunt_test::CountOpenFds();
  int sv[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(sv[0], "a", p[1]), 1);
  ASSERT_EQ(SendFds(sv[0], "b", {{p[1], p[0]}}), 1);
  close(p[1]);
  EXPECT_EQ(api().close(sv[1]), 0);
  EXPECT_EQ(shunt_test::CountOpenFds(), before + 2);  // sv[0] and p[0]
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  close(p[0]);
}

SHUNT_BOTH_BACKENDS(InProcessFlight);

// ---------------------------------------------------------------------------
// net/core/scm.c: scm_recv, scm_detach_fds: as many descriptors as the
// control buffer holds, MSG_CTRUNC for the rest, which are closed.
class ControlBufferTruncation : public DescriptorFixture {
 protected:
  // Sends three pipe writers over a datagram pair; the test's pipe sees
  // EOF once every copy is gone.
  void SendThree(const int sv[2], int p[2]) {
    ASSERT_EQ(pipe(p), 0);
    ASSERT_EQ(SendFds(sv[0], "abc", {{p[1], p[1], p[1]}}), 3);
    close(p[1]);
  }
};

TEST_P(ControlBufferTruncation, NoControlBufferClosesThem) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  SendThree(sv, p);
  Got g = RecvFds(sv[1], 8, 0, 0, true);
  EXPECT_EQ(g.rc, 3);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, 0u);
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(ControlBufferTruncation, PlainRecvClosesThem) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(sv[0], "abc", p[1]), 3);
  close(p[1]);
  EXPECT_EQ(RecvString(sv[1], 8), "abc");
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(ControlBufferTruncation, HeaderOnlyBufferHoldsNone) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  SendThree(sv, p);
  Got g = RecvFds(sv[1], 8, sizeof(cmsghdr));
  EXPECT_EQ(g.rc, 3);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, 0u);
  EXPECT_TRUE(g.fds.empty());
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(ControlBufferTruncation, ShortBufferHoldsOne) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  SendThree(sv, p);
  Got g = RecvFds(sv[1], 8, CMSG_LEN(sizeof(int)));
  EXPECT_EQ(g.rc, 3);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, CMSG_LEN(sizeof(int)));
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_FALSE(PipeAtEof(p[0]));
  close(g.fds[0]);
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(ControlBufferTruncation, SpaceForOneHoldsTwo) {
  // CMSG_SPACE(sizeof(int)) is 24 bytes: room for two ints after the
  // header, and the kernel fills it.
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  SendThree(sv, p);
  Got g = RecvFds(sv[1], 8, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, CMSG_SPACE(2 * sizeof(int)));
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(2 * sizeof(int)));
  ASSERT_EQ(g.fds.size(), 2u);
  for (int fd : g.fds) close(fd);
  EXPECT_TRUE(PipeAtEof(p[0]));
  close(p[0]);
}

TEST_P(ControlBufferTruncation, TruncatedDatagramStillDeliversThem) {
  int sv[2], p[2];
  Pair(SOCK_DGRAM, sv);
  SendThree(sv, p);
  Got g = RecvFds(sv[1], 1, CMSG_SPACE(3 * sizeof(int)));
  EXPECT_EQ(g.rc, 1);
  EXPECT_EQ(g.flags, MSG_TRUNC);
  EXPECT_EQ(g.fds.size(), 3u);
  for (int fd : g.fds) close(fd);
  close(p[0]);
}

SHUNT_BOTH_BACKENDS(ControlBufferTruncation);

// ---------------------------------------------------------------------------
// net/unix/af_unix.c: unix_stream_read_generic: plain segments merge, a
// read ends right after a segment that carried descriptors.
class StreamBoundariesWithDescriptors : public DescriptorFixture {};

TEST_P(StreamBoundariesWithDescriptors, ReadEndsAfterTheSegmentWithFds) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  // Plain traffic first, so that shunt's fast paths have a pair view of
  // the pair (net/pair_view.h) that the descriptors must get past.
  SendAll(sv[0], "warm");
  EXPECT_EQ(RecvString(sv[1], 16), "warm");
  SendAll(sv[0], "ab");
  ASSERT_EQ(SendFd(sv[0], "cd", p[1]), 2);
  SendAll(sv[0], "ef");
  Got g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.data, "abcd");
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
  g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)), MSG_DONTWAIT);
  EXPECT_EQ(g.data, "ef");
  EXPECT_TRUE(g.fds.empty());
}

TEST_P(StreamBoundariesWithDescriptors, TwoSegmentsWithFdsNeedTwoReads) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "ab", p[1]), 2);
  ASSERT_EQ(SendFd(sv[0], "cd", p[0]), 2);
  Got g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.data, "ab");
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
  g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.data, "cd");
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
}

TEST_P(StreamBoundariesWithDescriptors, PartialReadTakesTheFds) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "abcd", p[1]), 4);
  SendAll(sv[0], "ef");
  Got g = RecvFds(sv[1], 2, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.data, "ab");
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
  g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)), MSG_DONTWAIT);
  EXPECT_EQ(g.data, "cdef");
  EXPECT_TRUE(g.fds.empty());
  EXPECT_EQ(g.controllen, 0u);
}

TEST_P(StreamBoundariesWithDescriptors, PeekDuplicatesAndTheReadGetsThemAgain) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  ASSERT_EQ(SendFd(sv[0], "ab", p[1]), 2);
  SendAll(sv[0], "cd");
  Got peeked = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)), MSG_PEEK);
  EXPECT_EQ(peeked.data, "ab");  // the peek also stops after them
  ASSERT_EQ(peeked.fds.size(), 1u);
  Got g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(g.data, "ab");
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_NE(g.fds[0], peeked.fds[0]);
  WriteBothAndClose(p[0], peeked.fds[0], g.fds[0]);
  EXPECT_EQ(RecvString(sv[1], 16), "cd");
}

// A stream peek goes on past a full buffer to the following segments,
// taking no more bytes but the descriptors of the first segment that has
// some (unix_stream_read_generic's peek branch); a real read stops at the
// full buffer.
TEST_P(StreamBoundariesWithDescriptors, FullPeekStillTakesNextDescriptors) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  SendAll(sv[0], "ab");
  ASSERT_EQ(SendFd(sv[0], "c", p[1]), 1);
  Got peeked = RecvFds(sv[1], 1, CMSG_SPACE(sizeof(int)), MSG_PEEK);
  EXPECT_EQ(peeked.data, "a");
  ASSERT_EQ(peeked.fds.size(), 1u);
  close(peeked.fds[0]);
  Got nothing = RecvFds(sv[1], 0, 0, MSG_PEEK, true);
  EXPECT_EQ(nothing.rc, 0);
  EXPECT_EQ(nothing.flags, MSG_CTRUNC);  // descriptors with no buffer
  Got read = RecvFds(sv[1], 1, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(read.data, "a");
  EXPECT_TRUE(read.fds.empty());
  Got rest = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(rest.data, "bc");
  ASSERT_EQ(rest.fds.size(), 1u);
  close(rest.fds[0]);
}

TEST_P(StreamBoundariesWithDescriptors, DatagramPeekDuplicates) {
  int sv[2], other[2];
  Pair(SOCK_SEQPACKET, sv);
  Pair(SOCK_STREAM, other);
  ASSERT_EQ(SendFd(sv[0], "ab", other[0]), 2);
  Got peeked = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)), MSG_PEEK);
  ASSERT_EQ(peeked.fds.size(), 1u);
  Got g = RecvFds(sv[1], 16, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(api().send(peeked.fds[0], "x", 1, 0), 1);
  EXPECT_EQ(api().send(g.fds[0], "y", 1, 0), 1);
  EXPECT_EQ(RecvString(other[1], 4), "xy");
  EXPECT_EQ(api().close(peeked.fds[0]), 0);
  EXPECT_EQ(api().close(g.fds[0]), 0);
}

SHUNT_BOTH_BACKENDS(StreamBoundariesWithDescriptors);

// ---------------------------------------------------------------------------
// Descriptors in messages nobody will read are released (unix_release_sock
// purging the queue, unix_destruct_scm).
class DiscardedDescriptors : public DescriptorFixture {};

TEST_P(DiscardedDescriptors, ReceiverClosesWithUnreadMessages) {
  int sv[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(sv[0], "a", p[1]), 1);
  ASSERT_EQ(SendFd(sv[0], "b", p[1]), 1);
  close(p[1]);
  EXPECT_EQ(api().close(sv[1]), 0);
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  close(p[0]);
}

TEST_P(DiscardedDescriptors, DatagramReceiverCloses) {
  int sv[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(sv[0], "a", p[1]), 1);
  close(p[1]);
  EXPECT_EQ(api().close(sv[1]), 0);
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  close(p[0]);
}

TEST_P(DiscardedDescriptors, SocketInFlightReleasesWhatItsQueueHeld) {
  // A socket whose own queue holds a pipe writer is itself in flight;
  // closing the receiver releases both.
  int sv[2], inner[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, inner), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFd(inner[0], "i", p[1]), 1);
  close(p[1]);
  ASSERT_EQ(SendFd(sv[0], "o", inner[1]), 1);
  EXPECT_EQ(api().close(inner[1]), 0);
  EXPECT_EQ(api().close(inner[0]), 0);
  EXPECT_FALSE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[1]), 0);
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  close(p[0]);
}

TEST_P(DiscardedDescriptors, FailedSendKeepsNothing) {
  int sv[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(api().close(sv[1]), 0);
  errno = 0;
  EXPECT_EQ(SendFd(sv[0], "a", p[1]), -1);
  EXPECT_EQ(errno, EPIPE);
  close(p[1]);
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  close(p[0]);
}

// net/unix/garbage.c: a socket whose only reference is a message in its
// own queue can never be read: it is collected with what it carries.
// Linux collects from a work queue, at a time of its choosing; shunt does
// at the close (docs/DIFFERENCES.md 11), which is what these check.
TEST_P(DiscardedDescriptors, SocketSentOverItselfIsCollected) {
  if (!api().is_shunt) GTEST_SKIP() << "the kernel collects asynchronously";
  // The pipe end travels with the socket, or was queued before it (kept in
  // the process until the socket was sent: fd/mailbox.h).
  for (const bool queued_before : {false, true}) {
    int sv[2], p[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_EQ(pipe(p), 0);
    if (queued_before) {
      ASSERT_EQ(SendFd(sv[0], "p", p[1]), 1);
      ASSERT_EQ(SendFd(sv[0], "s", sv[1]), 1);
    } else {
      ASSERT_EQ(SendFds(sv[0], "s", {{sv[1], p[1]}}), 1);
    }
    close(p[1]);
    EXPECT_EQ(api().close(sv[1]), 0);
    EXPECT_TRUE(PipeAtEof(p[0])) << queued_before;
    char c;
    EXPECT_EQ(read(p[0], &c, 1), 0);
    EXPECT_EQ(api().close(sv[0]), 0);
    close(p[0]);
  }
}

TEST_P(DiscardedDescriptors, CycleOfTwoIsCollected) {
  if (!api().is_shunt) GTEST_SKIP() << "the kernel collects asynchronously";
  int a[2], b[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, 0, a), 0);
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFds(b[0], "a", {{a[1]}}), 1);        // a[1] waits in b[1]
  ASSERT_EQ(SendFds(a[0], "b", {{b[1], p[1]}}), 1);  // b[1] waits in a[1]
  close(p[1]);
  EXPECT_EQ(api().close(a[1]), 0);
  EXPECT_FALSE(PipeAtEof(p[0]));  // b[1] still has its descriptor
  EXPECT_EQ(api().close(b[1]), 0);
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(a[0]), 0);
  EXPECT_EQ(api().close(b[0]), 0);
  close(p[0]);
}

TEST_P(DiscardedDescriptors, ReachableSocketIsNotCollected) {
  // a[1] waits in b[1]'s queue, and b[1] still has a descriptor: alive.
  int a[2], b[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
  SendAll(a[0], "kept");
  ASSERT_EQ(SendFds(b[0], "a", {{a[1]}}), 1);
  EXPECT_EQ(api().close(a[1]), 0);
  Got g = RecvFds(b[1], 4, CMSG_SPACE(sizeof(int)));
  ASSERT_EQ(g.fds.size(), 1u);
  EXPECT_EQ(RecvString(g.fds[0], 8), "kept");
  for (int fd : {g.fds[0], a[0], b[0], b[1]}) EXPECT_EQ(api().close(fd), 0);
}

// A datagram read that faults on the caller's buffer has dequeued the
// datagram already: it is lost, with its descriptors (unix_dgram_recvmsg's
// out_free), and no control data is written. A peek that faults leaves
// the datagram and its descriptors queued.
TEST_P(DiscardedDescriptors, DatagramLostToAFaultReleasesItsDescriptors) {
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(ro, MAP_FAILED);
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2], p[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type, 0, sv), 0);
    ASSERT_EQ(pipe(p), 0);
    ASSERT_EQ(SendFd(sv[0], "a", p[1]), 1);
    close(p[1]);
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0x5a, sizeof ctl);
    iovec iov{ro, 8};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_PEEK | MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_FALSE(PipeAtEof(p[0]));
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_EQ(static_cast<unsigned char>(ctl[0]), 0x5a);
    EXPECT_TRUE(PipeAtEof(p[0]));
    EXPECT_EQ(RecvFds(sv[1], 8, 64, MSG_DONTWAIT).err, EAGAIN);
    EXPECT_EQ(api().close(sv[0]), 0);
    EXPECT_EQ(api().close(sv[1]), 0);
    close(p[0]);
  }
  munmap(ro, 4096);
}

// A receiver out of descriptor numbers gets none of the message's
// descriptors, MSG_CTRUNC and the data (scm_detach_fds: receive_fd's
// EMFILE); they are released, not kept for later.
TEST_P(DiscardedDescriptors, ReceiverOutOfNumbersGetsCtrunc) {
  int sv[2], p[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(SendFds(sv[0], "x", {{p[1], p[1], p[1]}}), 1);
  close(p[1]);
  Got g;
  {
    shunt_test::ScopedNoFreeNumbers no_numbers;
    g = RecvFds(sv[1], 8, CMSG_SPACE(3 * sizeof(int)));
  }
  EXPECT_EQ(g.rc, 1);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, 0u);
  EXPECT_TRUE(g.fds.empty());
  EXPECT_TRUE(PipeAtEof(p[0]));
  EXPECT_EQ(api().close(sv[0]), 0);
  EXPECT_EQ(api().close(sv[1]), 0);
  close(p[0]);
}

SHUNT_BOTH_BACKENDS(DiscardedDescriptors);

}  // namespace

namespace {

// ---------------------------------------------------------------------------
// SCM_CREDENTIALS and SO_PASSCRED (net/core/scm.c: scm_check_creds,
// scm_recv; net/unix/af_unix.c: maybe_add_creds).
class Credentials : public DescriptorFixture {
 protected:
  std::vector<char> CredControl(pid_t pid, uid_t uid, gid_t gid) {
    std::vector<char> c(CMSG_SPACE(sizeof(ucred)), 0);
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(sizeof(ucred));
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = SCM_CREDENTIALS;
    memcpy(c.data(), &h, sizeof h);
    const ucred u{pid, uid, gid};
    memcpy(c.data() + CMSG_LEN(0), &u, sizeof u);
    return c;
  }
  // recvmsg; the credentials of the first control message, if it is one.
  Got RecvCreds(int fd, size_t controllen, ucred* out, int flags = 0) {
    Got g;
    char buf[16];
    std::vector<cmsghdr> control(controllen / sizeof(cmsghdr) + 4);
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.data();
    mh.msg_controllen = controllen;
    g.rc = api().recvmsg(fd, &mh, flags);
    g.err = g.rc < 0 ? errno : 0;
    if (g.rc < 0) return g;
    g.data.assign(buf, g.rc);
    g.flags = mh.msg_flags;
    g.controllen = mh.msg_controllen;
    *out = ucred{-1, 0, 0};
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr;
         c = CMSG_NXTHDR(&mh, c)) {
      if (g.cmsgs++ == 0) g.first_cmsg_len = c->cmsg_len;
      if (c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len >= CMSG_LEN(sizeof(ucred)))
        memcpy(out, CMSG_DATA(c), sizeof *out);
      if (c->cmsg_type == SCM_RIGHTS)
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
          int v;
          memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof v);
          g.fds.push_back(v);
        }
    }
    return g;
  }
  void PassCred(int fd) {
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_PASSCRED, 1), 0);
  }
};

TEST_P(Credentials, ImplicitWhenTheReceiverPassesThem) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    PassCred(sv[1]);
    SendAll(sv[0], "a");
    ucred u;
    Got g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
    EXPECT_EQ(g.rc, 1);
    EXPECT_EQ(g.flags, 0);
    EXPECT_EQ(g.controllen, CMSG_SPACE(sizeof(ucred)));
    EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(sizeof(ucred)));
    EXPECT_EQ(u.pid, getpid());
    EXPECT_EQ(u.uid, getuid());
    EXPECT_EQ(u.gid, getgid());
  }
}

TEST_P(Credentials, SenderPassingAttachesThemForLater) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  SendAll(sv[1], "b");  // nobody passes yet
  PassCred(sv[0]);
  SendAll(sv[0], "a");
  ucred u;
  Got g = RecvCreds(sv[0], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.cmsgs, 1);  // sv[0] passes: it gets credentials
  EXPECT_EQ(u.pid, 0);    // but none were attached: pid 0, overflow ids
  EXPECT_EQ(u.uid, 65534u);
  EXPECT_EQ(u.gid, 65534u);
  PassCred(sv[1]);
  g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.cmsgs, 1);
  EXPECT_EQ(u.pid, getpid());
}

TEST_P(Credentials, ExplicitCredentialsOfOurOwn) {
  int sv[2];
  Pair(SOCK_SEQPACKET, sv);
  ASSERT_EQ(
      SendControl(sv[0], "x", CredControl(getpid(), geteuid(), getegid())), 1);
  // Not passing: no control message, no truncation.
  ucred u;
  Got g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u, MSG_PEEK);
  EXPECT_EQ(g.cmsgs, 0);
  EXPECT_EQ(g.flags, 0);
  PassCred(sv[1]);
  g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(u.pid, getpid());
  EXPECT_EQ(u.uid, geteuid());
}

TEST_P(Credentials, MalformedCredentials) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  std::vector<char> c = CredControl(getpid(), getuid(), getgid());
  cmsghdr h;
  memcpy(&h, c.data(), sizeof h);
  h.cmsg_len = CMSG_LEN(8);
  memcpy(c.data(), &h, sizeof h);
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "x", c), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "x", CredControl(getpid(), -1, getgid())), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(Credentials, WhatRootMayClaim) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  PassCred(sv[1]);
  ASSERT_EQ(SendControl(sv[0], "x", CredControl(1, 1234, 5678)), 1);
  ucred u;
  Got g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(u.pid, 1);
  EXPECT_EQ(u.uid, 1234u);
  EXPECT_EQ(u.gid, 5678u);
  // A process that does not exist: ESRCH; pid 0 names none either.
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "x", CredControl(0x3ffffff0, 0, 0)), -1);
  EXPECT_EQ(errno, ESRCH);
  errno = 0;
  EXPECT_EQ(SendControl(sv[0], "x", CredControl(0, 0, 0)), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_P(Credentials, WhatAnUnprivilegedSenderMayClaim) {
  const shunt_test::SocketApi* a = &api();
  auto body = [&](pid_t pid, uid_t uid, gid_t gid) {
    int sv[2];
    if (a->socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 100;
    std::vector<cmsghdr> c(4);
    cmsghdr* h = c.data();
    h->cmsg_len = CMSG_LEN(sizeof(ucred));
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_CREDENTIALS;
    const ucred u{pid == -2 ? getpid() : pid, uid, gid};
    memcpy(CMSG_DATA(h), &u, sizeof u);
    char byte = 'x';
    iovec iov{&byte, 1};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = c.data();
    mh.msg_controllen = CMSG_SPACE(sizeof(ucred));
    const int r = a->sendmsg(sv[0], &mh, 0) == 1 ? 0 : errno;
    a->close(sv[0]);
    a->close(sv[1]);
    return r;
  };
  EXPECT_EQ(shunt_test::RunAsNobody([&] { return body(-2, 65534, 65534); }), 0);
  EXPECT_EQ(shunt_test::RunAsNobody([&] { return body(1, 65534, 65534); }),
            EPERM);
  EXPECT_EQ(shunt_test::RunAsNobody([&] { return body(-2, 0, 65534); }), EPERM);
  EXPECT_EQ(shunt_test::RunAsNobody([&] { return body(-2, 65534, 0); }), EPERM);
}

TEST_P(Credentials, NoControlBufferTruncates) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  PassCred(sv[1]);
  SendAll(sv[0], "a");
  Got g = RecvFds(sv[1], 8, 0, 0, true);
  EXPECT_EQ(g.rc, 1);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
}

TEST_P(Credentials, ShortBufferTruncatesTheCredentials) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  PassCred(sv[1]);
  SendAll(sv[0], "a");
  SendAll(sv[0], "b");
  ucred u;
  Got g = RecvCreds(sv[1], CMSG_LEN(4), &u);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, CMSG_LEN(4));
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(4));
  g = RecvCreds(sv[1], sizeof(cmsghdr) - 1, &u);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_EQ(g.controllen, 0u);
}

// scm_recv_unix runs at the end of every stream read that got past its
// state checks: a failed read still writes all-zero credentials into the
// control buffer (msg_controllen is not reported back); an unconnected
// socket's EINVAL comes before that and writes nothing. A datagram read
// writes credentials only with a datagram: a seqpacket EOF has none.
TEST_P(Credentials, WhenNothingIsRead) {
  auto recv_into = [&](int fd, cmsghdr* control, size_t len) {
    char buf[4];
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = len;
    const ssize_t rc = api().recvmsg(fd, &mh, MSG_DONTWAIT);
    return std::make_pair(rc, mh.msg_controllen);
  };
  constexpr unsigned char kFill = 0xa5;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred))];
  auto* c = reinterpret_cast<cmsghdr*>(control);

  int sv[2];
  Pair(SOCK_STREAM, sv);
  PassCred(sv[1]);
  memset(control, kFill, sizeof control);
  errno = 0;
  auto [rc, len] = recv_into(sv[1], c, sizeof control);
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(len, sizeof control);
  EXPECT_EQ(c->cmsg_level, SOL_SOCKET);
  EXPECT_EQ(c->cmsg_type, SCM_CREDENTIALS);
  EXPECT_EQ(c->cmsg_len, CMSG_LEN(sizeof(ucred)));
  ucred u;
  memcpy(&u, CMSG_DATA(c), sizeof u);
  EXPECT_EQ(u.pid, 0);
  EXPECT_EQ(u.uid, 0u);
  EXPECT_EQ(u.gid, 0u);

  const int lone = Socket(SOCK_STREAM | SOCK_NONBLOCK);
  PassCred(lone);
  memset(control, kFill, sizeof control);
  errno = 0;
  std::tie(rc, len) = recv_into(lone, c, sizeof control);
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(control[0], kFill);

  int sp[2];
  Pair(SOCK_SEQPACKET, sp);
  PassCred(sp[0]);
  ASSERT_EQ(Close(sp[1]), 0);
  memset(control, kFill, sizeof control);
  std::tie(rc, len) = recv_into(sp[0], c, sizeof control);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(len, 0u);
}

TEST_P(Credentials, CredentialsComeBeforeDescriptors) {
  int sv[2], p[2];
  Pair(SOCK_STREAM, sv);
  Pipe(p);
  PassCred(sv[1]);
  ASSERT_EQ(SendFd(sv[0], "f", p[1]), 1);
  ucred u;
  Got g =
      RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int)), &u);
  EXPECT_EQ(g.cmsgs, 2);
  EXPECT_EQ(g.first_cmsg_len, CMSG_LEN(sizeof(ucred)));
  EXPECT_EQ(g.controllen, CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(u.pid, getpid());
  ASSERT_EQ(g.fds.size(), 1u);
  close(g.fds[0]);
  // Room for the credentials only: the descriptor is cut.
  ASSERT_EQ(SendFd(sv[0], "f", p[1]), 1);
  g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.cmsgs, 1);
  EXPECT_EQ(g.flags, MSG_CTRUNC);
  EXPECT_TRUE(g.fds.empty());
}

TEST_P(Credentials, StreamReadsNeverMergeDifferentWriters) {
  if (geteuid() != 0) GTEST_SKIP() << "claims pid 1: needs root";
  int sv[2];
  Pair(SOCK_STREAM, sv);
  PassCred(sv[1]);
  SendAll(sv[0], "ab");
  SendAll(sv[0], "cd");
  ASSERT_EQ(SendControl(sv[0], "ef", CredControl(1, getuid(), getgid())), 2);
  ucred u;
  Got g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.data, "abcd");  // one writer: merged
  EXPECT_EQ(u.pid, getpid());
  g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.data, "ef");
  EXPECT_EQ(u.pid, 1);
}

TEST_P(Credentials, WithoutPasscredWritersMerge) {
  if (geteuid() != 0) GTEST_SKIP() << "claims pid 1: needs root";
  int sv[2];
  Pair(SOCK_STREAM, sv);
  SendAll(sv[0], "ab");
  ASSERT_EQ(SendControl(sv[0], "cd", CredControl(1, getuid(), getgid())), 2);
  EXPECT_EQ(RecvString(sv[1], 16), "abcd");
}

TEST_P(Credentials, SetAfterQueueingReportsNone) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  SendAll(sv[0], "ab");
  PassCred(sv[1]);
  SendAll(sv[0], "cd");
  ucred u;
  Got g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.data, "ab");  // none, then ours: not merged
  EXPECT_EQ(u.pid, 0);
  EXPECT_EQ(u.uid, 65534u);
  g = RecvCreds(sv[1], CMSG_SPACE(sizeof(ucred)), &u);
  EXPECT_EQ(g.data, "cd");
  EXPECT_EQ(u.pid, getpid());
}

SHUNT_BOTH_BACKENDS(Credentials);

}  // namespace

namespace {

// sendmmsg/recvmmsg carry control data per message (___sys_sendmsg and
// ___sys_recvmsg for each entry).
class MultiMessageControl : public DescriptorFixture {};

TEST_P(MultiMessageControl, EachMessageHasItsOwnDescriptors) {
  int sv[2], p[2], q[2];
  Pair(SOCK_DGRAM, sv);
  Pipe(p);
  Pipe(q);
  alignas(cmsghdr) char c0[CMSG_SPACE(sizeof(int))] = {};
  alignas(cmsghdr) char c1[CMSG_SPACE(2 * sizeof(int))] = {};
  auto fill = [](char* buf, const std::vector<int>& fds) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = SCM_RIGHTS;
    memcpy(buf, &h, sizeof h);
    memcpy(buf + CMSG_LEN(0), fds.data(), fds.size() * sizeof(int));
  };
  fill(c0, {p[1]});
  fill(c1, {q[1], q[1]});
  char d0 = '0', d1 = '1';
  iovec v0{&d0, 1}, v1{&d1, 1};
  mmsghdr out[2] = {};
  out[0].msg_hdr.msg_iov = &v0;
  out[0].msg_hdr.msg_iovlen = 1;
  out[0].msg_hdr.msg_control = c0;
  out[0].msg_hdr.msg_controllen = sizeof c0;
  out[1].msg_hdr.msg_iov = &v1;
  out[1].msg_hdr.msg_iovlen = 1;
  out[1].msg_hdr.msg_control = c1;
  out[1].msg_hdr.msg_controllen = sizeof c1;
  ASSERT_EQ(api().sendmmsg(sv[0], out, 2, 0), 2);

  alignas(cmsghdr) char r0[CMSG_SPACE(sizeof(int))] = {};
  alignas(cmsghdr) char r1[CMSG_SPACE(sizeof(int))] = {};  // too small
  char g0 = 0, g1 = 0;
  iovec w0{&g0, 1}, w1{&g1, 1};
  mmsghdr in[2] = {};
  in[0].msg_hdr.msg_iov = &w0;
  in[0].msg_hdr.msg_iovlen = 1;
  in[0].msg_hdr.msg_control = r0;
  in[0].msg_hdr.msg_controllen = sizeof r0;
  in[1].msg_hdr.msg_iov = &w1;
  in[1].msg_hdr.msg_iovlen = 1;
  in[1].msg_hdr.msg_control = r1;
  in[1].msg_hdr.msg_controllen = CMSG_LEN(sizeof(int));
  ASSERT_EQ(api().recvmmsg(sv[1], in, 2, MSG_DONTWAIT, nullptr), 2);
  EXPECT_EQ(in[0].msg_hdr.msg_controllen, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(in[0].msg_hdr.msg_flags, 0);
  EXPECT_EQ(in[1].msg_hdr.msg_controllen, CMSG_LEN(sizeof(int)));
  EXPECT_EQ(in[1].msg_hdr.msg_flags, MSG_CTRUNC);
  int fd0, fd1;
  memcpy(&fd0, CMSG_DATA(reinterpret_cast<cmsghdr*>(r0)), sizeof fd0);
  memcpy(&fd1, CMSG_DATA(reinterpret_cast<cmsghdr*>(r1)), sizeof fd1);
  EXPECT_EQ(write(fd0, "p", 1), 1);
  EXPECT_EQ(write(fd1, "q", 1), 1);
  char c;
  EXPECT_EQ(read(p[0], &c, 1), 1);
  EXPECT_EQ(read(q[0], &c, 1), 1);
  close(fd0);
  close(fd1);
}

SHUNT_BOTH_BACKENDS(MultiMessageControl);

}  // namespace

// Readiness of AF_UNIX sockets (mixed with pipes) through poll, ppoll,
// select and pselect: the exact revents Linux computes in unix_poll and
// unix_dgram_poll, wake-ups, timeouts, signal masks and error cases.
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::BothBackends;
using shunt_test::NowMs;
using shunt_test::ScopedUsr1Counter;
using shunt_test::SleepMs;

constexpr short kAll = POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM |
                       POLLRDBAND | POLLWRNORM | POLLWRBAND;
constexpr short kOut = POLLOUT | POLLWRNORM | POLLWRBAND;
constexpr short kIn = POLLIN | POLLRDNORM;
// What a socket whose receive side is shut reports (unix_poll /
// unix_dgram_poll: RCV_SHUTDOWN gives EPOLLRDHUP | EPOLLIN | EPOLLRDNORM).
constexpr short kRdHup = POLLRDHUP | POLLIN | POLLRDNORM;

// Blocks SIGUSR1 in the calling thread for one test.
class ScopedBlockUsr1 {
 public:
  ScopedBlockUsr1() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~ScopedBlockUsr1() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

class ReadinessTest : public BothBackends {
 protected:
  // revents of one descriptor from a poll with timeout 0; EXPECTs poll to
  // count it exactly when revents is set.
  short Revents(int fd, short events = kAll) {
    pollfd p{fd, events, 0x5a5a};
    const int n = api().poll(&p, 1, 0);
    EXPECT_EQ(n, p.revents != 0 ? 1 : 0) << strerror(errno);
    return p.revents;
  }

  // A listener with one pending (not yet accepted) connection.
  int ListenerWithPending(int type, const char* leaf, bool pending) {
    const sockaddr_un a = TempAddr(leaf);
    const int l = Socket(type);
    EXPECT_EQ(Bind(l, a), 0);
    EXPECT_EQ(api().listen(l, 4), 0);
    if (pending) {
      const int c = Socket(type);
      EXPECT_EQ(Connect(c, a), 0);
    }
    return l;
  }
};

// ---------------------------------------------------------------------------
class StreamPollEvents : public ReadinessTest {};

TEST_P(StreamPollEvents, IdleConnectedPairIsWritableOnly) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    EXPECT_EQ(Revents(sv[0]), kOut) << type;
    EXPECT_EQ(Revents(sv[1]), kOut) << type;
    // Only requested events are reported.
    EXPECT_EQ(Revents(sv[0], POLLIN), 0) << type;
    EXPECT_EQ(Revents(sv[0], POLLOUT), POLLOUT) << type;
  }
}

TEST_P(StreamPollEvents, QueuedDataIsReadable) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
    EXPECT_EQ(Revents(sv[0]), kIn | kOut) << type;
    char buf[4];
    ASSERT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 3);
    EXPECT_EQ(Revents(sv[0]), kOut) << type;
  }
}

TEST_P(StreamPollEvents, PeerShutWrGivesRdhup) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().shutdown(sv[1], SHUT_WR), 0);
    EXPECT_EQ(Revents(sv[0]), kRdHup | kOut) << type;
    // The shutting side's own writability is unchanged.
    EXPECT_EQ(Revents(sv[1]), kOut) << type;
    // POLLRDHUP is reported only when asked for.
    EXPECT_EQ(Revents(sv[0], POLLIN), POLLIN) << type;
  }
}

TEST_P(StreamPollEvents, OwnShutRdGivesRdhup) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
  EXPECT_EQ(Revents(sv[0]), kRdHup | kOut);
  // The peer is now shut for sending, which poll does not show.
  EXPECT_EQ(Revents(sv[1]), kOut);
}

// Both directions shut: POLLHUP, which poll reports even when not
// requested.
TEST_P(StreamPollEvents, BothDirectionsShutGivesHup) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_RDWR), 0);
    EXPECT_EQ(Revents(sv[0]), POLLHUP | kRdHup | kOut) << type;
    EXPECT_EQ(Revents(sv[1]), POLLHUP | kRdHup | kOut) << type;
    EXPECT_EQ(Revents(sv[0], 0), POLLHUP) << type;
  }
}

TEST_P(StreamPollEvents, PeerClosedGivesHup) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[0], "x", 1, 0), 1);
    ASSERT_EQ(Close(sv[0]), 0);
    EXPECT_EQ(Revents(sv[1]), POLLHUP | kRdHup | kOut) << type;
  }
}

// An unread-data close leaves ECONNRESET pending: POLLERR until it is read.
TEST_P(StreamPollEvents, PendingErrorGivesPollerr) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  ASSERT_EQ(Close(sv[0]), 0);
  EXPECT_EQ(Revents(sv[1]), POLLERR | POLLHUP | kRdHup | kOut);
  EXPECT_EQ(Revents(sv[1], 0), POLLERR | POLLHUP);
  int err = 0;
  socklen_t len = sizeof(err);
  ASSERT_EQ(api().getsockopt(sv[1], SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNRESET);
  EXPECT_EQ(Revents(sv[1]), POLLHUP | kRdHup | kOut);
}

// net/unix/af_unix.c: unix_poll reports POLLHUP for a connection-type
// socket in TCP_CLOSE, i.e. one that was never connected; it is also
// writable by the unix_writable rule.
TEST_P(StreamPollEvents, UnconnectedSocketIsHungUp) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(Revents(fd), POLLHUP | kOut) << type;
  }
}

// A listener is never writable; it is readable while a connection waits.
TEST_P(StreamPollEvents, Listener) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    const int idle =
        ListenerWithPending(type, type == SOCK_STREAM ? "a" : "b", false);
    EXPECT_EQ(Revents(idle), 0) << type;
    const int busy =
        ListenerWithPending(type, type == SOCK_STREAM ? "c" : "d", true);
    EXPECT_EQ(Revents(busy), kIn) << type;
    const int s = Track(api().accept(busy, nullptr, nullptr));
    ASSERT_GE(s, 0);
    EXPECT_EQ(Revents(busy), 0) << type;
  }
}

// With CONFIG_AF_UNIX_OOB an urgent byte gives POLLPRI.
TEST_P(StreamPollEvents, OutOfBandByteGivesPollpri) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "ab", 2, MSG_OOB), 2);
  EXPECT_EQ(Revents(sv[0]), POLLPRI | kIn | kOut);
  char c;
  ASSERT_EQ(api().recv(sv[0], &c, 1, MSG_OOB), 1);
  EXPECT_EQ(c, 'b');
  EXPECT_EQ(Revents(sv[0]), kIn | kOut);
}

// net/unix/af_unix.c: unix_writable: writable while the send memory in
// flight is at most a quarter of SO_SNDBUF.
TEST_P(StreamPollEvents, FullSendBufferIsNotWritable) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  std::vector<char> chunk(4096, 'f');
  long total = 0;
  while (api().send(sv[0], chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
    total += chunk.size();
  }
  EXPECT_EQ(Revents(sv[0]), 0);
  EXPECT_EQ(Revents(sv[1]), kIn | kOut);
  // Draining makes it writable again.
  std::vector<char> buf(65536);
  while (api().recv(sv[1], buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
  }
  EXPECT_EQ(Revents(sv[0]), kOut);
  EXPECT_GT(total, 0);
}

SHUNT_BOTH_BACKENDS(StreamPollEvents);

// ---------------------------------------------------------------------------
class DatagramPollEvents : public ReadinessTest {};

TEST_P(DatagramPollEvents, IdleDataAndShutdown) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  EXPECT_EQ(Revents(sv[0]), kOut);
  ASSERT_EQ(api().send(sv[1], "d", 1, 0), 1);
  EXPECT_EQ(Revents(sv[0]), kIn | kOut);
  ASSERT_EQ(api().shutdown(sv[1], SHUT_RD), 0);
  EXPECT_EQ(Revents(sv[1]), kRdHup | kOut);
  ASSERT_EQ(api().shutdown(sv[1], SHUT_WR), 0);
  EXPECT_EQ(Revents(sv[1]), POLLHUP | kRdHup | kOut);
  // Datagram shutdown is local: the peer shows nothing new.
  EXPECT_EQ(Revents(sv[0]), kIn | kOut);
}

// Unconnected datagram sockets are writable and never hung up; a peer's
// close does not mark a datagram socket.
TEST_P(DatagramPollEvents, UnconnectedAndPeerClosed) {
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(Revents(fd), kOut);
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(Close(sv[0]), 0);
  EXPECT_EQ(Revents(sv[1]), kOut);
}

// net/unix/af_unix.c: unix_dgram_poll clears POLLOUT while the connected
// peer's queue is full (and the peer is not connected back).
TEST_P(DatagramPollEvents, FullPeerQueueIsNotWritable) {
  const sockaddr_un a = TempAddr("r");
  const int receiver = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(receiver, a), 0);
  const int sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(Connect(sender, a), 0);
  int n = 0;
  while (n < 10000 && api().send(sender, "d", 1, MSG_DONTWAIT) == 1) ++n;
  ASSERT_EQ(errno, EAGAIN);
  EXPECT_EQ(Revents(sender), 0);
  // Still writable for a sender that is not connected: it may send
  // elsewhere.
  const int other = Socket(SOCK_DGRAM);
  EXPECT_EQ(Revents(other), kOut);
  char c;
  ASSERT_EQ(api().recv(receiver, &c, 1, 0), 1);
  EXPECT_EQ(Revents(sender), kOut);
  EXPECT_EQ(Revents(receiver), kIn | kOut);
}

// In a socketpair the queue limit does not apply; writability follows the
// sender's own send buffer (unix_writable).
TEST_P(DatagramPollEvents, SocketpairWritabilityFollowsSendBuffer) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  std::vector<char> d(1024, 'd');
  int n = 0;
  while (n < 100000 &&
         api().send(sv[0], d.data(), d.size(), MSG_DONTWAIT) > 0) {
    ++n;
  }
  ASSERT_EQ(errno, EAGAIN);
  EXPECT_EQ(Revents(sv[0]), 0);
  EXPECT_EQ(Revents(sv[1]), kIn | kOut);
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(api().recv(sv[1], d.data(), d.size(), 0), 1024);
  }
  EXPECT_EQ(Revents(sv[0]), kOut);
}

// unix_writable compares refcount_read(&sk_wmem_alloc), which is one more
// than the bytes charged, with a quarter of SO_SNDBUF: a charge of exactly
// a quarter is not writable. SO_SNDBUF 4608 is 9216; three small datagrams
// charge 3 x 768 = 2304 = 9216 / 4. (Found by `shunt diff`.)
TEST_P(DatagramPollEvents, ChargeOfExactlyAQuarterIsNotWritable) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF, 4608), 0);
    ASSERT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF), 9216);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(api().send(sv[0], "d", 1, 0), 1);
    EXPECT_EQ(Revents(sv[0]), kOut);  // 1536 + 1 <= 2304
    ASSERT_EQ(api().send(sv[0], "", 0, 0), 0);
    int outq = -1;
    ASSERT_EQ(api().ioctl(sv[0], SIOCOUTQ, &outq), 0);
    EXPECT_EQ(outq, 2304);
    EXPECT_EQ(Revents(sv[0]), 0);
    char c;
    ASSERT_EQ(api().recv(sv[1], &c, 1, 0), 1);
    EXPECT_EQ(Revents(sv[0]), kOut);
  }
}

SHUNT_BOTH_BACKENDS(DatagramPollEvents);

// ---------------------------------------------------------------------------
class PollDescriptorSets : public ReadinessTest {};

TEST_P(PollDescriptorSets, NegativeDescriptorsAreIgnored) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  pollfd p[3] = {{-1, kAll, 0x11}, {sv[0], POLLOUT, 0}, {-5, POLLIN, 0x22}};
  EXPECT_EQ(api().poll(p, 3, 0), 1);
  EXPECT_EQ(p[0].revents, 0);
  EXPECT_EQ(p[1].revents, POLLOUT);
  EXPECT_EQ(p[2].revents, 0);
}

TEST_P(PollDescriptorSets, ClosedDescriptorGivesPollnval) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int dead = api().dup(sv[0]);
  ASSERT_GE(dead, 0);
  ASSERT_EQ(api().close(dead), 0);
  pollfd p[2] = {{dead, POLLIN, 0}, {sv[1], POLLIN, 0}};
  EXPECT_EQ(api().poll(p, 2, 0), 1);
  EXPECT_EQ(p[0].revents, POLLNVAL);
  EXPECT_EQ(p[1].revents, 0);
  // POLLNVAL even with no events requested.
  p[0].events = 0;
  EXPECT_EQ(api().poll(p, 1, 0), 1);
  EXPECT_EQ(p[0].revents, POLLNVAL);
}

TEST_P(PollDescriptorSets, ZeroTimeoutReturnsAtOnce) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  pollfd p{sv[0], POLLIN, 0};
  const long start = NowMs();
  EXPECT_EQ(api().poll(&p, 1, 0), 0);
  EXPECT_LT(NowMs() - start, 500);
  // No descriptors at all: a plain sleep.
  EXPECT_EQ(api().poll(nullptr, 0, 0), 0);
  EXPECT_EQ(api().poll(nullptr, 0, 30), 0);
}

TEST_P(PollDescriptorSets, TimeoutExpires) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  pollfd p{sv[0], POLLIN, 0};
  const long start = NowMs();
  EXPECT_EQ(api().poll(&p, 1, 120), 0);
  const long elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 120);
  EXPECT_LT(elapsed, 2000);
  EXPECT_EQ(p.revents, 0);
}

// Sockets and pipes in one call, each with its own revents.
TEST_P(PollDescriptorSets, MixedSocketsAndPipes) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  Pipe(pp);
  ASSERT_EQ(write(pp[1], "p", 1), 1);
  pollfd p[4] = {{sv[0], POLLIN | POLLOUT, 0},
                 {pp[0], POLLIN | POLLOUT, 0},
                 {pp[1], POLLIN | POLLOUT, 0},
                 {sv[1], POLLIN, 0}};
  EXPECT_EQ(api().poll(p, 4, 0), 3);
  EXPECT_EQ(p[0].revents, POLLOUT);
  EXPECT_EQ(p[1].revents, POLLIN);
  EXPECT_EQ(p[2].revents, POLLOUT);
  EXPECT_EQ(p[3].revents, 0);
}

TEST_P(PollDescriptorSets, WokenBySocketWrite) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  Pipe(pp);
  pollfd p[2] = {{sv[0], POLLIN, 0}, {pp[0], POLLIN, 0}};
  std::thread writer([&] {
    SleepMs(100);
    api().send(sv[1], "s", 1, 0);
  });
  const long start = NowMs();
  EXPECT_EQ(api().poll(p, 2, 5000), 1);
  EXPECT_LT(NowMs() - start, 2000);
  writer.join();
  EXPECT_EQ(p[0].revents, POLLIN);
  EXPECT_EQ(p[1].revents, 0);
}

TEST_P(PollDescriptorSets, WokenByPipeWrite) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  Pipe(pp);
  pollfd p[2] = {{sv[0], POLLIN, 0}, {pp[0], POLLIN, 0}};
  std::thread writer([&] {
    SleepMs(100);
    EXPECT_EQ(write(pp[1], "p", 1), 1);
  });
  const long start = NowMs();
  EXPECT_EQ(api().poll(p, 2, 5000), 1);
  EXPECT_LT(NowMs() - start, 2000);
  writer.join();
  EXPECT_EQ(p[0].revents, 0);
  EXPECT_EQ(p[1].revents, POLLIN);
}

TEST_P(PollDescriptorSets, WokenByPeerClose) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  pollfd p{sv[0], POLLIN, 0};
  const int peer = sv[1];
  Untrack(peer);
  std::thread closer([&] {
    SleepMs(100);
    api().close(peer);
  });
  EXPECT_EQ(api().poll(&p, 1, 5000), 1);
  closer.join();
  EXPECT_EQ(p.revents, POLLIN | POLLHUP);
}

TEST_P(PollDescriptorSets, WokenByConnect) {
  const sockaddr_un a = TempAddr("l");
  const int l = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(l, a), 0);
  ASSERT_EQ(api().listen(l, 4), 0);
  const int c = Socket(SOCK_STREAM);
  pollfd p{l, POLLIN, 0};
  std::thread connector([&] {
    SleepMs(100);
    Connect(c, a);
  });
  EXPECT_EQ(api().poll(&p, 1, 5000), 1);
  connector.join();
  EXPECT_EQ(p.revents, POLLIN);
}

TEST_P(PollDescriptorSets, TooManyDescriptors) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  std::vector<pollfd> v(rl.rlim_cur + 1, pollfd{-1, 0, 0});
  errno = 0;
  EXPECT_EQ(api().poll(v.data(), v.size(), 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(PollDescriptorSets, BadArrayPointer) {
  errno = 0;
  EXPECT_EQ(api().poll(nullptr, 1, 0), -1);
  EXPECT_EQ(errno, EFAULT);
}

// poll is never restarted after a handler, SA_RESTART or not, with or
// without a timeout (signal(7)).
TEST_P(PollDescriptorSets, InterruptedBySignal) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const pthread_t self = pthread_self();
  for (int timeout : {5000, -1}) {
    std::thread killer([&] {
      SleepMs(100);
      pthread_kill(self, SIGUSR1);
    });
    pollfd p{sv[0], POLLIN, 0};
    errno = 0;
    EXPECT_EQ(api().poll(&p, 1, timeout), -1) << timeout;
    EXPECT_EQ(errno, EINTR) << timeout;
    killer.join();
  }
  EXPECT_EQ(handler.count(), 2);
}

SHUNT_BOTH_BACKENDS(PollDescriptorSets);

// ---------------------------------------------------------------------------
class SelectDescriptorSets : public ReadinessTest {};

TEST_P(SelectDescriptorSets, ReadWriteExceptSets) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  Pipe(pp);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  fd_set r, w, e;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&e);
  for (int fd : {sv[0], sv[1], pp[0]}) {
    FD_SET(fd, &r);
    FD_SET(fd, &e);
  }
  FD_SET(sv[0], &w);
  FD_SET(pp[1], &w);
  const int nfds = std::max({sv[0], sv[1], pp[0], pp[1]}) + 1;
  timeval tv{0, 0};
  // Every set bit counts: sv[0] readable, sv[0] and pp[1] writable.
  EXPECT_EQ(api().select(nfds, &r, &w, &e, &tv), 3);
  EXPECT_TRUE(FD_ISSET(sv[0], &r));
  EXPECT_FALSE(FD_ISSET(sv[1], &r));
  EXPECT_FALSE(FD_ISSET(pp[0], &r));
  EXPECT_TRUE(FD_ISSET(sv[0], &w));
  EXPECT_TRUE(FD_ISSET(pp[1], &w));
  for (int fd : {sv[0], sv[1], pp[0]}) EXPECT_FALSE(FD_ISSET(fd, &e));
}

// The exception set is POLLPRI: an out-of-band byte.
TEST_P(SelectDescriptorSets, OutOfBandByteIsException) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "!", 1, MSG_OOB), 1);
  fd_set e;
  FD_ZERO(&e);
  FD_SET(sv[0], &e);
  timeval tv{0, 0};
  EXPECT_EQ(api().select(sv[0] + 1, nullptr, nullptr, &e, &tv), 1);
  EXPECT_TRUE(FD_ISSET(sv[0], &e));
}

// select's read set includes POLLHUP and POLLERR, so a never-connected
// stream socket (POLLHUP) and a reset one are "readable".
TEST_P(SelectDescriptorSets, HangupAndErrorCountAsReadable) {
  const int fresh = Socket(SOCK_STREAM);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(fresh, &r);
  FD_SET(fresh, &w);
  FD_SET(sv[0], &r);
  timeval tv{0, 0};
  EXPECT_EQ(api().select(std::max(fresh, sv[0]) + 1, &r, &w, nullptr, &tv), 2);
  EXPECT_TRUE(FD_ISSET(fresh, &r));
  EXPECT_TRUE(FD_ISSET(fresh, &w));
  EXPECT_FALSE(FD_ISSET(sv[0], &r));
}

// A hangup is no exception: a socket reporting only that, in the
// exception set alone, leaves select waiting out its timeout (do_select
// counts only the events of the sets a descriptor is in).
TEST_P(SelectDescriptorSets, EventsOfOtherSetsDoNotEndTheWait) {
  const int fresh = Socket(SOCK_STREAM);  // POLLHUP, POLLOUT
  fd_set ex;
  FD_ZERO(&ex);
  FD_SET(fresh, &ex);
  timeval tv{0, 100000};
  const long start = NowMs();
  EXPECT_EQ(api().select(fresh + 1, nullptr, nullptr, &ex, &tv), 0);
  EXPECT_GE(NowMs() - start, 100);
  EXPECT_FALSE(FD_ISSET(fresh, &ex));
}

// The same with a kernel descriptor in the set, whose hang-up (a pipe's
// read end after its writer closed, in the write set only) select does not
// count: the wait sleeps rather than spins. CPU time, not wall time, tells
// the two apart.
TEST_P(SelectDescriptorSets, UncountedKernelHangupDoesNotSpin) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(pipe(pp), 0);
  ASSERT_EQ(close(pp[1]), 0);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(sv[0], &r);
  FD_SET(pp[0], &w);
  timeval tv{0, 200000};
  rusage before{}, after{};
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &before), 0);
  const long start = NowMs();
  EXPECT_EQ(api().select(std::max(sv[0], pp[0]) + 1, &r, &w, nullptr, &tv), 0);
  EXPECT_GE(NowMs() - start, 200);
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &after), 0);
  auto us = [](const rusage& u) {
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000L +
           u.ru_utime.tv_usec + u.ru_stime.tv_usec;
  };
  EXPECT_LT(us(after) - us(before), 20000);
  EXPECT_FALSE(FD_ISSET(sv[0], &r));
  EXPECT_FALSE(FD_ISSET(pp[0], &w));
  EXPECT_EQ(close(pp[0]), 0);
}

// glibc's select carries microseconds beyond a second into the seconds
// (as kern_select does); a negative part is EINVAL.
TEST_P(SelectDescriptorSets, MicrosecondsCarryIntoSeconds) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  timeval tv{0, 1000000 + 50000};
  const long start = NowMs();
  EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &tv), 0);
  EXPECT_GE(NowMs() - start, 1050);
  for (const timeval bad : {timeval{0, -1}, timeval{-1, 2000000}}) {
    FD_SET(sv[0], &r);
    timeval t = bad;
    EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &t), -1);
    EXPECT_EQ(errno, EINVAL);
  }
}

// nfds may exceed FD_SETSIZE (the sets are then the caller's longer
// bitmaps); select reads and writes back only the words nfds covers, and
// a closed number beyond the descriptor table is not looked at, its word
// not even written (core_sys_select clamps nfds to max_fds).
TEST_P(SelectDescriptorSets, SetsLongerThanFdSetsize) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  // A number beyond this process's descriptor table (FDSize).
  int table = 0;
  if (FILE* f = fopen("/proc/self/status", "re")) {
    char line[256];
    while (fgets(line, sizeof line, f) != nullptr &&
           sscanf(line, "FDSize: %d", &table) != 1) {
    }
    fclose(f);
  }
  ASSERT_GT(table, 0);
  const int beyond = std::max(table, FD_SETSIZE) + 100;
  const int bits = (beyond / 1024 + 1) * 1024;
  std::vector<__fd_mask> r(bits / NFDBITS, 0), w(bits / NFDBITS, 0);
  auto set = [](std::vector<__fd_mask>& v, int fd) {
    v[static_cast<size_t>(fd) / NFDBITS] |= __fd_mask{1} << (fd % NFDBITS);
  };
  auto has = [](const std::vector<__fd_mask>& v, int fd) {
    return ((v[static_cast<size_t>(fd) / NFDBITS] >> (fd % NFDBITS)) & 1) != 0;
  };
  set(r, sv[0]);
  set(r, beyond);  // closed, and beyond the table
  timeval tv{0, 0};
  EXPECT_EQ(api().select(bits, reinterpret_cast<fd_set*>(r.data()), nullptr,
                         nullptr, &tv),
            0);
  ASSERT_EQ(api().send(sv[1], "x", 1, 0), 1);
  set(r, sv[0]);
  set(r, beyond);
  tv = {1, 0};
  EXPECT_EQ(api().select(bits, reinterpret_cast<fd_set*>(r.data()), nullptr,
                         nullptr, &tv),
            1);
  EXPECT_TRUE(has(r, sv[0]));
  EXPECT_TRUE(has(r, beyond));  // beyond the table: neither read nor written
  // A huge nfds is clamped to the table before anything is read.
  char byte;
  ASSERT_EQ(api().recv(sv[0], &byte, 1, 0), 1);  // empty again
  std::fill(r.begin(), r.end(), 0);
  set(r, sv[0]);
  tv = {0, 50000};
  EXPECT_EQ(api().select(1 << 20, reinterpret_cast<fd_set*>(r.data()), nullptr,
                         nullptr, &tv),
            0);
  EXPECT_FALSE(has(r, sv[0]));
  // Words beyond nfds stay as the caller left them.
  ASSERT_LT(sv[1], 64);
  set(w, sv[1]);
  set(w, 200);
  tv = {0, 0};
  EXPECT_EQ(api().select(sv[1] + 1, nullptr,
                         reinterpret_cast<fd_set*>(w.data()), nullptr, &tv),
            1);
  EXPECT_TRUE(has(w, sv[1]));
  EXPECT_TRUE(has(w, 200));
}

// Linux writes the time left back into the timeval.
TEST_P(SelectDescriptorSets, TimeoutIsUpdated) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  timeval tv{0, 50000};
  const long start = NowMs();
  EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &tv), 0);
  EXPECT_GE(NowMs() - start, 50);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
  EXPECT_FALSE(FD_ISSET(sv[0], &r));
  // Ready at once: almost all of the time is left.
  ASSERT_EQ(api().send(sv[1], "x", 1, 0), 1);
  FD_SET(sv[0], &r);
  tv = {5, 0};
  EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &tv), 1);
  const long left_us = tv.tv_sec * 1000000L + tv.tv_usec;
  EXPECT_LT(left_us, 5000000L);
  EXPECT_GT(left_us, 3000000L);
}

TEST_P(SelectDescriptorSets, WokenByWriteFromThread) {
  int sv[2], pp[2];
  Pair(SOCK_STREAM, sv);
  Pipe(pp);
  for (bool via_pipe : {false, true}) {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    FD_SET(pp[0], &r);
    std::thread writer([&] {
      SleepMs(100);
      if (via_pipe) {
        EXPECT_EQ(write(pp[1], "p", 1), 1);
      } else {
        api().send(sv[1], "s", 1, 0);
      }
    });
    timeval tv{5, 0};
    EXPECT_EQ(
        api().select(std::max(sv[0], pp[0]) + 1, &r, nullptr, nullptr, &tv), 1);
    writer.join();
    EXPECT_EQ(FD_ISSET(sv[0], &r) != 0, !via_pipe);
    EXPECT_EQ(FD_ISSET(pp[0], &r) != 0, via_pipe);
    char c;
    if (via_pipe) {
      ASSERT_EQ(read(pp[0], &c, 1), 1);
    } else {
      ASSERT_EQ(api().recv(sv[0], &c, 1, 0), 1);
    }
  }
}

TEST_P(SelectDescriptorSets, BadDescriptorInSet) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int dead = api().dup(sv[0]);
  ASSERT_GE(dead, 0);
  ASSERT_EQ(api().close(dead), 0);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  FD_SET(dead, &r);
  timeval tv{0, 0};
  errno = 0;
  EXPECT_EQ(api().select(std::max(sv[0], dead) + 1, &r, nullptr, nullptr, &tv),
            -1);
  EXPECT_EQ(errno, EBADF);
  // A closed descriptor beyond nfds is not looked at.
  if (dead > sv[0]) {
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    FD_SET(dead, &r);
    EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &tv), 0);
  }
}

TEST_P(SelectDescriptorSets, InvalidArguments) {
  fd_set r;
  FD_ZERO(&r);
  timeval tv{0, 0};
  errno = 0;
  EXPECT_EQ(api().select(-1, &r, nullptr, nullptr, &tv), -1);
  EXPECT_EQ(errno, EINVAL);
  tv = {0, -1};
  errno = 0;
  EXPECT_EQ(api().select(1, &r, nullptr, nullptr, &tv), -1);
  EXPECT_EQ(errno, EINVAL);
  tv = {-1, 0};
  errno = 0;
  EXPECT_EQ(api().select(1, &r, nullptr, nullptr, &tv), -1);
  EXPECT_EQ(errno, EINVAL);
  // No descriptors: a plain sleep.
  tv = {0, 20000};
  EXPECT_EQ(api().select(0, nullptr, nullptr, nullptr, &tv), 0);
}

TEST_P(SelectDescriptorSets, InterruptedBySignal) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const pthread_t self = pthread_self();
  std::thread killer([&] {
    SleepMs(100);
    pthread_kill(self, SIGUSR1);
  });
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  timeval tv{5, 0};
  errno = 0;
  EXPECT_EQ(api().select(sv[0] + 1, &r, nullptr, nullptr, &tv), -1);
  EXPECT_EQ(errno, EINTR);
  killer.join();
  EXPECT_EQ(handler.count(), 1);
}

SHUNT_BOTH_BACKENDS(SelectDescriptorSets);

// ---------------------------------------------------------------------------
class SignalMaskedWaits : public ReadinessTest {};

// A signal blocked by ppoll's mask stays pending and does not interrupt;
// when the mask lets it through, ppoll fails with EINTR at once.
TEST_P(SignalMaskedWaits, PpollMask) {
  ScopedUsr1Counter handler(0);
  ScopedBlockUsr1 blocked;
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
  sigset_t keep_blocked, none;
  sigemptyset(&keep_blocked);
  sigaddset(&keep_blocked, SIGUSR1);
  sigemptyset(&none);
  pollfd p{sv[0], POLLIN, 0};
  const timespec tmo{0, 100 * 1000000};
  const long start = NowMs();
  EXPECT_EQ(api().ppoll(&p, 1, &tmo, &keep_blocked), 0);
  EXPECT_GE(NowMs() - start, 100);
  EXPECT_EQ(handler.count(), 0);
  errno = 0;
  EXPECT_EQ(api().ppoll(&p, 1, &tmo, &none), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(handler.count(), 1);
  // The thread's own mask is back in force afterwards.
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
  // glibc passes a copy of the timeout: the caller's is not updated.
  EXPECT_EQ(tmo.tv_nsec, 100 * 1000000);
}

TEST_P(SignalMaskedWaits, PselectMask) {
  ScopedUsr1Counter handler(0);
  ScopedBlockUsr1 blocked;
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
  sigset_t keep_blocked, none;
  sigemptyset(&keep_blocked);
  sigaddset(&keep_blocked, SIGUSR1);
  sigemptyset(&none);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  const timespec tmo{0, 100 * 1000000};
  EXPECT_EQ(api().pselect(sv[0] + 1, &r, nullptr, nullptr, &tmo, &keep_blocked),
            0);
  EXPECT_EQ(handler.count(), 0);
  FD_SET(sv[0], &r);
  errno = 0;
  EXPECT_EQ(api().pselect(sv[0] + 1, &r, nullptr, nullptr, &tmo, &none), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(handler.count(), 1);
  EXPECT_EQ(tmo.tv_nsec, 100 * 1000000);
}

// A signal arriving during the wait, unblocked by the mask, interrupts it.
TEST_P(SignalMaskedWaits, SignalDuringPpoll) {
  ScopedUsr1Counter handler(SA_RESTART);
  ScopedBlockUsr1 blocked;
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const pthread_t self = pthread_self();
  std::thread killer([&] {
    SleepMs(100);
    pthread_kill(self, SIGUSR1);
  });
  sigset_t none;
  sigemptyset(&none);
  pollfd p{sv[0], POLLIN, 0};
  const timespec tmo{5, 0};
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().ppoll(&p, 1, &tmo, &none), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_LT(NowMs() - start, 2000);
  killer.join();
  EXPECT_EQ(handler.count(), 1);
}

// A null mask behaves like poll/select; readiness wins over nothing.
TEST_P(SignalMaskedWaits, NullMaskAndReadyDescriptors) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "x", 1, 0), 1);
  pollfd p{sv[0], POLLIN, 0};
  EXPECT_EQ(api().ppoll(&p, 1, nullptr, nullptr), 1);
  EXPECT_EQ(p.revents, POLLIN);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[0], &r);
  EXPECT_EQ(api().pselect(sv[0] + 1, &r, nullptr, nullptr, nullptr, nullptr),
            1);
  EXPECT_TRUE(FD_ISSET(sv[0], &r));
  const timespec bad{0, 1000000000};
  errno = 0;
  EXPECT_EQ(api().ppoll(&p, 1, &bad, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(api().pselect(sv[0] + 1, &r, nullptr, nullptr, &bad, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
}

SHUNT_BOTH_BACKENDS(SignalMaskedWaits);

}  // namespace

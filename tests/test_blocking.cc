// Blocking behaviour of AF_UNIX calls: wake-ups from other threads, receive
// and send timeouts, signals, non-blocking modes, low-water marks,
// MSG_WAITALL, datagram queue limits and recvmmsg's timeout.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::BothBackends;
using shunt_test::Later;
using shunt_test::NowMs;
using shunt_test::ReadSysctl;
using shunt_test::ScopedUsr1Counter;
using shunt_test::SleepMs;

static_assert(EWOULDBLOCK == EAGAIN, "Linux has one errno for both");

// Socket timeouts are kept in jiffies (CONFIG_HZ=250 here). A kernel timer
// may end a wait up to a jiffy early measured on CLOCK_MONOTONIC, and more
// on a virtual machine whose jiffies catch up after stolen time (the
// kernel's own 100 ms wait once ended over 10 ms early here), so
// elapsed-time checks allow this much below the timeout: enough to tell a
// wait from none.
constexpr long kSlackMs = 30;
// Generous upper bound for "returned promptly" / "returned after the
// timeout" checks.
constexpr long kLongMs = 2000;

class BlockingTest : public BothBackends {
 protected:
  // Fills fd's stream send path with non-blocking writes; returns the
  // number of bytes queued.
  long FillStream(int fd) {
    std::vector<char> chunk(4096, 'f');
    long total = 0;
    for (int i = 0; i < 100000; ++i) {
      const ssize_t n = api().send(fd, chunk.data(), chunk.size(),
                                   MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        EXPECT_EQ(errno, EAGAIN);
        break;
      }
      total += n;
    }
    // Top up with single bytes until even those do not fit.
    for (int i = 0; i < 100000; ++i) {
      if (api().send(fd, "f", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) break;
      ++total;
    }
    return total;
  }

  // Reads exactly n bytes (blocking, bounded by a receive timeout).
  long Drain(int fd, long n) {
    EXPECT_EQ(SetTimeoutMs(fd, SO_RCVTIMEO, kLongMs), 0);
    std::vector<char> buf(65536);
    long got = 0;
    while (got < n) {
      const ssize_t r =
          api().recv(fd, buf.data(), std::min<long>(buf.size(), n - got), 0);
      if (r <= 0) break;
      got += r;
    }
    return got;
  }
};

// ---------------------------------------------------------------------------
class BlockingReceiveWakeup : public BlockingTest {};

TEST_P(BlockingReceiveWakeup, WokenBySendFromAnotherThread) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
    Later sender(100, [&] { api().send(sv[1], "hello", 5, 0); });
    char buf[16] = {};
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 5) << strerror(errno);
    EXPECT_EQ(std::string(buf, 5), "hello");
  }
}

TEST_P(BlockingReceiveWakeup, StreamWokenByPeerCloseReturnsZero) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
    const int peer = sv[1];
    Untrack(peer);
    Later closer(100, [&] { api().close(peer); });
    char buf[16];
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 0) << strerror(errno);
    EXPECT_LT(NowMs() - start, kLongMs);
  }
}

TEST_P(BlockingReceiveWakeup, StreamWokenByPeerShutWrReturnsZero) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
    Later shut(100, [&] { api().shutdown(sv[1], SHUT_WR); });
    char buf[16];
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 0) << strerror(errno);
    EXPECT_LT(NowMs() - start, kLongMs);
  }
}

// net/unix/af_unix.c: unix_release_sock marks the peer shut down only for
// stream and seqpacket; a datagram reader is not woken by its peer's close
// and waits for its timeout.
TEST_P(BlockingReceiveWakeup, DatagramNotWokenByPeerClose) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 300), 0);
  const int peer = sv[1];
  Untrack(peer);
  Later closer(50, [&] { api().close(peer); });
  char buf[16];
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(NowMs() - start, 300 - kSlackMs);
}

TEST_P(BlockingReceiveWakeup, AcceptWokenByConnect) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(
      api().bind(listener, reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
      0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  ASSERT_EQ(SetTimeoutMs(listener, SO_RCVTIMEO, 5000), 0);
  const int client = Socket(SOCK_STREAM);
  int rc = -2;
  Later connector(100, [&] {
    rc =
        api().connect(client, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  });
  const int s = Track(api().accept(listener, nullptr, nullptr));
  EXPECT_GE(s, 0) << strerror(errno);
  connector.Join();
  EXPECT_EQ(rc, 0);
}

SHUNT_BOTH_BACKENDS(BlockingReceiveWakeup);

// ---------------------------------------------------------------------------
class BlockingReceiveTimeout : public BlockingTest {};

TEST_P(BlockingReceiveTimeout, ExpiresWithEagain) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    // 150 ms is a whole number of jiffies; the µs field is honoured.
    timeval tv{0, 150000};
    ASSERT_EQ(api().setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
              0);
    char buf[4];
    const long start = NowMs();
    errno = 0;
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    const long elapsed = NowMs() - start;
    EXPECT_GE(elapsed, 150 - kSlackMs) << type;
    EXPECT_LT(elapsed, kLongMs) << type;
  }
}

TEST_P(BlockingReceiveTimeout, AppliesToAccept) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(
      api().bind(listener, reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
      0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  ASSERT_EQ(SetTimeoutMs(listener, SO_RCVTIMEO, 120), 0);
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().accept(listener, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(NowMs() - start, 120 - kSlackMs);
}

// A negative tv_sec is stored as a zero timeout: the socket still reads as
// blocking, but a receive fails immediately (net/core/sock.c:
// sock_set_timeout).
TEST_P(BlockingReceiveTimeout, NegativeSecondsFailImmediately) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  timeval tv{-1, 0};
  ASSERT_EQ(api().setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
            0);
  EXPECT_EQ(api().fcntl(sv[0], F_GETFL, 0), O_RDWR);
  char buf[4];
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_LT(NowMs() - start, 100);
}

// Data queued before the timeout is returned without waiting.
TEST_P(BlockingReceiveTimeout, QueuedDataReturnsAtOnce) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 1000), 0);
  ASSERT_EQ(api().send(sv[1], "ab", 2, 0), 2);
  char buf[8];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 2);
  EXPECT_LT(NowMs() - start, 500);
}

SHUNT_BOTH_BACKENDS(BlockingReceiveTimeout);

// ---------------------------------------------------------------------------
class BlockingSendTimeout : public BlockingTest {};

TEST_P(BlockingSendTimeout, FullStreamBufferGivesEagain) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_GT(FillStream(sv[0]), 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 200), 0);
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EAGAIN);
  const long elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 200 - kSlackMs);
  EXPECT_LT(elapsed, kLongMs);
}

// A send larger than the buffer that times out after writing some bytes
// returns the partial count; the peer receives exactly those bytes.
TEST_P(BlockingSendTimeout, LargeSendReturnsPartialCount) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 200), 0);
  const size_t len = 4 << 20;
  std::vector<char> big(len, 'p');
  const ssize_t n = api().send(sv[0], big.data(), len, MSG_NOSIGNAL);
  ASSERT_GT(n, 0) << strerror(errno);
  EXPECT_LT(static_cast<size_t>(n), len);
  EXPECT_EQ(Drain(sv[1], n), n);
  char c;
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_P(BlockingSendTimeout, BlockedSendFreedByReader) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const long filled = FillStream(sv[0]);
  ASSERT_GT(filled, 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  ssize_t sent = -2;
  int err = 0;
  std::atomic<bool> done{false};
  Later writer(0, [&] {
    std::vector<char> msg(100, 'w');
    sent = api().send(sv[0], msg.data(), msg.size(), MSG_NOSIGNAL);
    err = errno;
    done = true;
  });
  SleepMs(100);
  EXPECT_FALSE(done.load());  // still blocked: the buffer is full
  EXPECT_EQ(Drain(sv[1], filled + 100), filled + 100);
  writer.Join();
  EXPECT_EQ(sent, 100) << strerror(err);
}

// A writer blocked on a full buffer is woken when the reader closes. The
// reader died with unread data, so the pending ECONNRESET is reported first
// (net/core/sock.c: sock_alloc_send_pskb checks sock_error before
// SEND_SHUTDOWN); the next send sees EPIPE.
TEST_P(BlockingSendTimeout, BlockedSendGetsResetWhenReaderCloses) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_GT(FillStream(sv[0]), 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  const int peer = sv[1];
  Untrack(peer);
  Later closer(100, [&] { api().close(peer); });
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_LT(NowMs() - start, kLongMs);
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

// The reader shutting down its receive side fails the blocked writer with
// EPIPE.
TEST_P(BlockingSendTimeout, BlockedSendGetsEpipeOnReaderShutRd) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_GT(FillStream(sv[0]), 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  Later shut(100, [&] { api().shutdown(sv[1], SHUT_RD); });
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_LT(NowMs() - start, kLongMs);
}

// A send woken from its wait by shutdown, of the receiver's reading side
// or of its own writing side, fails with EPIPE and no SIGPIPE: it is
// sock_alloc_send_pskb that sees the shutdown (unix_stream_sendmsg's
// out_err). A send that starts shut down raises SIGPIPE.
TEST_P(BlockingSendTimeout, SendWokenByShutdownRaisesNoSigpipe) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  auto take_sigpipe = [&] {
    timespec zero = {0, 0};
    return sigtimedwait(&block, nullptr, &zero) == SIGPIPE;
  };
  take_sigpipe();
  for (int own_side = 0; own_side < 2; ++own_side) {
    SCOPED_TRACE(own_side ? "own SHUT_WR" : "receiver SHUT_RD");
    int sv[2];
    Pair(SOCK_STREAM, sv);
    ASSERT_GT(FillStream(sv[0]), 0);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
    {
      Later shut(100, [&] {
        if (own_side)
          api().shutdown(sv[0], SHUT_WR);
        else
          api().shutdown(sv[1], SHUT_RD);
      });
      errno = 0;
      EXPECT_EQ(api().send(sv[0], "x", 1, 0), -1);
      EXPECT_EQ(errno, EPIPE);
    }
    EXPECT_FALSE(take_sigpipe());
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "x", 1, 0), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(take_sigpipe());
    ClosePair(sv);
  }
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}

// SO_SNDTIMEO bounds the wait for each skb of a stream send, not the
// whole send (sock_alloc_send_pskb reads it afresh): a reader that frees
// room every 200 ms lets a 1 MiB send with a 300 ms timeout finish.
TEST_P(BlockingSendTimeout, TimeoutIsPerSkb) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 300), 0);
  const size_t len = 1 << 20;
  std::thread reader([&] {
    std::vector<char> buf(200000);
    size_t got = 0;
    while (got < len) {
      SleepMs(150);
      const ssize_t n = api().recv(sv[1], buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) got += static_cast<size_t>(n);
      if (n == 0) break;
    }
  });
  std::vector<char> big(len, 's');
  const ssize_t n = api().send(sv[0], big.data(), len, MSG_NOSIGNAL);
  reader.join();
  EXPECT_EQ(n, static_cast<ssize_t>(len)) << strerror(errno);
}

SHUNT_BOTH_BACKENDS(BlockingSendTimeout);

// ---------------------------------------------------------------------------
class BlockingSignalInterruption : public BlockingTest {};

// Without SA_RESTART a handled signal aborts the wait with EINTR. The helper
// unblocks the reader with data if the signal was missed, so the test cannot
// hang.
TEST_P(BlockingSignalInterruption, RecvWithoutRestartGivesEintr) {
  ScopedUsr1Counter handler(0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    for (int i = 0; i < 200 && !done; ++i) SleepMs(10);
    if (!done) api().send(sv[1], "r", 1, 0);
  });
  char buf[4];
  errno = 0;
  const ssize_t n = api().recv(sv[0], buf, sizeof(buf), 0);
  const int err = errno;
  done = true;
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR);
  EXPECT_EQ(handler.count(), 1);
}

// With SA_RESTART and no timeout the receive is restarted after the handler
// and goes on to return the data sent later.
TEST_P(BlockingSignalInterruption, RecvWithRestartIsRestarted) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const pthread_t self = pthread_self();
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    SleepMs(200);
    api().send(sv[1], "data", 4, 0);
  });
  char buf[8];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 4) << strerror(errno);
  EXPECT_EQ(handler.count(), 1);
}

// socket(7): with a receive timeout set, an interrupted call fails with
// EINTR even under SA_RESTART (net/core/sock.c: sock_intr_errno gives
// -ERESTARTSYS only for an infinite timeout).
TEST_P(BlockingSignalInterruption, RecvWithTimeoutIsNotRestarted) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  const pthread_t self = pthread_self();
  Later killer(100, [&] { pthread_kill(self, SIGUSR1); });
  char buf[4];
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_LT(NowMs() - start, kLongMs);
  EXPECT_EQ(handler.count(), 1);
}

TEST_P(BlockingSignalInterruption, SendOnFullBufferGivesEintr) {
  ScopedUsr1Counter handler(0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_GT(FillStream(sv[0]), 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  const pthread_t self = pthread_self();
  Later killer(100, [&] { pthread_kill(self, SIGUSR1); });
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_LT(NowMs() - start, kLongMs);
}

// An interrupted send that already queued some bytes returns their count.
TEST_P(BlockingSignalInterruption, PartialSendReturnsCount) {
  ScopedUsr1Counter handler(0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  const pthread_t self = pthread_self();
  Later killer(100, [&] { pthread_kill(self, SIGUSR1); });
  const size_t len = 4 << 20;
  std::vector<char> big(len, 'p');
  const ssize_t n = api().send(sv[0], big.data(), len, MSG_NOSIGNAL);
  ASSERT_GT(n, 0) << strerror(errno);
  EXPECT_LT(static_cast<size_t>(n), len);
  killer.Join();
  EXPECT_EQ(Drain(sv[1], n), n);
}

// MSG_WAITALL interrupted after a partial read returns the partial count.
TEST_P(BlockingSignalInterruption, PartialWaitallReturnsCount) {
  ScopedUsr1Counter handler(0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  const pthread_t self = pthread_self();
  Later killer(100, [&] { pthread_kill(self, SIGUSR1); });
  char buf[16];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

// With bytes in hand and no timeout, a handled signal ends MSG_WAITALL
// even under SA_RESTART: unix_stream_read_generic returns what it copied
// rather than restart. (The helper completes the read if the signal is
// missed, so the test cannot hang.)
TEST_P(BlockingSignalInterruption, PartialWaitallWithRestartReturnsCount) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    for (int i = 0; i < 100 && !done; ++i) SleepMs(10);
    if (!done) api().send(sv[1], "0123456789abc", 13, 0);
  });
  char buf[16];
  const ssize_t n = api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL);
  done = true;
  EXPECT_EQ(n, 3);
  EXPECT_EQ(handler.count(), 1);
}

// The same for a send that queued part of its bytes.
TEST_P(BlockingSignalInterruption, PartialSendWithRestartReturnsCount) {
  ScopedUsr1Counter handler(SA_RESTART);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const size_t len = 4 << 20;
  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    for (int i = 0; i < 100 && !done; ++i) SleepMs(10);
    if (!done) Drain(sv[1], len);
  });
  std::vector<char> big(len, 'p');
  const ssize_t n = api().send(sv[0], big.data(), len, MSG_NOSIGNAL);
  done = true;
  killer.Join();
  ASSERT_GT(n, 0) << strerror(errno);
  EXPECT_LT(static_cast<size_t>(n), len);
  EXPECT_EQ(handler.count(), 1);
}

// A read ended by a signal while it waits destroys its credentials rather
// than deliver them (unix_stream_read_generic: scm_destroy), though it
// returns the bytes it copied.
TEST_P(BlockingSignalInterruption, InterruptedWaitallDeliversNoCredentials) {
  ScopedUsr1Counter handler(0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_PASSCRED, 1), 0);
  ASSERT_EQ(api().send(sv[1], "0123456789", 10, 0), 10);
  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    for (int i = 0; i < 100 && !done; ++i) SleepMs(10);
    if (!done) api().send(sv[1], "abcdef", 6, 0);  // the read then ends
  });
  char buf[16];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl;
  mh.msg_controllen = sizeof ctl;
  const ssize_t n = api().recvmsg(sv[0], &mh, MSG_WAITALL);
  done = true;
  EXPECT_EQ(n, 10);
  EXPECT_EQ(mh.msg_controllen, 0u);
}

SHUNT_BOTH_BACKENDS(BlockingSignalInterruption);

// ---------------------------------------------------------------------------
class NonBlockingModes : public BlockingTest {
 protected:
  void ExpectEagain(int fd, int flags) {
    char buf[4];
    const long start = NowMs();
    errno = 0;
    EXPECT_EQ(api().recv(fd, buf, sizeof(buf), flags), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(errno, EWOULDBLOCK);
    EXPECT_LT(NowMs() - start, 500);
  }
};

TEST_P(NonBlockingModes, SockNonblock) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type | SOCK_NONBLOCK, sv);
    ExpectEagain(sv[0], 0);
  }
}

TEST_P(NonBlockingModes, FcntlONonblock) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    ExpectEagain(sv[0], 0);
  }
}

TEST_P(NonBlockingModes, IoctlFionbio) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  int one = 1;
  ASSERT_EQ(api().ioctl(sv[0], FIONBIO, &one), 0);
  ExpectEagain(sv[0], 0);
  // Turning it off makes the socket block again (bounded by a timeout).
  int zero = 0;
  ASSERT_EQ(api().ioctl(sv[0], FIONBIO, &zero), 0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 100), 0);
  char buf[4];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), -1);
  EXPECT_GE(NowMs() - start, 100 - kSlackMs);
}

// MSG_DONTWAIT is per call: the descriptor stays blocking.
TEST_P(NonBlockingModes, MsgDontwait) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ExpectEagain(sv[0], MSG_DONTWAIT);
    EXPECT_EQ(api().fcntl(sv[0], F_GETFL, 0), O_RDWR);
  }
}

// read() honours O_NONBLOCK the same way.
TEST_P(NonBlockingModes, ReadOnNonblockingSocket) {
  int sv[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  char buf[4];
  errno = 0;
  EXPECT_EQ(api().read(sv[0], buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_P(NonBlockingModes, SendOnFullBuffer) {
  int sv[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  ASSERT_GT(FillStream(sv[0]), 0);
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(api().write(sv[0], "x", 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_P(NonBlockingModes, AcceptWithNothingPending) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM | SOCK_NONBLOCK);
  ASSERT_EQ(
      api().bind(listener, reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
      0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  errno = 0;
  EXPECT_EQ(api().accept(listener, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
}

SHUNT_BOTH_BACKENDS(NonBlockingModes);

// ---------------------------------------------------------------------------
class StreamReceiveLowWater : public BlockingTest {};

// A blocking stream receive waits until SO_RCVLOWAT bytes are there.
TEST_P(StreamReceiveLowWater, WaitsForLowWaterBytes) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  Later sender(50, [&] {
    api().send(sv[1], "01234", 5, 0);
    SleepMs(150);
    api().send(sv[1], "56789", 5, 0);
  });
  char buf[100];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 10);
  EXPECT_EQ(std::string(buf, 10), "0123456789");
}

// Below the mark, a timed-out receive returns what it has instead of EAGAIN.
TEST_P(StreamReceiveLowWater, TimeoutReturnsPartial) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 200), 0);
  ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
  char buf[100];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 5);
  EXPECT_GE(NowMs() - start, 200 - kSlackMs);
}

TEST_P(StreamReceiveLowWater, NonBlockingIgnoresMark) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
  char buf[100];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 5);
}

// The target is capped at the requested length.
TEST_P(StreamReceiveLowWater, ShortBufferCapsTheMark) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 2000), 0);
  ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
  char buf[3];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 3);
  EXPECT_LT(NowMs() - start, 1000);
}

TEST_P(StreamReceiveLowWater, EofEndsTheWait) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
  Later shut(100, [&] { api().shutdown(sv[1], SHUT_WR); });
  char buf[100];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 5);
  EXPECT_LT(NowMs() - start, kLongMs);
}

// net/unix/af_unix.c: unix_poll reports POLLIN as soon as anything is
// queued; it does not look at SO_RCVLOWAT (unlike TCP).
TEST_P(StreamReceiveLowWater, PollIgnoresMark) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int lowat = 10;
  ASSERT_EQ(
      api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
      0);
  pollfd p{sv[0], POLLIN, 0};
  EXPECT_EQ(api().poll(&p, 1, 0), 0);
  ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
  p.revents = 0;
  EXPECT_EQ(api().poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLIN);
}

// Datagram and seqpacket receives return one record regardless of the mark.
TEST_P(StreamReceiveLowWater, RecordTypesIgnoreMark) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    const int lowat = 10;
    ASSERT_EQ(
        api().setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)),
        0);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 2000), 0);
    ASSERT_EQ(api().send(sv[1], "01234", 5, 0), 5);
    char buf[100];
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 5);
    EXPECT_LT(NowMs() - start, 1000);
  }
}

SHUNT_BOTH_BACKENDS(StreamReceiveLowWater);

// ---------------------------------------------------------------------------
class StreamWaitAll : public BlockingTest {};

TEST_P(StreamWaitAll, WaitsForFullLengthInPieces) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  Later sender(50, [&] {
    api().send(sv[1], "abc", 3, 0);
    SleepMs(50);
    api().send(sv[1], "def", 3, 0);
    SleepMs(50);
    api().send(sv[1], "ghiXYZ", 6, 0);
  });
  char buf[9];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 9);
  EXPECT_EQ(std::string(buf, 9), "abcdefghi");
  sender.Join();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 3);
}

TEST_P(StreamWaitAll, TimeoutReturnsPartial) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 200), 0);
  ASSERT_EQ(api().send(sv[1], "abcd", 4, 0), 4);
  char buf[9];
  const long start = NowMs();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 4);
  EXPECT_GE(NowMs() - start, 200 - kSlackMs);
}

TEST_P(StreamWaitAll, PeerCloseReturnsPartial) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  ASSERT_EQ(api().send(sv[1], "abcd", 4, 0), 4);
  const int peer = sv[1];
  Untrack(peer);
  Later closer(100, [&] { api().close(peer); });
  char buf[9];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 4);
  closer.Join();
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 0);
}

// MSG_WAITALL with MSG_DONTWAIT returns what is there.
TEST_P(StreamWaitAll, DontwaitWins) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "abcd", 4, 0), 4);
  char buf[9];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT), 4);
}

// Record types return one record even with MSG_WAITALL.
TEST_P(StreamWaitAll, RecordTypesReturnOneRecord) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 2000), 0);
    ASSERT_EQ(api().send(sv[1], "abcd", 4, 0), 4);
    ASSERT_EQ(api().send(sv[1], "efgh", 4, 0), 4);
    char buf[9];
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 4) << type;
    EXPECT_LT(NowMs() - start, 1000);
  }
}

SHUNT_BOTH_BACKENDS(StreamWaitAll);

// ---------------------------------------------------------------------------
class BlockingDatagramSender : public BlockingTest {
 protected:
  // A receiver bound to a name and an unbound sender.
  void MakeEnds(int* receiver, int* sender, sockaddr_un* addr) {
    *addr = TempAddr("r");
    *receiver = Socket(SOCK_DGRAM);
    ASSERT_EQ(api().bind(*receiver, reinterpret_cast<const sockaddr*>(addr),
                         sizeof(*addr)),
              0);
    *sender = Socket(SOCK_DGRAM);
  }
  int FillQueue(int sender, const sockaddr_un& addr) {
    int n = 0;
    while (n < 10000 && api().sendto(sender, "d", 1, MSG_DONTWAIT,
                                     reinterpret_cast<const sockaddr*>(&addr),
                                     sizeof(addr)) == 1) {
      ++n;
    }
    EXPECT_EQ(errno, EAGAIN);
    return n;
  }
};

// net/unix/af_unix.c: unix_recvq_full is "queue length > max_dgram_qlen",
// so one more than net.unix.max_dgram_qlen datagrams fit.
TEST_P(BlockingDatagramSender, QueueHoldsMaxDgramQlenPlusOne) {
  int receiver, sender;
  sockaddr_un addr;
  MakeEnds(&receiver, &sender, &addr);
  const long qlen = ReadSysctl("/proc/sys/net/unix/max_dgram_qlen");
  ASSERT_GT(qlen, 0);
  EXPECT_EQ(FillQueue(sender, addr), qlen + 1);
  // Connecting to the receiver changes nothing: it is not connected back.
  const int other = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().connect(other, reinterpret_cast<const sockaddr*>(&addr),
                          sizeof(addr)),
            0);
  errno = 0;
  EXPECT_EQ(api().send(other, "d", 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_P(BlockingDatagramSender, BlockedSenderFreedByReceive) {
  int receiver, sender;
  sockaddr_un addr;
  MakeEnds(&receiver, &sender, &addr);
  const int queued = FillQueue(sender, addr);
  ASSERT_GT(queued, 0);
  ASSERT_EQ(SetTimeoutMs(sender, SO_SNDTIMEO, 5000), 0);
  ssize_t sent = -2;
  std::atomic<bool> done{false};
  Later writer(0, [&] {
    sent = api().sendto(sender, "last", 4, 0,
                        reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    done = true;
  });
  SleepMs(100);
  EXPECT_FALSE(done.load());
  char buf[8];
  ASSERT_EQ(api().recv(receiver, buf, sizeof(buf), 0), 1);
  writer.Join();
  EXPECT_EQ(sent, 4);
  // The blocked datagram went to the back of the queue.
  for (int i = 1; i < queued; ++i) {
    ASSERT_EQ(api().recv(receiver, buf, sizeof(buf), MSG_DONTWAIT), 1);
  }
  EXPECT_EQ(api().recv(receiver, buf, sizeof(buf), MSG_DONTWAIT), 4);
}

TEST_P(BlockingDatagramSender, SendTimeoutOnFullQueue) {
  int receiver, sender;
  sockaddr_un addr;
  MakeEnds(&receiver, &sender, &addr);
  ASSERT_GT(FillQueue(sender, addr), 0);
  ASSERT_EQ(SetTimeoutMs(sender, SO_SNDTIMEO, 150), 0);
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(
      api().sendto(sender, "d", 1, 0, reinterpret_cast<const sockaddr*>(&addr),
                   sizeof(addr)),
      -1);
  EXPECT_EQ(errno, EAGAIN);
  const long elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 150 - kSlackMs);
  EXPECT_LT(elapsed, kLongMs);
}

// The queue-length limit is skipped when the receiver is connected back to
// the sender (unix_dgram_sendmsg checks unix_peer(other) != sk), so a
// socketpair is limited only by the send buffer.
TEST_P(BlockingDatagramSender, SocketpairIsNotLimitedByQueueLength) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  const long qlen = ReadSysctl("/proc/sys/net/unix/max_dgram_qlen");
  int n = 0;
  while (n < 100000 && api().send(sv[0], "d", 1, MSG_DONTWAIT) == 1) ++n;
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GT(n, qlen + 1);
  // The writer blocked on its send buffer is freed by a receive too.
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 5000), 0);
  ssize_t sent = -2;
  Later writer(0, [&] { sent = api().send(sv[0], "e", 1, 0); });
  SleepMs(50);
  ASSERT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 2000), 0);
  char buf[4];
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 1);
  }
  writer.Join();
  EXPECT_EQ(sent, 1);
}

SHUNT_BOTH_BACKENDS(BlockingDatagramSender);

// ---------------------------------------------------------------------------
class RecvmmsgTimeout : public BlockingTest {
 protected:
  struct Batch {
    char bufs[4][16];
    iovec iov[4];
    mmsghdr msgs[4];
  };
  void Init(Batch* b) {
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < 4; ++i) {
      b->iov[i] = {b->bufs[i], sizeof(b->bufs[i])};
      b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
      b->msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
};

// net/socket.c: do_recvmmsg checks the timeout only after each datagram;
// the wait for the first one is bounded by SO_RCVTIMEO alone.
TEST_P(RecvmmsgTimeout, TimeoutDoesNotBoundFirstWait) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 300), 0);
  Batch b;
  Init(&b);
  timespec tmo{0, 10 * 1000000};
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, 0, &tmo), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(NowMs() - start, 300 - kSlackMs);
  // Not updated on failure.
  EXPECT_EQ(tmo.tv_sec, 0);
  EXPECT_EQ(tmo.tv_nsec, 10 * 1000000);
}

// An expired timeout stops the batch after the datagram in hand and is
// written back as zero.
TEST_P(RecvmmsgTimeout, ExpiredTimeoutStopsAfterADatagram) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 2000), 0);
  ASSERT_EQ(api().send(sv[1], "one", 3, 0), 3);
  Batch b;
  Init(&b);
  timespec tmo{0, 1};
  const long start = NowMs();
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 4, 0, &tmo), 1);
  EXPECT_LT(NowMs() - start, 1000);
  EXPECT_EQ(b.msgs[0].msg_len, 3u);
  EXPECT_EQ(tmo.tv_sec, 0);
  EXPECT_EQ(tmo.tv_nsec, 0);
}

// With time left, later datagrams are waited for with the socket's own
// blocking rules; a failure after some datagrams returns their count.
TEST_P(RecvmmsgTimeout, LaterWaitsUseSocketTimeout) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 300), 0);
  ASSERT_EQ(api().send(sv[1], "one", 3, 0), 3);
  Batch b;
  Init(&b);
  timespec tmo{10, 0};
  const long start = NowMs();
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, 0, &tmo), 1);
  const long elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 300 - kSlackMs);
  EXPECT_LT(elapsed, kLongMs);
  // The time left is the one computed after the last datagram received,
  // before the failed wait.
  const long left_ms = tmo.tv_sec * 1000 + tmo.tv_nsec / 1000000;
  EXPECT_LE(left_ms, 10000);
  EXPECT_GT(left_ms, 10000 - 200);
  // The EAGAIN is not left behind as a socket error.
  int err = -1;
  socklen_t len = sizeof(err);
  ASSERT_EQ(api().getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
}

TEST_P(RecvmmsgTimeout, FullBatchReturnsAtOnce) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().send(sv[1], "one", 3, 0), 3);
  ASSERT_EQ(api().send(sv[1], "three", 5, 0), 5);
  Batch b;
  Init(&b);
  timespec tmo{5, 0};
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, 0, &tmo), 2);
  EXPECT_EQ(b.msgs[0].msg_len, 3u);
  EXPECT_EQ(b.msgs[1].msg_len, 5u);
  const long left_ms = tmo.tv_sec * 1000 + tmo.tv_nsec / 1000000;
  EXPECT_LE(left_ms, 5000);
  EXPECT_GT(left_ms, 5000 - kLongMs);
}

// MSG_WAITFORONE blocks for the first datagram only.
TEST_P(RecvmmsgTimeout, WaitForOne) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
  Batch b;
  Init(&b);
  {
    Later sender(100, [&] {
      api().send(sv[1], "a", 1, 0);
      api().send(sv[1], "bb", 2, 0);
    });
    const long start = NowMs();
    const int n = api().recvmmsg(sv[0], b.msgs, 4, MSG_WAITFORONE, nullptr);
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 2);
    EXPECT_LT(NowMs() - start, kLongMs);
    sender.Join();
    if (n == 1) {
      char buf[4];
      EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 2);
    }
  }
  ASSERT_EQ(api().send(sv[1], "a", 1, 0), 1);
  ASSERT_EQ(api().send(sv[1], "bb", 2, 0), 2);
  Init(&b);
  const long start = NowMs();
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 4, MSG_WAITFORONE, nullptr), 2);
  EXPECT_LT(NowMs() - start, 1000);
  EXPECT_EQ(b.msgs[1].msg_len, 2u);
}

TEST_P(RecvmmsgTimeout, InvalidTimeout) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().send(sv[1], "a", 1, 0), 1);
  Batch b;
  Init(&b);
  for (timespec tmo :
       {timespec{0, 1000000000}, timespec{0, -1}, timespec{-1, 0}}) {
    errno = 0;
    EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, 0, &tmo), -1);
    EXPECT_EQ(errno, EINVAL);
  }
  // Nothing was consumed.
  char buf[4];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 1);
}

TEST_P(RecvmmsgTimeout, ZeroLengthVectorAndNonBlocking) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  Batch b;
  Init(&b);
  timespec tmo{1, 0};
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 0, 0, &tmo), 0);
  errno = 0;
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, MSG_DONTWAIT, &tmo), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// A handled signal while recvmmsg waits for its second datagram ends the
// call with the one it has, even under SA_RESTART: do_recvmmsg returns
// the count, never restarts, and leaves the interruption in SO_ERROR,
// sock_intr_errno's ERESTARTSYS (512) with no receive timeout, EINTR with
// one. sendmmsg's next message likewise (__sys_sendmmsg).
TEST_P(RecvmmsgTimeout, SignalAfterTheFirstDatagramEndsTheCall) {
  ScopedUsr1Counter handler(SA_RESTART);
  for (const bool with_timeout : {false, true}) {
    SCOPED_TRACE(with_timeout);
    int sv[2];
    Pair(SOCK_DGRAM, sv);
    if (with_timeout) {
      ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
    }
    ASSERT_EQ(api().send(sv[1], "a", 1, 0), 1);
    const pthread_t self = pthread_self();
    Later killer(100, [&] {
      pthread_kill(self, SIGUSR1);
      SleepMs(400);
      api().send(sv[1], "b", 1, 0);
    });
    Batch b;
    Init(&b);
    const long start = NowMs();
    EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, 0, nullptr), 1);
    EXPECT_LT(NowMs() - start, 400);
    int err = 0;
    socklen_t len = sizeof err;
    ASSERT_EQ(api().getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, with_timeout ? EINTR : 512);
    killer.Join();
  }
}

TEST_P(RecvmmsgTimeout, SignalAfterTheFirstMessageEndsSendmmsg) {
  ScopedUsr1Counter handler(SA_RESTART);
  const int r = Socket(SOCK_DGRAM);
  const shunt_test::UnixName name =
      shunt_test::AbstractName("mmsg-r-" + std::to_string(getpid()));
  ASSERT_EQ(api().bind(r, name.sa(), name.len), 0);
  const int s = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().connect(s, name.sa(), name.len), 0);
  // Fill the receiver's queue up to one free slot (max_dgram_qlen).
  int queued = 0;
  while (api().send(s, "q", 1, MSG_DONTWAIT) == 1) ++queued;
  ASSERT_GT(queued, 0);
  char c;
  ASSERT_EQ(api().recv(r, &c, 1, 0), 1);
  const pthread_t self = pthread_self();
  Later killer(100, [&] {
    pthread_kill(self, SIGUSR1);
    SleepMs(400);
    api().recv(r, &c, 1, 0);
  });
  char m1[] = "1", m2[] = "2";
  iovec iov[2] = {{m1, 1}, {m2, 1}};
  mmsghdr msgs[2] = {};
  msgs[0].msg_hdr.msg_iov = &iov[0];
  msgs[0].msg_hdr.msg_iovlen = 1;
  msgs[1].msg_hdr.msg_iov = &iov[1];
  msgs[1].msg_hdr.msg_iovlen = 1;
  const long start = NowMs();
  EXPECT_EQ(api().sendmmsg(s, msgs, 2, 0), 1);
  EXPECT_LT(NowMs() - start, 400);
}

// __sys_recvmmsg writes the time left back once, after the datagrams are
// taken: a timeout it cannot write fails the call with EFAULT, and the
// datagrams are gone.
TEST_P(RecvmmsgTimeout, UnwritableTimeoutFailsAfterReceiving) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().send(sv[1], "a", 1, 0), 1);
  ASSERT_EQ(api().send(sv[1], "b", 1, 0), 1);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  *static_cast<timespec*>(page) = timespec{5, 0};
  ASSERT_EQ(mprotect(page, 4096, PROT_READ), 0);
  Batch b;
  Init(&b);
  EXPECT_EQ(api().recvmmsg(sv[0], b.msgs, 2, MSG_DONTWAIT,
                           static_cast<timespec*>(page)),
            -1);
  EXPECT_EQ(errno, EFAULT);
  char buf[4];
  EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  munmap(page, 4096);
}

// do_recvmmsg takes as many datagrams as vlen asks for, beyond UIO_MAXIOV
// (only sendmmsg is capped).
TEST_P(RecvmmsgTimeout, VectorLongerThanUioMaxiov) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  const int big = 4 << 20;
  ASSERT_EQ(
      api().setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big), 0);
  constexpr unsigned kCount = 1100;
  for (unsigned i = 0; i < kCount; ++i)
    ASSERT_EQ(api().send(sv[1], "d", 1, MSG_DONTWAIT), 1) << i;
  std::vector<char> bufs(kCount);
  std::vector<iovec> iov(kCount);
  std::vector<mmsghdr> msgs(kCount);
  for (unsigned i = 0; i < kCount; ++i) {
    iov[i] = {&bufs[i], 1};
    msgs[i] = mmsghdr{};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  EXPECT_EQ(api().recvmmsg(sv[0], msgs.data(), kCount, MSG_DONTWAIT, nullptr),
            static_cast<int>(kCount));
}

SHUNT_BOTH_BACKENDS(RecvmmsgTimeout);

}  // namespace

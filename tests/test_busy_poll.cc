// Blocking stream reads under the busy-poll wait policy (SHUNT_SO_SPIN_NS):
// a read that spins before it sleeps must end exactly as the kernel's
// sleeping read does, whatever ends the wait. On shunt every socket here
// spins for up to 1 s, far longer than any event the tests wait for, so the
// event arrives during the spin; the kernel sockets have no such option and
// just sleep. (A signal during a spin is docs/DIFFERENCES.md #6a.)
#include <errno.h>
#include <shunt/shunt.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "backend.h"

namespace {

using shunt_test::BothBackends;
using shunt_test::Later;
using shunt_test::NowMs;
using shunt_test::ShuntApi;
using shunt_test::SleepMs;

constexpr int kSpinNs = 1000000000;  // 1 s, per spin
// The events below come after kEventMs; "promptly" is well under a spin.
constexpr long kEventMs = 30;
constexpr long kPromptMs = 800;

class BusyPollWait : public BothBackends {
 protected:
  // A stream pair whose sockets spin (on shunt) for up to `spin_ns`.
  void SpinningPair(int sv[2], int spin_ns = kSpinNs) {
    Pair(SOCK_STREAM, sv);
    if (&api() != &ShuntApi()) return;
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(api().setsockopt(sv[i], SOL_SHUNT, SHUNT_SO_SPIN_NS, &spin_ns,
                                 sizeof spin_ns),
                0);
    }
  }
};

// Bytes sent while the reader spins are read, by every receive call, into
// a flat buffer and into two iovec entries.
TEST_P(BusyPollWait, BytesSentDuringTheWaitAreRead) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  char buf[16] = {};
  {
    Later send(kEventMs, [&] { SendAll(sv[1], "recv"); });
    EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "recv");
  }
  {
    Later send(kEventMs, [&] { SendAll(sv[1], "read"); });
    EXPECT_EQ(api().read(sv[0], buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "read");
  }
  {
    Later send(kEventMs, [&] { SendAll(sv[1], "recvmsg!"); });
    char a[3], b[8];
    iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    m.msg_flags = -1;
    m.msg_controllen = 0;
    EXPECT_EQ(api().recvmsg(sv[0], &m, 0), 8);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 5), "recvmsg!");
    EXPECT_EQ(m.msg_flags, 0);
  }
}

// A read that finds bytes already queued takes what is there up to its
// size, and leaves the rest: recvmmsg, which has no fast path before the
// busy-poll, reads with the busy-poll's locked read here.
TEST_P(BusyPollWait, ReadTakesWhatIsQueuedUpToItsSize) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  for (const char* s : {"ab", "cd", "ef"}) SendAll(sv[1], s);
  char buf[5];
  iovec iov{buf, sizeof buf};
  mmsghdr mm{};
  mm.msg_hdr.msg_iov = &iov;
  mm.msg_hdr.msg_iovlen = 1;
  EXPECT_EQ(api().recvmmsg(sv[0], &mm, 1, 0, nullptr), 1);
  EXPECT_EQ(mm.msg_len, 5u);
  EXPECT_EQ(std::string(buf, 5), "abcde");
  EXPECT_EQ(RecvString(sv[0], 10), "f");
}

// SO_RCVTIMEO bounds the whole wait, spin included: EAGAIN at the timeout,
// not at twice it (a general path that started the timeout again).
TEST_P(BusyPollWait, TimeoutEndsTheWait) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 300), 0);
  char buf[4];
  const long start = NowMs();
  errno = 0;
  EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  const long elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 270);  // see test_blocking.cc: kSlackMs
  EXPECT_LT(elapsed, 550);
}

// The peer's shutdown(SHUT_WR) or close ends the wait with end of file.
TEST_P(BusyPollWait, PeerShutdownOrCloseEndsTheWaitWithEof) {
  for (bool close_peer : {false, true}) {
    SCOPED_TRACE(close_peer ? "close" : "shutdown");
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
    if (close_peer) Untrack(sv[1]);
    char buf[4];
    const long start = NowMs();
    {
      Later end(kEventMs, [&] {
        if (close_peer) {
          EXPECT_EQ(api().close(sv[1]), 0);
        } else {
          EXPECT_EQ(api().shutdown(sv[1], SHUT_WR), 0);
        }
      });
      EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 0);
    }
    EXPECT_LT(NowMs() - start, kPromptMs);
  }
}

// The reader's own shutdown(SHUT_RD) from another thread ends its wait.
TEST_P(BusyPollWait, OwnShutdownEndsTheWait) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  char buf[4];
  const long start = NowMs();
  {
    Later end(kEventMs, [&] { EXPECT_EQ(api().shutdown(sv[0], SHUT_RD), 0); });
    EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 0);
  }
  EXPECT_LT(NowMs() - start, kPromptMs);
}

// A peer closing with bytes of ours unread resets the connection: the
// waiting reader gets ECONNRESET (unix_release_sock sets sk_err).
TEST_P(BusyPollWait, PeerClosingWithUnreadBytesGivesEconnreset) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  SendAll(sv[0], "unread");
  Untrack(sv[1]);
  char buf[4];
  {
    Later end(kEventMs, [&] { EXPECT_EQ(api().close(sv[1]), 0); });
    errno = 0;
    EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, ECONNRESET);
  }
}

// Reads the busy-poll leaves to the general path still wait as they must:
// a low-water mark and MSG_WAITALL collect bytes from several sends.
TEST_P(BusyPollWait, LowWaterMarkAndWaitAllCollectSeveralSends) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  for (bool waitall : {false, true}) {
    SCOPED_TRACE(waitall ? "MSG_WAITALL" : "SO_RCVLOWAT");
    ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_RCVLOWAT, waitall ? 1 : 6), 0);
    Later send(kEventMs, [&] {
      SendAll(sv[1], "abc");
      SleepMs(kEventMs);
      SendAll(sv[1], "def");
    });
    char buf[6];
    EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, waitall ? MSG_WAITALL : 0), 6);
    EXPECT_EQ(std::string(buf, 6), "abcdef");
  }
}

// The low-water mark is read when a read begins (unix_stream_read_generic:
// sock_rcvlowat before its loop): one raised while the read waits applies
// to later reads only.
TEST_P(BusyPollWait, LowWaterMarkRaisedDuringTheWaitIsForLaterReads) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv));
  ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 3000), 0);
  char buf[16];
  {
    Later act(100, [&] {
      EXPECT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_RCVLOWAT, 10), 0);
      SleepMs(100);
      SendAll(sv[1], "abc");
    });
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 3);
    EXPECT_EQ(std::string(buf, 3), "abc");
    EXPECT_LT(NowMs() - start, 1500);  // not at the 3 s timeout
  }
  // The next read waits for the mark.
  SendAll(sv[1], "defg");
  Later more(100, [&] { SendAll(sv[1], "hijklm"); });
  EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 10);
  EXPECT_EQ(std::string(buf, 10), "defghijklm");
}

// A spin that runs out goes to sleep, without a second spin, and is woken
// by the bytes that come later. The CPU time the read burns shows the
// spins: one is at most 40 ms (less if the thread is preempted meanwhile).
TEST_P(BusyPollWait, SpinThatRunsOutSleepsWithoutSpinningAgain) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(SpinningPair(sv, 40000000));  // 40 ms
  char buf[8];
  Later send(300, [&] { SendAll(sv[1], "late"); });
  timespec cpu0{}, cpu1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, 0), 4);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
  EXPECT_EQ(std::string(buf, 4), "late");
  const double cpu_ms =
      (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
  EXPECT_LT(cpu_ms, 70);
}

SHUNT_BOTH_BACKENDS(BusyPollWait);

}  // namespace

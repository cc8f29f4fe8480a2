// shutdown(2) and close(2) on AF_UNIX sockets: what each side sees after a
// half or full shutdown, after the peer closes (with and without unread
// data), SIGPIPE, SO_ERROR, and descriptor sharing.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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
using shunt_test::SleepMs;

std::atomic<int> g_sigpipes{0};
void CountSigpipe(int) { g_sigpipes.fetch_add(1); }

// Counts SIGPIPE deliveries (instead of dying of them) for one test.
class SigpipeCounter {
 public:
  SigpipeCounter() {
    g_sigpipes = 0;
    struct sigaction sa {};
    sa.sa_handler = CountSigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, &old_);
  }
  ~SigpipeCounter() { sigaction(SIGPIPE, &old_, nullptr); }
  int count() const { return g_sigpipes.load(); }

 private:
  struct sigaction old_ {};
};

class ShutdownTest : public BothBackends {
 protected:
  int SoError(int fd) {
    int v = -1;
    socklen_t len = sizeof(v);
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    return v;
  }

  // recv with MSG_DONTWAIT; returns the result and stores errno.
  ssize_t Recv(int fd, std::string* out, int* err) {
    char buf[64];
    errno = 0;
    const ssize_t n = api().recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    *err = errno;
    if (n > 0 && out != nullptr) out->assign(buf, n);
    return n;
  }

  // Sends one byte; returns -errno or the count.
  long SendErr(int fd, int flags) {
    errno = 0;
    const ssize_t n = api().send(fd, "s", 1, flags | MSG_DONTWAIT);
    return n < 0 ? -errno : n;
  }
};

// ---------------------------------------------------------------------------
class ShutdownReadSide : public ShutdownTest {};

// Data queued before SHUT_RD is still delivered; after that the socket
// reads end-of-file, even when blocking.
TEST_P(ShutdownReadSide, QueuedDataStillReadableThenEof) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
    std::string got;
    int err;
    EXPECT_EQ(Recv(sv[0], &got, &err), 3) << type;
    EXPECT_EQ(got, "abc");
    EXPECT_EQ(Recv(sv[0], nullptr, &err), 0) << type;
    char c;
    EXPECT_EQ(api().recv(sv[0], &c, 1, 0), 0) << type;
    // A second SHUT_RD is harmless.
    EXPECT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
  }
}

// net/unix/af_unix.c: unix_dgram_recvmsg turns "nothing queued" into 0
// after SHUT_RD only when it would have waited (or for seqpacket): a
// non-blocking datagram receive still fails with EAGAIN.
TEST_P(ShutdownReadSide, DatagramEofOnlyWhenBlocking) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
  std::string got;
  int err;
  EXPECT_EQ(Recv(sv[0], &got, &err), 3);
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(Recv(sv[0], nullptr, &err), -1);
  EXPECT_EQ(err, EAGAIN);
  char c;
  EXPECT_EQ(api().recv(sv[0], &c, 1, 0), 0);
}

// For connection types SHUT_RD also shuts the peer's sending side.
TEST_P(ShutdownReadSide, ConnectedPeerSendGetsEpipe) {
  SigpipeCounter pipes;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
    EXPECT_EQ(SendErr(sv[1], MSG_NOSIGNAL), -EPIPE) << type;
    // The reverse direction still works.
    EXPECT_EQ(SendErr(sv[0], 0), 1) << type;
    int err;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 1) << type;
  }
  EXPECT_EQ(pipes.count(), 0);
}

// net/unix/af_unix.c: unix_dgram_sendmsg refuses a receiver shut for
// reading with EPIPE, and raises no SIGPIPE.
TEST_P(ShutdownReadSide, DatagramSenderGetsEpipe) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_RD), 0);
  EXPECT_EQ(SendErr(sv[1], 0), -EPIPE);
  EXPECT_EQ(pipes.count(), 0);
  // Unconnected sender to a bound receiver shut for reading.
  const sockaddr_un a = TempAddr("r");
  const int receiver = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(receiver, a), 0);
  ASSERT_EQ(api().shutdown(receiver, SHUT_RD), 0);
  const int sender = Socket(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(api().sendto(sender, "x", 1, 0,
                         reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
            -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pipes.count(), 0);
}

// A receive blocked in another thread is woken by SHUT_RD and returns 0.
TEST_P(ShutdownReadSide, WakesBlockedReceiver) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_RCVTIMEO, 5000), 0);
    std::thread shut([&] {
      SleepMs(100);
      api().shutdown(sv[0], SHUT_RD);
    });
    char c;
    const long start = NowMs();
    EXPECT_EQ(api().recv(sv[0], &c, 1, 0), 0) << type;
    EXPECT_LT(NowMs() - start, 2000) << type;
    shut.join();
  }
}

SHUNT_BOTH_BACKENDS(ShutdownReadSide);

// ---------------------------------------------------------------------------
class ShutdownWriteSide : public ShutdownTest {};

// Stream EPIPE comes with SIGPIPE unless MSG_NOSIGNAL; write() has no
// flags and always raises it.
TEST_P(ShutdownWriteSide, StreamSendGetsEpipeAndSigpipe) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  EXPECT_EQ(SendErr(sv[0], 0), -EPIPE);
  EXPECT_EQ(pipes.count(), 1);
  EXPECT_EQ(SendErr(sv[0], MSG_NOSIGNAL), -EPIPE);
  EXPECT_EQ(pipes.count(), 1);
  errno = 0;
  EXPECT_EQ(api().write(sv[0], "w", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pipes.count(), 2);
  msghdr mh{};
  iovec iov{const_cast<char*>("m"), 1};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  errno = 0;
  EXPECT_EQ(api().sendmsg(sv[0], &mh, 0), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pipes.count(), 3);
}

// Seqpacket sends go through unix_dgram_sendmsg, which never raises
// SIGPIPE: EPIPE arrives without a signal even without MSG_NOSIGNAL.
TEST_P(ShutdownWriteSide, SeqpacketEpipeHasNoSigpipe) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_SEQPACKET, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  EXPECT_EQ(SendErr(sv[0], 0), -EPIPE);
  errno = 0;
  EXPECT_EQ(api().write(sv[0], "w", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pipes.count(), 0);
}

// With SIGPIPE ignored the call just fails with EPIPE.
TEST_P(ShutdownWriteSide, IgnoredSigpipe) {
  struct sigaction ign = {};
  struct sigaction old = {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ASSERT_EQ(sigaction(SIGPIPE, &ign, &old), 0);
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  EXPECT_EQ(SendErr(sv[0], 0), -EPIPE);
  sigaction(SIGPIPE, &old, nullptr);
}

// The peer reads what was sent, then end-of-file, repeatedly; the other
// direction keeps working.
TEST_P(ShutdownWriteSide, PeerSeesEofAfterData) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[0], "xy", 2, 0), 2);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    std::string got;
    int err;
    EXPECT_EQ(Recv(sv[1], &got, &err), 2) << type;
    EXPECT_EQ(got, "xy");
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(SendErr(sv[1], 0), 1) << type;
    EXPECT_EQ(Recv(sv[0], &got, &err), 1) << type;
    EXPECT_EQ(SoError(sv[1]), 0);
  }
}

// Datagram shutdown is local: the sender fails with EPIPE, but the peer is
// not told and sees no end-of-file.
TEST_P(ShutdownWriteSide, DatagramIsLocalOnly) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  EXPECT_EQ(SendErr(sv[0], 0), -EPIPE);
  int err;
  EXPECT_EQ(Recv(sv[1], nullptr, &err), -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(SendErr(sv[1], 0), 1);
  EXPECT_EQ(Recv(sv[0], nullptr, &err), 1);
  EXPECT_EQ(pipes.count(), 0);
}

// An unconnected datagram socket can be shut down; sendto then fails.
TEST_P(ShutdownWriteSide, UnconnectedDatagram) {
  const sockaddr_un a = TempAddr("r");
  const int receiver = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(receiver, a), 0);
  const int sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().shutdown(sender, SHUT_WR), 0);
  errno = 0;
  EXPECT_EQ(api().sendto(sender, "x", 1, MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
            -1);
  EXPECT_EQ(errno, EPIPE);
}

SHUNT_BOTH_BACKENDS(ShutdownWriteSide);

// ---------------------------------------------------------------------------
class ShutdownBothSides : public ShutdownTest {};

TEST_P(ShutdownBothSides, ConnectedTypes) {
  SigpipeCounter pipes;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[1], "q", 1, 0), 1);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_RDWR), 0);
    int err;
    EXPECT_EQ(Recv(sv[0], nullptr, &err), 1) << type;
    EXPECT_EQ(Recv(sv[0], nullptr, &err), 0) << type;
    EXPECT_EQ(SendErr(sv[0], MSG_NOSIGNAL), -EPIPE) << type;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(SendErr(sv[1], MSG_NOSIGNAL), -EPIPE) << type;
    // Shutdown reports no error to either side.
    EXPECT_EQ(SoError(sv[0]), 0);
    EXPECT_EQ(SoError(sv[1]), 0);
  }
  EXPECT_EQ(pipes.count(), 0);
}

// Both ends shutting the halves in turn has the same result.
TEST_P(ShutdownBothSides, HalvesFromEachEnd) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  ASSERT_EQ(api().shutdown(sv[1], SHUT_WR), 0);
  int err;
  EXPECT_EQ(Recv(sv[0], nullptr, &err), 0);
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
  EXPECT_EQ(SendErr(sv[0], MSG_NOSIGNAL), -EPIPE);
  EXPECT_EQ(SendErr(sv[1], MSG_NOSIGNAL), -EPIPE);
}

SHUNT_BOTH_BACKENDS(ShutdownBothSides);

// ---------------------------------------------------------------------------
class ShutdownErrors : public ShutdownTest {};

TEST_P(ShutdownErrors, InvalidHow) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  for (int how : {3, -1, 100}) {
    errno = 0;
    EXPECT_EQ(api().shutdown(sv[0], how), -1) << how;
    EXPECT_EQ(errno, EINVAL) << how;
  }
  // Nothing was shut.
  EXPECT_EQ(SendErr(sv[0], 0), 1);
}

TEST_P(ShutdownErrors, NotASocketOrBadDescriptor) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  errno = 0;
  EXPECT_EQ(api().shutdown(p[0], SHUT_RD), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  // The descriptor check comes before the argument check.
  errno = 0;
  EXPECT_EQ(api().shutdown(p[0], 7), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(p[0]);
  close(p[1]);
  for (int bad : {-1, p[0]}) {
    errno = 0;
    EXPECT_EQ(api().shutdown(bad, SHUT_RDWR), -1);
    EXPECT_EQ(errno, EBADF);
  }
}

// net/unix/af_unix.c: unix_shutdown has no ENOTCONN check: an unconnected
// or listening socket can be shut down. Sends and receives on it keep
// failing the way they did before (stream receive: EINVAL, from the
// TCP_ESTABLISHED check in unix_stream_read_generic).
TEST_P(ShutdownErrors, UnconnectedSocketsSucceed) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    const int fd = Socket(type);
    EXPECT_EQ(api().shutdown(fd, SHUT_RDWR), 0) << type;
  }
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    ASSERT_EQ(api().shutdown(fd, SHUT_RDWR), 0);
    EXPECT_EQ(SendErr(fd, MSG_NOSIGNAL), -ENOTCONN) << type;
    int err;
    EXPECT_EQ(Recv(fd, nullptr, &err), -1) << type;
    EXPECT_EQ(err, type == SOCK_STREAM ? EINVAL : ENOTCONN) << type;
  }
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, a), 0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  EXPECT_EQ(api().shutdown(listener, SHUT_RD), 0);
}

// After shutting down an unconnected stream socket, connect still works
// but the connection is unusable for reading.
TEST_P(ShutdownErrors, ShutdownBeforeConnect) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, a), 0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  const int c = Socket(SOCK_STREAM);
  ASSERT_EQ(api().shutdown(c, SHUT_WR), 0);
  ASSERT_EQ(Connect(c, a), 0);
  const int s = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(s, 0);
  EXPECT_EQ(SendErr(c, MSG_NOSIGNAL), -EPIPE);
  int err;
  EXPECT_EQ(Recv(s, nullptr, &err), -1);
  EXPECT_EQ(err, EAGAIN);
}

SHUNT_BOTH_BACKENDS(ShutdownErrors);

// ---------------------------------------------------------------------------
class PeerCloseStream : public ShutdownTest {};

// Closing with an empty receive queue is an orderly close: the survivor
// reads the data in flight, then 0, with no error.
TEST_P(PeerCloseStream, OrderlyCloseDeliversDataThenEof) {
  SigpipeCounter pipes;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[0], "abc", 3, 0), 3);
    ASSERT_EQ(api().send(sv[0], "de", 2, 0), 2);
    ASSERT_EQ(Close(sv[0]), 0);
    std::string got;
    int err;
    if (type == SOCK_STREAM) {
      EXPECT_EQ(Recv(sv[1], &got, &err), 5);
      EXPECT_EQ(got, "abcde");
    } else {
      EXPECT_EQ(Recv(sv[1], &got, &err), 3);
      EXPECT_EQ(Recv(sv[1], &got, &err), 2);
    }
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(SoError(sv[1]), 0) << type;
    // SIGPIPE only for stream (seqpacket uses unix_dgram_sendmsg).
    const int want = pipes.count() + (type == SOCK_STREAM ? 1 : 0);
    EXPECT_EQ(SendErr(sv[1], 0), -EPIPE) << type;
    EXPECT_EQ(pipes.count(), want) << type;
    EXPECT_EQ(SendErr(sv[1], MSG_NOSIGNAL), -EPIPE) << type;
    EXPECT_EQ(pipes.count(), want) << type;
  }
}

// net/unix/af_unix.c: unix_release_sock sets ECONNRESET on the peer when
// the closing socket still had unread data. The survivor's receive reports
// it once, then reads 0.
TEST_P(PeerCloseStream, UnreadDataGivesConnReset) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
    ASSERT_EQ(Close(sv[0]), 0);
    int err;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), -1) << type;
    EXPECT_EQ(err, ECONNRESET) << type;
    EXPECT_EQ(Recv(sv[1], nullptr, &err), 0) << type;
    EXPECT_EQ(SoError(sv[1]), 0) << type;
  }
}

// Data already queued for the survivor is read before the reset.
TEST_P(PeerCloseStream, QueuedDataComesBeforeReset) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  ASSERT_EQ(api().send(sv[0], "abc", 3, 0), 3);
  ASSERT_EQ(Close(sv[0]), 0);
  std::string got;
  int err;
  EXPECT_EQ(Recv(sv[1], &got, &err), 3);
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(Recv(sv[1], nullptr, &err), -1);
  EXPECT_EQ(err, ECONNRESET);
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
}

// A send does not consume the pending reset: it fails with EPIPE (and
// SIGPIPE), and the reset is still there for SO_ERROR.
TEST_P(PeerCloseStream, SendAfterResetIsEpipe) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  ASSERT_EQ(Close(sv[0]), 0);
  EXPECT_EQ(SendErr(sv[1], 0), -EPIPE);
  EXPECT_EQ(pipes.count(), 1);
  EXPECT_EQ(SoError(sv[1]), ECONNRESET);
  EXPECT_EQ(SoError(sv[1]), 0);
  // SO_ERROR consumed it: the receive now reads end-of-file.
  int err;
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
}

// Seqpacket sends check the pending error first (net/core/sock.c:
// sock_alloc_send_pskb), so the send reports and consumes ECONNRESET, and
// the receive then reads 0.
TEST_P(PeerCloseStream, SeqpacketSendConsumesReset) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_SEQPACKET, sv);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  ASSERT_EQ(Close(sv[0]), 0);
  EXPECT_EQ(SendErr(sv[1], 0), -ECONNRESET);
  EXPECT_EQ(SoError(sv[1]), 0);
  int err;
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
  EXPECT_EQ(SendErr(sv[1], 0), -EPIPE);
  EXPECT_EQ(pipes.count(), 0);
}

// Linux 6.x unix_release_sock does not reset the peer when the only thing
// left unread is one empty seqpacket record; two empty records, or any
// unread byte, still do. (Found by `shunt diff`.)
TEST_P(PeerCloseStream, OneEmptySeqpacketRecordUnreadIsNoReset) {
  const struct {
    std::vector<size_t> records;
    int err;
  } cases[] = {{{}, 0},
               {{0}, 0},
               {{0, 0}, ECONNRESET},
               {{1}, ECONNRESET},
               {{0, 1}, ECONNRESET},
               {{1, 0}, ECONNRESET}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.records.size());
    int sv[2];
    Pair(SOCK_SEQPACKET, sv);
    for (size_t n : c.records)
      ASSERT_EQ(api().send(sv[1], "xx", n, 0), static_cast<ssize_t>(n));
    ASSERT_EQ(Close(sv[0]), 0);
    EXPECT_EQ(SoError(sv[1]), c.err);
    EXPECT_EQ(SendErr(sv[1], 0), -EPIPE);
    ASSERT_EQ(Close(sv[1]), 0);
  }
}

// Closing a listener resets the connections it never accepted.
TEST_P(PeerCloseStream, ListenerCloseResetsPendingConnections) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    const sockaddr_un a = TempAddr(type == SOCK_STREAM ? "ls" : "lq");
    const int listener = Socket(type);
    ASSERT_EQ(Bind(listener, a), 0);
    ASSERT_EQ(api().listen(listener, 4), 0);
    const int accepted_client = Socket(type);
    ASSERT_EQ(Connect(accepted_client, a), 0);
    const int s = Track(api().accept(listener, nullptr, nullptr));
    ASSERT_GE(s, 0);
    const int pending = Socket(type);
    ASSERT_EQ(Connect(pending, a), 0);
    ASSERT_EQ(Close(listener), 0);
    int err;
    EXPECT_EQ(Recv(pending, nullptr, &err), -1) << type;
    EXPECT_EQ(err, ECONNRESET) << type;
    EXPECT_EQ(Recv(pending, nullptr, &err), 0) << type;
    EXPECT_EQ(SendErr(pending, MSG_NOSIGNAL), -EPIPE) << type;
    // The accepted connection is independent of the listener.
    EXPECT_EQ(SendErr(accepted_client, 0), 1) << type;
    EXPECT_EQ(Recv(s, nullptr, &err), 1) << type;
  }
}

// A blocked reader is woken by the reset.
TEST_P(PeerCloseStream, BlockedReaderGetsReset) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 5000), 0);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  const int peer = sv[0];
  Untrack(peer);
  std::thread closer([&] {
    SleepMs(100);
    api().close(peer);
  });
  char c;
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  closer.join();
}

SHUNT_BOTH_BACKENDS(PeerCloseStream);

// ---------------------------------------------------------------------------
class PeerCloseDatagram : public ShutdownTest {};

// A datagram socketpair survivor keeps its queued datagrams; sending to the
// dead peer fails with ECONNREFUSED once, which also disconnects the
// socket, so later sends fail with ENOTCONN (net/unix/af_unix.c:
// unix_dgram_sendmsg).
TEST_P(PeerCloseDatagram, SocketpairSurvivor) {
  SigpipeCounter pipes;
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(api().send(sv[0], "abc", 3, 0), 3);
  ASSERT_EQ(api().send(sv[1], "unread", 6, 0), 6);
  ASSERT_EQ(Close(sv[0]), 0);
  std::string got;
  int err;
  EXPECT_EQ(Recv(sv[1], &got, &err), 3);
  EXPECT_EQ(got, "abc");
  EXPECT_EQ(Recv(sv[1], nullptr, &err), -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(SoError(sv[1]), 0);
  EXPECT_EQ(SendErr(sv[1], 0), -ECONNREFUSED);
  EXPECT_EQ(SendErr(sv[1], 0), -ENOTCONN);
  EXPECT_EQ(pipes.count(), 0);
}

// The same for a socket connected by name to a receiver that closes.
TEST_P(PeerCloseDatagram, ConnectedSenderAfterReceiverCloses) {
  const sockaddr_un a = TempAddr("r");
  const int receiver = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(receiver, a), 0);
  const int sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(Connect(sender, a), 0);
  ASSERT_EQ(SendErr(sender, 0), 1);
  ASSERT_EQ(Close(receiver), 0);
  EXPECT_EQ(SendErr(sender, 0), -ECONNREFUSED);
  EXPECT_EQ(SendErr(sender, 0), -ENOTCONN);
}

SHUNT_BOTH_BACKENDS(PeerCloseDatagram);

// ---------------------------------------------------------------------------
class SharedDescriptorShutdown : public ShutdownTest {};

// Closing one of two descriptors for a socket does not close the socket:
// the peer sees end-of-file only after the last one goes.
TEST_P(SharedDescriptorShutdown, CloseOneDupKeepsSocketOpen) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int d = Track(api().dup(sv[0]));
  ASSERT_GE(d, 0);
  ASSERT_EQ(Close(sv[0]), 0);
  int err;
  EXPECT_EQ(Recv(sv[1], nullptr, &err), -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(SendErr(d, 0), 1);
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 1);
  ASSERT_EQ(Close(d), 0);
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
}

// shutdown acts on the socket, so it affects every descriptor for it even
// though each stays open.
TEST_P(SharedDescriptorShutdown, ShutdownThroughDupAffectsBoth) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int d = Track(api().dup(sv[0]));
  ASSERT_GE(d, 0);
  ASSERT_EQ(api().shutdown(d, SHUT_WR), 0);
  EXPECT_EQ(SendErr(sv[0], MSG_NOSIGNAL), -EPIPE);
  EXPECT_EQ(SendErr(d, MSG_NOSIGNAL), -EPIPE);
  int err;
  EXPECT_EQ(Recv(sv[1], nullptr, &err), 0);
  // Reading still works through both descriptors.
  ASSERT_EQ(api().send(sv[1], "ab", 2, 0), 2);
  char c = 0;
  EXPECT_EQ(api().recv(sv[0], &c, 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(c, 'a');
  EXPECT_EQ(api().recv(d, &c, 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(c, 'b');
}

// close on a descriptor already closed, or never opened, is EBADF.
TEST_P(SharedDescriptorShutdown, DoubleClose) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(Close(sv[0]), 0);
  errno = 0;
  EXPECT_EQ(api().close(sv[0]), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(api().close(-1), -1);
  EXPECT_EQ(errno, EBADF);
}

SHUNT_BOTH_BACKENDS(SharedDescriptorShutdown);

}  // namespace

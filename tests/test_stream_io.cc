// The AF_UNIX SOCK_STREAM data path: byte-stream semantics, peeking, peek
// offsets, MSG_WAITALL, EOF and reset reporting, queue ioctls, unconnected
// sockets, bulk transfer and a full send buffer. Every behaviour is checked
// on a socketpair and on a pair connected through a filesystem name, since
// the two are built by different code paths but must move data the same way.
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

using shunt_test::NowSeconds;

enum class PairKind { kSocketpair, kPathBound };

const char* KindName(PairKind k) {
  return k == PairKind::kSocketpair ? "socketpair" : "path-bound";
}

constexpr PairKind kAllKinds[] = {PairKind::kSocketpair, PairKind::kPathBound};

// Byte i of a long test stream; a period of 251 catches misordered chunks.
char PatternByte(size_t i) { return static_cast<char>('a' + i % 251); }

class StreamFixture : public shunt_test::BothBackends {
 protected:
  // Makes a connected stream pair: sv[0] and sv[1] are the two ends. With
  // PairKind::kPathBound, sv[0] is the connecting client and sv[1] the
  // accepted socket of a listener bound in TempDir().
  void MakePair(PairKind kind, int sv[2], bool nonblock = true) {
    const int nb = nonblock ? SOCK_NONBLOCK : 0;
    if (kind == PairKind::kSocketpair) {
      ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM | nb, 0, sv), 0)
          << strerror(errno);
      return;
    }
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const std::string path = TempPath("s" + std::to_string(serial_++));
    ASSERT_LT(path.size(), sizeof(addr.sun_path));
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int lfd = api().socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(lfd, 0) << strerror(errno);
    ASSERT_EQ(api().bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0)
        << strerror(errno);
    ASSERT_EQ(api().listen(lfd, 4), 0) << strerror(errno);
    sv[0] = api().socket(AF_UNIX, SOCK_STREAM | nb, 0);
    ASSERT_GE(sv[0], 0) << strerror(errno);
    // A listener with backlog room accepts a nonblocking connect at once.
    ASSERT_EQ(
        api().connect(sv[0], reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
        0)
        << strerror(errno);
    sv[1] = api().accept4(lfd, nullptr, nullptr, nb);
    ASSERT_GE(sv[1], 0) << strerror(errno);
    ASSERT_EQ(api().close(lfd), 0);
  }

  void ExpectRecvError(int fd, int flags, int err) {
    char buf[16];
    errno = 0;
    EXPECT_EQ(api().recv(fd, buf, sizeof(buf), flags), -1);
    EXPECT_EQ(errno, err) << strerror(errno);
  }

  int Ioctl(int fd, unsigned long req) {
    int v = -12345;
    EXPECT_EQ(api().ioctl(fd, req, &v), 0) << strerror(errno);
    return v;
  }

  int GetPeekOff(int fd) {
    int v = -12345;
    socklen_t len = sizeof(v);
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, &len), 0)
        << strerror(errno);
    EXPECT_EQ(len, sizeof(v));
    return v;
  }

  void SetPeekOff(int fd, int v) {
    EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v)), 0)
        << strerror(errno);
  }

 private:
  int serial_ = 0;
};

// ---------------------------------------------------------------------------
// A stream has no message boundaries: reads take whatever is queued, up to
// the buffer size, across the boundaries of the sends that queued it.

class StreamByteBoundaries : public StreamFixture {};

TEST_P(StreamByteBoundaries, PartialReadLeavesRestQueued) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abcdefghij");
    EXPECT_EQ(RecvString(sv[1], 3), "abc");
    EXPECT_EQ(RecvString(sv[1], 4), "defg");
    EXPECT_EQ(RecvString(sv[1], 100), "hij");
    ExpectRecvError(sv[1], 0, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamByteBoundaries, SeveralSendsMergeIntoOneRead) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "ab");
    SendAll(sv[0], "cde");
    SendAll(sv[0], "f");
    EXPECT_EQ(RecvString(sv[1], 100), "abcdef");
    // A read that ends inside a send's bytes, then one spanning the rest of
    // that send and all of the next.
    SendAll(sv[0], "1234");
    SendAll(sv[0], "5678");
    EXPECT_EQ(RecvString(sv[1], 2), "12");
    EXPECT_EQ(RecvString(sv[1], 5), "34567");
    EXPECT_EQ(RecvString(sv[1], 5), "8");
    ClosePair(sv);
  }
}

TEST_P(StreamByteBoundaries, LargeSendReadInPieces) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    std::string big(50000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = PatternByte(i);
    SendAll(sv[0], big);
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 50000);
    std::string got;
    while (got.size() < big.size()) {
      const std::string piece = RecvString(sv[1], 777);
      ASSERT_FALSE(piece.empty());
      ASSERT_LE(piece.size(), 777u);
      got += piece;
    }
    EXPECT_EQ(got, big);
    ExpectRecvError(sv[1], 0, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamByteBoundaries, WriteReadReadvWritev) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    EXPECT_EQ(api().write(sv[0], "hello", 5), 5);
    char a[2], b[10];
    EXPECT_EQ(api().read(sv[1], a, sizeof(a)), 2);
    EXPECT_EQ(memcmp(a, "he", 2), 0);

    char w1[] = "AB", w2[] = "", w3[] = "CDE";
    iovec wv[3] = {{w1, 2}, {w2, 0}, {w3, 3}};
    EXPECT_EQ(api().writev(sv[0], wv, 3), 5);
    // readv fills each buffer in order before moving to the next.
    char r1[4] = {}, r2[3] = {}, r3[10] = {};
    iovec rv[3] = {{r1, 4}, {r2, 3}, {r3, 10}};
    EXPECT_EQ(api().readv(sv[1], rv, 3), 8);
    EXPECT_EQ(memcmp(r1, "lloA", 4), 0);
    EXPECT_EQ(memcmp(r2, "BCD", 3), 0);
    EXPECT_EQ(memcmp(r3, "E", 1), 0);

    // readv/writev with no entries is a successful zero-byte transfer.
    EXPECT_EQ(api().writev(sv[0], wv, 0), 0);
    EXPECT_EQ(api().readv(sv[1], rv, 0), 0);
    errno = 0;
    EXPECT_EQ(api().read(sv[1], b, sizeof(b)), -1);
    EXPECT_EQ(errno, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamByteBoundaries, ZeroByteSendQueuesNothing) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    // net/unix/af_unix.c: unix_stream_sendmsg loops while sent < len, so a
    // zero-length send succeeds without queueing anything (unlike datagram
    // sockets, where it queues an empty message).
    EXPECT_EQ(api().send(sv[0], "x", 0, 0), 0);
    EXPECT_EQ(api().write(sv[0], "x", 0), 0);
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 0);
    ExpectRecvError(sv[1], 0, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamByteBoundaries, ZeroLengthRecv) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    char buf[4];
    // Nothing queued: a zero-length read still waits for data (the target
    // is at least one byte), so it fails with EAGAIN.
    errno = 0;
    EXPECT_EQ(api().recv(sv[1], buf, 0, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    // net/socket.c: sock_read_iter answers a zero-length read() with 0
    // without looking at the queue, so read() does not fail here.
    EXPECT_EQ(api().read(sv[1], buf, 0), 0);
    // Data queued: returns 0 and consumes nothing.
    SendAll(sv[0], "xyz");
    EXPECT_EQ(api().recv(sv[1], buf, 0, 0), 0);
    EXPECT_EQ(api().read(sv[1], buf, 0), 0);
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 3);
    EXPECT_EQ(RecvString(sv[1], 10), "xyz");
    // After EOF: 0.
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    EXPECT_EQ(api().recv(sv[1], buf, 0, 0), 0);
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(StreamByteBoundaries);

// ---------------------------------------------------------------------------
// MSG_PEEK copies queued bytes without consuming them.

class StreamPeek : public StreamFixture {};

TEST_P(StreamPeek, PeekDoesNotConsume) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abc");
    SendAll(sv[0], "def");
    EXPECT_EQ(RecvString(sv[1], 4, MSG_PEEK), "abcd");
    EXPECT_EQ(RecvString(sv[1], 4, MSG_PEEK), "abcd");
    // Without SO_PEEK_OFF a peek always starts at the head and can span
    // several sends.
    EXPECT_EQ(RecvString(sv[1], 100, MSG_PEEK), "abcdef");
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 6);
    EXPECT_EQ(RecvString(sv[1], 2), "ab");
    EXPECT_EQ(RecvString(sv[1], 100, MSG_PEEK), "cdef");
    EXPECT_EQ(RecvString(sv[1], 100), "cdef");
    ExpectRecvError(sv[1], MSG_PEEK, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamPeek, PeekAtEofReturnsZero) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "ab");
    ASSERT_EQ(api().close(sv[0]), 0);
    EXPECT_EQ(RecvString(sv[1], 10, MSG_PEEK), "ab");
    EXPECT_EQ(RecvString(sv[1], 10), "ab");
    char buf[4];
    EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_PEEK), 0);
    EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 0);
    EXPECT_EQ(api().close(sv[1]), 0);
  }
}

SHUNT_BOTH_BACKENDS(StreamPeek);

// ---------------------------------------------------------------------------
// SO_PEEK_OFF: a non-negative offset makes MSG_PEEK start there and advance
// it; ordinary reads move it back by the bytes they consume.

class StreamPeekOffset : public StreamFixture {};

// unix_stream_read_generic ends a MSG_PEEK read after the last queued skb:
// it does not wait for MSG_WAITALL or SO_RCVLOWAT and leaves a pending
// error for the next call. (Found by `shunt diff`.)
TEST_P(StreamPeek, PeekStopsAfterTheLastQueuedBytes) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().fcntl(sv[1], F_SETFL, 0), 0);  // blocking
  ASSERT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 3000), 0);
  SendAll(sv[0], "ab");
  char buf[8];
  const double start = shunt_test::NowSeconds();
  EXPECT_EQ(api().recv(sv[1], buf, 5, MSG_PEEK | MSG_WAITALL), 2);
  ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_RCVLOWAT, 4), 0);
  EXPECT_EQ(api().recv(sv[1], buf, 5, MSG_PEEK), 2);
  EXPECT_LT(shunt_test::NowSeconds() - start, 1.0);
  // With the peek offset past the data there is nothing to peek: a
  // zero-byte peek then reports the pending error.
  SendAll(sv[1], "unread");
  ASSERT_EQ(Close(sv[0]), 0);  // unread data: sv[1] gets ECONNRESET
  ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF, 1), 0);
  EXPECT_EQ(api().recv(sv[1], buf, 5, MSG_PEEK | MSG_WAITALL), 1);
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], buf, 0, MSG_PEEK), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(api().recv(sv[1], buf, 0, MSG_PEEK), 0);
}

TEST_P(StreamPeekOffset, DefaultIsMinusOne) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    EXPECT_EQ(GetPeekOff(sv[0]), -1);
    EXPECT_EQ(GetPeekOff(sv[1]), -1);
    ClosePair(sv);
  }
}

TEST_P(StreamPeekOffset, PeeksAdvanceAndReadsMoveBack) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SetPeekOff(sv[1], 2);
    EXPECT_EQ(GetPeekOff(sv[1]), 2);
    SendAll(sv[0], "abcdef");
    SendAll(sv[0], "ghijkl");
    EXPECT_EQ(RecvString(sv[1], 3, MSG_PEEK), "cde");
    EXPECT_EQ(GetPeekOff(sv[1]), 5);
    // A peek spans send boundaries and stops at the end of the queue.
    EXPECT_EQ(RecvString(sv[1], 100, MSG_PEEK), "fghijkl");
    EXPECT_EQ(GetPeekOff(sv[1]), 12);
    // Everything queued has been peeked past: nothing left to peek.
    ExpectRecvError(sv[1], MSG_PEEK, EAGAIN);
    EXPECT_EQ(GetPeekOff(sv[1]), 12);
    // A read ignores the offset (it reads from the head) and moves it back
    // by the bytes consumed (net/core/sock.c: sk_peek_offset_bwd).
    EXPECT_EQ(RecvString(sv[1], 4), "abcd");
    EXPECT_EQ(GetPeekOff(sv[1]), 8);
    // New data is peekable at the offset again.
    SendAll(sv[0], "mn");
    EXPECT_EQ(RecvString(sv[1], 100, MSG_PEEK), "mn");
    EXPECT_EQ(GetPeekOff(sv[1]), 10);
    // Reading more than the offset clamps it at 0, not below.
    EXPECT_EQ(RecvString(sv[1], 100), "efghijklmn");
    EXPECT_EQ(GetPeekOff(sv[1]), 0);
    // Offset 0 still counts as enabled: peeks advance it.
    SendAll(sv[0], "xyz");
    EXPECT_EQ(RecvString(sv[1], 1, MSG_PEEK), "x");
    EXPECT_EQ(RecvString(sv[1], 1, MSG_PEEK), "y");
    EXPECT_EQ(GetPeekOff(sv[1]), 2);
    EXPECT_EQ(RecvString(sv[1], 100), "xyz");
    EXPECT_EQ(GetPeekOff(sv[1]), 0);
    ClosePair(sv);
  }
}

TEST_P(StreamPeekOffset, NegativeValueDisables) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abcdef");
    SetPeekOff(sv[1], 1);
    EXPECT_EQ(RecvString(sv[1], 2, MSG_PEEK), "bc");
    SetPeekOff(sv[1], -1);
    EXPECT_EQ(GetPeekOff(sv[1]), -1);
    EXPECT_EQ(RecvString(sv[1], 2, MSG_PEEK), "ab");
    EXPECT_EQ(RecvString(sv[1], 2, MSG_PEEK), "ab");
    EXPECT_EQ(GetPeekOff(sv[1]), -1);
    // Any negative value disables, and is stored as given.
    SetPeekOff(sv[1], -5);
    EXPECT_EQ(GetPeekOff(sv[1]), -5);
    EXPECT_EQ(RecvString(sv[1], 3), "abc");
    EXPECT_EQ(GetPeekOff(sv[1]), -5);
    EXPECT_EQ(RecvString(sv[1], 2, MSG_PEEK), "de");
    EXPECT_EQ(RecvString(sv[1], 10), "def");
    ClosePair(sv);
  }
}

// SO_PEEK_OFF also works on datagram-style sockets, per message: a peek at
// an offset returns the rest of the datagram holding that offset, and a read
// moves the offset back by the whole datagram length, however much of it the
// buffer took (net/unix/af_unix.c: __unix_dgram_recvmsg).
TEST_P(StreamPeekOffset, DatagramSocketsPeekPerMessage) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type == SOCK_DGRAM ? "dgram" : "seqpacket");
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), 0);
    EXPECT_EQ(GetPeekOff(sv[1]), -1);
    SetPeekOff(sv[1], 2);
    SendAll(sv[0], "abcdef");
    SendAll(sv[0], "ghijkl");

    char buf[64] = {};
    iovec iov = {buf, 3};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_PEEK), 3);
    EXPECT_EQ(std::string(buf, 3), "cde");
    EXPECT_EQ(msg.msg_flags, MSG_TRUNC);  // "f" was left in that datagram
    EXPECT_EQ(GetPeekOff(sv[1]), 5);

    iov.iov_len = sizeof(buf);
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_PEEK), 1);
    EXPECT_EQ(buf[0], 'f');
    EXPECT_EQ(msg.msg_flags, 0);
    EXPECT_EQ(GetPeekOff(sv[1]), 6);
    // The offset now points at the start of the second datagram.
    EXPECT_EQ(RecvString(sv[1], 64, MSG_PEEK), "ghijkl");
    EXPECT_EQ(GetPeekOff(sv[1]), 12);
    ExpectRecvError(sv[1], MSG_PEEK, EAGAIN);
    // A plain read takes the first datagram from its start; the offset
    // drops by that datagram's full length (6), not the 4 bytes copied.
    EXPECT_EQ(RecvString(sv[1], 4), "abcd");
    EXPECT_EQ(GetPeekOff(sv[1]), 6);
    EXPECT_EQ(RecvString(sv[1], 64), "ghijkl");
    EXPECT_EQ(GetPeekOff(sv[1]), 0);
    ClosePair(sv);
  }
}

// An empty datagram, once peeked at, is passed over by later peeks at a
// peek offset (skb->peeked; __skb_try_recv_from_queue), and only by them:
// without SO_PEEK_OFF every peek returns it again; a read still takes it.
TEST_P(StreamPeekOffset, PeekedEmptyDatagramIsPassedOverAtAnOffset) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type == SOCK_DGRAM ? "dgram" : "seqpacket");
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), 0);
    ASSERT_EQ(api().send(sv[0], "", 0, 0), 0);
    SendAll(sv[0], "x");
    // No peek offset: the empty datagram, every time.
    EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "");
    EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "");
    SetPeekOff(sv[1], 0);
    // Peeked before: passed over at offset 0.
    EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "x");
    EXPECT_EQ(GetPeekOff(sv[1]), 1);
    EXPECT_EQ(RecvString(sv[1], 8), "");
    EXPECT_EQ(RecvString(sv[1], 8), "x");
    // A fresh empty datagram is returned once at the offset, then passed.
    ASSERT_EQ(api().send(sv[0], "", 0, 0), 0);
    SendAll(sv[0], "y");
    SetPeekOff(sv[1], 0);
    EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "");
    EXPECT_EQ(GetPeekOff(sv[1]), 0);
    EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "y");
    ClosePair(sv);
  }
}

// A peek that waits reads the peek offset again when it wakes (Linux 6.18:
// unix_stream_read_generic reads sk_peek_offset after `redo:`): reads and
// SO_PEEK_OFF meanwhile count. The outcome is the same whether or not the
// peek was already waiting when the main thread acted.
TEST_P(StreamPeekOffset, PeekThatWaitedUsesTheOffsetAsItIsNow) {
  for (bool reset_by_option : {false, true}) {
    SCOPED_TRACE(reset_by_option ? "SO_PEEK_OFF set to 0" : "a read of 1");
    int sv[2];
    Pair(SOCK_STREAM, sv);
    ASSERT_EQ(api().fcntl(sv[1], F_SETFL, 0), 0);  // blocking
    ASSERT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 5000), 0);
    if (!reset_by_option) SendAll(sv[0], "abc");
    ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF, 3), 0);
    char buf[16];
    ssize_t got = 0;
    std::thread peeker(
        [&] { got = api().recv(sv[1], buf, sizeof buf, MSG_PEEK); });
    shunt_test::SleepMs(50);  // usually waiting by now
    if (reset_by_option) {
      ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF, 0), 0);
    } else {
      char c;
      ASSERT_EQ(api().recv(sv[1], &c, 1, MSG_DONTWAIT), 1);  // offset 3 -> 2
    }
    shunt_test::SleepMs(50);
    SendAll(sv[0], "def");
    peeker.join();
    ASSERT_EQ(got, 3);
    EXPECT_EQ(std::string(buf, 3), "def");
    EXPECT_EQ(GetPeekOff(sv[1]), reset_by_option ? 3 : 5);
  }
}

SHUNT_BOTH_BACKENDS(StreamPeekOffset);

// ---------------------------------------------------------------------------
// MSG_WAITALL waits for the full length, but returns short on EOF, on a
// timeout once some bytes were read, and at once when nonblocking.

class StreamWaitAllReads : public StreamFixture {};

TEST_P(StreamWaitAllReads, EnoughDataQueued) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    EXPECT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 2000), 0) << strerror(errno);
    SendAll(sv[0], "abc");
    SendAll(sv[0], "defgh");
    EXPECT_EQ(RecvString(sv[1], 6, MSG_WAITALL), "abcdef");
    EXPECT_EQ(RecvString(sv[1], 2, MSG_WAITALL), "gh");
    ClosePair(sv);
  }
}

TEST_P(StreamWaitAllReads, EofBeforeFullReturnsShort) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    EXPECT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 2000), 0) << strerror(errno);
    SendAll(sv[0], "abc");
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    EXPECT_EQ(RecvString(sv[1], 10, MSG_WAITALL), "abc");
    EXPECT_EQ(RecvString(sv[1], 10, MSG_WAITALL), "");
    ClosePair(sv);
  }
}

TEST_P(StreamWaitAllReads, WaitsForBytesSentLater) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    EXPECT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 5000), 0) << strerror(errno);
    SendAll(sv[0], "abcd");
    std::atomic<ssize_t> sent{0};
    std::thread writer([&] {
      usleep(50000);
      sent = api().send(sv[0], "efghij", 6, MSG_NOSIGNAL);
    });
    EXPECT_EQ(RecvString(sv[1], 10, MSG_WAITALL), "abcdefghij");
    writer.join();
    EXPECT_EQ(sent.load(), 6);
    ClosePair(sv);
  }
}

TEST_P(StreamWaitAllReads, TimeoutAfterSomeBytesReturnsThem) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    EXPECT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 100), 0) << strerror(errno);
    SendAll(sv[0], "abc");
    const double start = NowSeconds();
    EXPECT_EQ(RecvString(sv[1], 10, MSG_WAITALL), "abc");
    const double elapsed = NowSeconds() - start;
    EXPECT_GE(elapsed, 0.09);
    EXPECT_LT(elapsed, 2.0);
    // With nothing read, the timeout is an error.
    ExpectRecvError(sv[1], MSG_WAITALL, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(StreamWaitAllReads, NonblockingReturnsWhatIsQueued) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvString(sv[1], 10, MSG_WAITALL | MSG_DONTWAIT), "abc");
    ExpectRecvError(sv[1], MSG_WAITALL | MSG_DONTWAIT, EAGAIN);
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(StreamWaitAllReads);

// ---------------------------------------------------------------------------
// Nonblocking reads and flags that are no-ops on a stream.

class StreamRecvFlags : public StreamFixture {};

TEST_P(StreamRecvFlags, DontwaitOnEmptyIsEagain) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    ExpectRecvError(sv[1], MSG_DONTWAIT, EAGAIN);
    ExpectRecvError(sv[1], MSG_DONTWAIT | MSG_PEEK, EAGAIN);
    // MSG_DONTWAIT is per call: the socket stays blocking.
    EXPECT_EQ(api().fcntl(sv[1], F_GETFL, 0) & O_NONBLOCK, 0);
    SendAll(sv[0], "a");
    EXPECT_EQ(RecvString(sv[1], 4, MSG_DONTWAIT), "a");
    ClosePair(sv);
  }
}

TEST_P(StreamRecvFlags, NonblockingSocketReadIsEagain) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    char buf[4];
    errno = 0;
    EXPECT_EQ(api().read(sv[1], buf, sizeof(buf)), -1);
    EXPECT_EQ(errno, EAGAIN);
    ExpectRecvError(sv[1], 0, EAGAIN);
    ClosePair(sv);
  }
}

// net/unix/af_unix.c: unix_stream_read_generic ignores MSG_TRUNC: the bytes
// are copied and consumed as usual and msg_flags never gets MSG_TRUNC.
TEST_P(StreamRecvFlags, MsgTruncIsIgnored) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abcdef");
    char buf[8] = {};
    iovec iov = {buf, 3};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_TRUNC | MSG_PEEK), 3);
    EXPECT_EQ(msg.msg_flags, 0);
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_TRUNC), 3);
    EXPECT_EQ(std::string(buf, 3), "abc");
    EXPECT_EQ(msg.msg_flags, 0);
    EXPECT_EQ(RecvString(sv[1], 10, MSG_TRUNC), "def");
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(StreamRecvFlags);

// ---------------------------------------------------------------------------
// End of stream: orderly EOF, reset when the peer closed with unread data,
// EPIPE (and SIGPIPE) when writing to a closed or shut-down stream.

class StreamEndOfStream : public StreamFixture {
 protected:
  // True if SIGPIPE is pending for this thread; consumes it.
  static bool TakePendingSigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    timespec zero = {0, 0};
    return sigtimedwait(&set, nullptr, &zero) == SIGPIPE;
  }
};

TEST_P(StreamEndOfStream, EofAfterPeerCloseRepeats) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "last");
    ASSERT_EQ(api().close(sv[0]), 0);
    // Queued bytes come first, then EOF on every later read.
    EXPECT_EQ(RecvString(sv[1], 2), "la");
    EXPECT_EQ(RecvString(sv[1], 10), "st");
    char buf[4];
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 0);
      EXPECT_EQ(api().read(sv[1], buf, sizeof(buf)), 0);
    }
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 0);
    EXPECT_EQ(api().close(sv[1]), 0);
  }
}

TEST_P(StreamEndOfStream, EofAfterPeerShutWrRepeats) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "xy");
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    EXPECT_EQ(RecvString(sv[1], 10), "xy");
    char buf[4];
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 0);
    }
    // The other direction still works.
    SendAll(sv[1], "back");
    EXPECT_EQ(RecvString(sv[0], 10), "back");
    // Writing on the shut-down side fails.
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "z", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    ClosePair(sv);
  }
}

// net/unix/af_unix.c: unix_release_sock sets ECONNRESET on the peer when the
// closing socket still had unread bytes. The error is reported once, after
// the reader's own queued bytes and before EOF, and is cleared by reading it
// (through recv or SO_ERROR).
TEST_P(StreamEndOfStream, PeerClosedWithUnreadDataResetsOnce) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[1], "queued-for-0");
    SendAll(sv[0], "never-read");
    ASSERT_EQ(api().close(sv[1]), 0);
    EXPECT_EQ(RecvString(sv[0], 100), "queued-for-0");
    ExpectRecvError(sv[0], 0, ECONNRESET);
    char buf[4];
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 0);
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 0);
    EXPECT_EQ(api().close(sv[0]), 0);
  }
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(KindName(kind)) + " SO_ERROR");
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "never-read");
    ASSERT_EQ(api().close(sv[1]), 0);
    // A send is refused by the peer's shutdown before the pending error is
    // looked at, so it does not clear it.
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "z", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    int err = -1;
    socklen_t len = sizeof(err);
    EXPECT_EQ(api().getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, ECONNRESET);
    char buf[4];
    EXPECT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 0);
    EXPECT_EQ(api().close(sv[0]), 0);
  }
}

TEST_P(StreamEndOfStream, SendAfterPeerCloseIsEpipe) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    ASSERT_EQ(api().close(sv[1]), 0);
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "abc", 3, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    // Even a zero-length send reports the broken pipe.
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "abc", 0, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_EQ(api().close(sv[0]), 0);
  }
}

TEST_P(StreamEndOfStream, EpipeRaisesSigpipeUnlessNosignal) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  TakePendingSigpipe();
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "a", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_FALSE(TakePendingSigpipe());
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "a", 1, 0), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(TakePendingSigpipe());
    errno = 0;
    EXPECT_EQ(api().write(sv[0], "a", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(TakePendingSigpipe());
    ClosePair(sv);
  }
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}

SHUNT_BOTH_BACKENDS(StreamEndOfStream);

// ---------------------------------------------------------------------------
// FIONREAD/SIOCINQ count the unread bytes queued for the reader. SIOCOUTQ
// counts the sender's unread output, in the kernel's memory accounting
// (sk_wmem_alloc, skb truesize), so only its bounds are asserted.

class StreamQueueIoctls : public StreamFixture {};

TEST_P(StreamQueueIoctls, InqTracksUnreadBytes) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    static_assert(SIOCINQ == FIONREAD);
    EXPECT_EQ(Ioctl(sv[1], SIOCINQ), 0);
    SendAll(sv[0], "abc");
    EXPECT_EQ(Ioctl(sv[1], FIONREAD), 3);
    SendAll(sv[0], "defg");
    EXPECT_EQ(Ioctl(sv[1], SIOCINQ), 7);  // all sends, not just the first
    EXPECT_EQ(RecvString(sv[1], 2, MSG_PEEK), "ab");
    EXPECT_EQ(Ioctl(sv[1], SIOCINQ), 7);
    EXPECT_EQ(RecvString(sv[1], 2), "ab");
    EXPECT_EQ(Ioctl(sv[1], SIOCINQ), 5);
    EXPECT_EQ(RecvString(sv[1], 5), "cdefg");
    EXPECT_EQ(Ioctl(sv[1], SIOCINQ), 0);
    EXPECT_EQ(Ioctl(sv[0], SIOCINQ), 0);
    ClosePair(sv);
  }
}

TEST_P(StreamQueueIoctls, OutqNonZeroUntilPeerReadsAll) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    EXPECT_EQ(Ioctl(sv[0], SIOCOUTQ), 0);
    SendAll(sv[0], "abcdef");
    EXPECT_GE(Ioctl(sv[0], SIOCOUTQ), 6);
    EXPECT_EQ(Ioctl(sv[1], SIOCOUTQ), 0);
    EXPECT_EQ(RecvString(sv[1], 2), "ab");
    EXPECT_GT(Ioctl(sv[0], SIOCOUTQ), 0);
    EXPECT_EQ(RecvString(sv[1], 10), "cdef");
    EXPECT_EQ(Ioctl(sv[0], SIOCOUTQ), 0);
    ClosePair(sv);
  }
}

TEST_P(StreamQueueIoctls, UnconnectedAndListening) {
  const int fd = api().socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Ioctl(fd, SIOCINQ), 0);
  EXPECT_EQ(Ioctl(fd, SIOCOUTQ), 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  const std::string path = TempDir() + "/l";
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(api().bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_EQ(api().listen(fd, 1), 0);
  // net/unix/af_unix.c: unix_ioctl refuses SIOCINQ on a listener.
  int v = 0;
  errno = 0;
  EXPECT_EQ(api().ioctl(fd, SIOCINQ, &v), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Ioctl(fd, SIOCOUTQ), 0);
  EXPECT_EQ(api().close(fd), 0);
}

SHUNT_BOTH_BACKENDS(StreamQueueIoctls);

// ---------------------------------------------------------------------------
// A stream socket that is not connected (fresh or listening).

class StreamUnconnectedIo : public StreamFixture {};

// net/unix/af_unix.c: unix_stream_sendmsg fails with ENOTCONN (no SIGPIPE),
// but unix_stream_read_generic fails with EINVAL, not ENOTCONN.
TEST_P(StreamUnconnectedIo, SendIsEnotconnRecvIsEinval) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  const int fd = api().socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(fd, 0);
  char buf[4] = {};
  for (size_t len : {size_t{0}, sizeof(buf)}) {
    SCOPED_TRACE(len);
    errno = 0;
    EXPECT_EQ(api().send(fd, buf, len, 0), -1);
    EXPECT_EQ(errno, ENOTCONN);
    errno = 0;
    EXPECT_EQ(api().write(fd, buf, len), -1);
    EXPECT_EQ(errno, ENOTCONN);
    errno = 0;
    EXPECT_EQ(api().recv(fd, buf, len, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(api().recv(fd, buf, len, MSG_PEEK), -1);
    EXPECT_EQ(errno, EINVAL);
    if (len != 0) {
      errno = 0;
      EXPECT_EQ(api().read(fd, buf, len), -1);
      EXPECT_EQ(errno, EINVAL);
    }
  }
  // net/socket.c: sock_read_iter returns 0 for an empty read before asking
  // the protocol, so read() of 0 bytes succeeds where recv() fails.
  EXPECT_EQ(api().read(fd, buf, 0), 0);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  EXPECT_EQ(api().close(fd), 0);
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}

TEST_P(StreamUnconnectedIo, ListeningSocket) {
  const int fd = api().socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  const std::string path = TempDir() + "/l";
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(api().bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_EQ(api().listen(fd, 1), 0);
  char buf[4] = {};
  errno = 0;
  EXPECT_EQ(api().send(fd, buf, sizeof(buf), MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ENOTCONN);
  errno = 0;
  EXPECT_EQ(api().recv(fd, buf, sizeof(buf), 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(api().close(fd), 0);
}

SHUNT_BOTH_BACKENDS(StreamUnconnectedIo);

// ---------------------------------------------------------------------------
// Bulk transfers and a full send buffer.

class StreamBulkTransfer : public StreamFixture {};

TEST_P(StreamBulkTransfer, OneMebibyteThroughThreadPair) {
  constexpr size_t kTotal = 1 << 20;
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv, /*nonblock=*/false));
    EXPECT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 10000), 0) << strerror(errno);
    EXPECT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 10000), 0) << strerror(errno);
    std::string data(kTotal, '\0');
    for (size_t i = 0; i < kTotal; ++i) data[i] = PatternByte(i);
    std::atomic<int> writer_errno{0};
    std::thread writer([&] {
      size_t off = 0, chunk = 1;
      while (off < kTotal) {
        const size_t n = std::min(chunk, kTotal - off);
        const ssize_t r = api().send(sv[0], data.data() + off, n, MSG_NOSIGNAL);
        if (r <= 0) {
          writer_errno = r < 0 ? errno : -1;
          return;
        }
        off += r;
        chunk = chunk * 7 % 70001 + 1;  // varied sizes, 1 B .. 70 KB
      }
      api().shutdown(sv[0], SHUT_WR);
    });
    std::string got;
    got.reserve(kTotal);
    std::vector<char> buf(65536);
    size_t want = 3;
    for (;;) {
      const ssize_t r = api().recv(sv[1], buf.data(), want, 0);
      if (r <= 0) {
        EXPECT_EQ(r, 0) << strerror(errno);
        break;
      }
      got.append(buf.data(), r);
      want = want * 5 % 65536 + 1;
    }
    writer.join();
    EXPECT_EQ(writer_errno.load(), 0);
    ASSERT_EQ(got.size(), kTotal);
    EXPECT_TRUE(got == data) << "content mismatch";
    ClosePair(sv);
  }
}

// How many bytes fit before the buffer is full depends on the kernel's
// memory accounting and is not asserted; only that the sender eventually
// gets EAGAIN and that every byte it was told was sent arrives intact.
TEST_P(StreamBulkTransfer, FullSendBufferIsEagainAndLosesNothing) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    constexpr size_t kChunk = 10000;
    constexpr size_t kLimit = 64 << 20;  // give up rather than loop forever
    std::string chunk(kChunk, '\0');
    size_t sent = 0;
    bool full = false;
    while (sent < kLimit) {
      for (size_t i = 0; i < kChunk; ++i) chunk[i] = PatternByte(sent + i);
      const ssize_t r = api().send(sv[0], chunk.data(), kChunk, MSG_NOSIGNAL);
      if (r < 0) {
        EXPECT_EQ(errno, EAGAIN);
        full = true;
        break;
      }
      ASSERT_GT(r, 0);
      ASSERT_LE(static_cast<size_t>(r), kChunk);
      sent += r;
    }
    ASSERT_TRUE(full) << "send never reported a full buffer";
    ASSERT_GT(sent, 0u);
    // Still full: MSG_DONTWAIT on a socket that is nonblocking anyway.
    errno = 0;
    EXPECT_EQ(api().send(sv[0], chunk.data(), kChunk, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EAGAIN);

    size_t received = 0;
    bool intact = true;
    std::vector<char> buf(32768);
    for (;;) {
      const ssize_t r = api().recv(sv[1], buf.data(), buf.size(), 0);
      if (r < 0) {
        EXPECT_EQ(errno, EAGAIN);
        break;
      }
      ASSERT_GT(r, 0);
      for (ssize_t i = 0; i < r; ++i) {
        if (buf[i] != PatternByte(received + i)) intact = false;
      }
      received += r;
    }
    EXPECT_EQ(received, sent);
    EXPECT_TRUE(intact);
    // Room again once drained.
    EXPECT_EQ(api().send(sv[0], "z", 1, MSG_NOSIGNAL), 1);
    EXPECT_EQ(RecvString(sv[1], 4), "z");
    ClosePair(sv);
  }
}

// sock_alloc_send_pskb lets a stream sender allocate a whole skb while its
// in-flight charge is below SO_SNDBUF, so a send is not cut to the room
// left: with 1864 bytes in flight and a 20000-byte buffer, a large send
// takes whole skbs of 20000/2 - 64 = 9936 bytes (two here), not 18136.
// (Found by `shunt diff`.)
TEST_P(StreamBulkTransfer, SendTakesWholeSkbsWhileRoomIsLeft) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF, 10000), 0);
  ASSERT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF), 20000);
  const std::string first(1911, 'a');
  ASSERT_EQ(api().send(sv[0], first.data(), first.size(), MSG_DONTWAIT), 1911);
  EXPECT_EQ(RecvString(sv[1], 47).size(), 47u);
  const std::string big(31468, 'b');
  const ssize_t r = api().send(sv[0], big.data(), big.size(), MSG_DONTWAIT);
  EXPECT_EQ(r % 9936, 0) << r;
  EXPECT_GE(r, 2 * 9936);
}

SHUNT_BOTH_BACKENDS(StreamBulkTransfer);

// ---------------------------------------------------------------------------
// sendmmsg/recvmmsg on a stream: each entry is one sendmsg/recvmsg call.

class StreamMultiMessage : public StreamFixture {};

TEST_P(StreamMultiMessage, SendmmsgSendsEachEntry) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    char a[] = "one", b[] = "two!", c[] = "";
    iovec iov[3] = {{a, 3}, {b, 4}, {c, 0}};
    mmsghdr v[3] = {};
    for (int i = 0; i < 3; ++i) {
      v[i].msg_hdr.msg_iov = &iov[i];
      v[i].msg_hdr.msg_iovlen = 1;
      v[i].msg_len = 999;
    }
    EXPECT_EQ(api().sendmmsg(sv[0], v, 3, 0), 3);
    EXPECT_EQ(v[0].msg_len, 3u);
    EXPECT_EQ(v[1].msg_len, 4u);
    EXPECT_EQ(v[2].msg_len, 0u);
    EXPECT_EQ(RecvString(sv[1], 100), "onetwo!");
    EXPECT_EQ(api().sendmmsg(sv[0], v, 0, 0), 0);
    ClosePair(sv);
  }
}

// do_recvmmsg reports a pending socket error before receiving anything,
// unless MSG_ERRQUEUE is given (which AF_UNIX otherwise ignores): then the
// queued bytes come first and the error stays pending. (Found by `shunt
// diff`.)
TEST_P(StreamMultiMessage, RecvmmsgErrqueueSkipsThePendingError) {
  for (int flags : {0, int{MSG_ERRQUEUE}}) {
    SCOPED_TRACE(flags);
    int sv[2];
    Pair(SOCK_STREAM, sv);
    SendAll(sv[0], "x");
    SendAll(sv[1], "y");
    ASSERT_EQ(Close(sv[1]), 0);  // unread "x": sv[0] gets ECONNRESET
    char buf[4];
    iovec iov = {buf, sizeof buf};
    mmsghdr v = {};
    v.msg_hdr.msg_iov = &iov;
    v.msg_hdr.msg_iovlen = 1;
    errno = 0;
    if (flags == 0) {
      EXPECT_EQ(api().recvmmsg(sv[0], &v, 1, MSG_DONTWAIT, nullptr), -1);
      EXPECT_EQ(errno, ECONNRESET);
      EXPECT_EQ(RecvString(sv[0], 4), "y");
    } else {
      EXPECT_EQ(api().recvmmsg(sv[0], &v, 1, MSG_DONTWAIT | flags, nullptr), 1);
      EXPECT_EQ(v.msg_len, 1u);
      EXPECT_EQ(buf[0], 'y');
      EXPECT_EQ(api().recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), -1);
      EXPECT_EQ(errno, ECONNRESET);
    }
    ASSERT_EQ(Close(sv[0]), 0);
  }
}

TEST_P(StreamMultiMessage, RecvmmsgSplitsQueuedBytes) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abc");
    SendAll(sv[0], "def");
    char bufs[3][4];
    iovec iov[3];
    mmsghdr v[3] = {};
    for (int i = 0; i < 3; ++i) {
      iov[i] = {bufs[i], 4};
      v[i].msg_hdr.msg_iov = &iov[i];
      v[i].msg_hdr.msg_iovlen = 1;
      v[i].msg_len = 999;
    }
    // Each entry reads as much as fits; the third finds the queue empty and
    // ends the call, which reports the two entries filled.
    EXPECT_EQ(api().recvmmsg(sv[1], v, 3, MSG_DONTWAIT, nullptr), 2);
    EXPECT_EQ(v[0].msg_len, 4u);
    EXPECT_EQ(std::string(bufs[0], 4), "abcd");
    EXPECT_EQ(v[1].msg_len, 2u);
    EXPECT_EQ(std::string(bufs[1], 2), "ef");
    EXPECT_EQ(v[2].msg_len, 999u);
    // Nothing at all: the error itself.
    errno = 0;
    EXPECT_EQ(api().recvmmsg(sv[1], v, 3, MSG_DONTWAIT, nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(api().recvmmsg(sv[1], v, 0, MSG_DONTWAIT, nullptr), 0);
    ClosePair(sv);
  }
}

// At EOF every entry "succeeds" with 0 bytes (net/socket.c: do_recvmmsg
// counts zero-length receives), so all vlen entries are reported.
TEST_P(StreamMultiMessage, RecvmmsgAtEofFillsEveryEntryWithZero) {
  for (PairKind kind : kAllKinds) {
    SCOPED_TRACE(KindName(kind));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakePair(kind, sv));
    SendAll(sv[0], "abc");
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    char bufs[3][4];
    iovec iov[3];
    mmsghdr v[3] = {};
    for (int i = 0; i < 3; ++i) {
      iov[i] = {bufs[i], 4};
      v[i].msg_hdr.msg_iov = &iov[i];
      v[i].msg_hdr.msg_iovlen = 1;
      v[i].msg_len = 999;
    }
    EXPECT_EQ(api().recvmmsg(sv[1], v, 3, MSG_DONTWAIT, nullptr), 3);
    EXPECT_EQ(v[0].msg_len, 3u);
    EXPECT_EQ(v[1].msg_len, 0u);
    EXPECT_EQ(v[2].msg_len, 0u);
    EXPECT_EQ(api().recvmmsg(sv[1], v, 3, MSG_DONTWAIT, nullptr), 3);
    EXPECT_EQ(v[0].msg_len, 0u);
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(StreamMultiMessage);

}  // namespace

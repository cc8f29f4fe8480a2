// A socket's state changed between two plain sends or receives on a
// stream pair: each call must see the change as if it were the first call
// ever made. shunt's fast paths remember what they established about an
// exclusive pair (net/pair_view.h) until a call of another kind moves the
// process's socket epoch; these tests make exactly such changes between
// plain calls that would otherwise take the fast path, on both backends.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "backend.h"

namespace {

class StateChangesBetweenCalls : public shunt_test::BothBackends {
 protected:
  // Warms both directions of a fresh nonblocking pair with plain calls, so
  // that the next plain calls find whatever the first ones kept.
  void MakeWarmPair(int sv[2], int type = SOCK_STREAM) {
    Pair(type | SOCK_NONBLOCK, sv);
    for (int i = 0; i < 3; ++i) {
      SendAll(sv[0], "ping");
      EXPECT_EQ(RecvString(sv[1], 16), "ping");
      SendAll(sv[1], "pong");
      EXPECT_EQ(RecvString(sv[0], 16), "pong");
    }
  }
  // recvmsg of up to 64 bytes with room for one control message of 64
  // bytes; returns the bytes and sets *cmsg_type to the first control
  // message's type (0 if none).
  std::string RecvWithControl(int fd, int* cmsg_type) {
    char buf[64];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char ctl[CMSG_SPACE(64)];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    const ssize_t n = api().recvmsg(fd, &mh, MSG_DONTWAIT);
    EXPECT_GE(n, 0) << strerror(errno);
    const cmsghdr* h = CMSG_FIRSTHDR(&mh);
    *cmsg_type = h != nullptr ? h->cmsg_type : 0;
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
};

// maybe_add_creds: once the receiver passes credentials, every later
// segment carries them, the first plain send after the change included.
TEST_P(StateChangesBetweenCalls, PassCredTurnedOnAttachesCredentials) {
  int sv[2];
  MakeWarmPair(sv);
  ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PASSCRED, 1), 0);
  SendAll(sv[0], "after");
  int type = 0;
  EXPECT_EQ(RecvWithControl(sv[1], &type), "after");
  EXPECT_EQ(type, SCM_CREDENTIALS);
}

// SO_PASSCRED turned on with bytes already queued: the next read reports
// credentials all the same (unix_stream_read_generic reads the option, not
// the segment), the ones a send without them leaves (pid 0, overflow ids),
// and with no control buffer the read is MSG_CTRUNC.
TEST_P(StateChangesBetweenCalls, PassCredTurnedOnReportsQueuedBytes) {
  int sv[2];
  MakeWarmPair(sv);
  SendAll(sv[0], "before");
  ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PASSCRED, 1), 0);
  char buf[16];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl;
  mh.msg_controllen = sizeof ctl;
  EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_DONTWAIT), 6);
  const cmsghdr* h = CMSG_FIRSTHDR(&mh);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->cmsg_type, SCM_CREDENTIALS);
  ucred c;
  memcpy(&c, CMSG_DATA(h), sizeof c);
  EXPECT_EQ(c.pid, 0);
  EXPECT_EQ(c.uid, 65534u);
  SendAll(sv[0], "after");
  mh.msg_control = nullptr;
  mh.msg_controllen = 0;
  EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_DONTWAIT), 5);
  EXPECT_EQ(mh.msg_flags, MSG_CTRUNC);
}

TEST_P(StateChangesBetweenCalls, ShutdownWriteStopsTheNextSend) {
  int sv[2];
  MakeWarmPair(sv);
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  // The other direction still works, and the reader sees EOF.
  SendAll(sv[1], "back");
  EXPECT_EQ(RecvString(sv[0], 16), "back");
  EXPECT_EQ(api().recv(sv[1], nullptr, 0, MSG_DONTWAIT), 0);
}

TEST_P(StateChangesBetweenCalls, PeerShutdownReadStopsTheNextSend) {
  int sv[2];
  MakeWarmPair(sv);
  ASSERT_EQ(api().shutdown(sv[1], SHUT_RD), 0);
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST_P(StateChangesBetweenCalls, PeerClosedStopsTheNextSend) {
  int sv[2];
  MakeWarmPair(sv);
  ExpectClose(sv[1]);
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(api().recv(sv[0], nullptr, 0, MSG_DONTWAIT), 0);
}

// The descriptor numbers of a closed pair come back for a new pair (maybe
// on the same pooled sockets): calls on them reach the new pair only.
TEST_P(StateChangesBetweenCalls, ReusedDescriptorNumbersReachTheNewPair) {
  int a[2];
  MakeWarmPair(a);
  SendAll(a[0], "stale");
  ExpectClose(a[0]);
  ExpectClose(a[1]);
  int b[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK, b);
  EXPECT_EQ(b[0], a[0]);
  EXPECT_EQ(b[1], a[1]);
  errno = 0;
  char buf[8];
  EXPECT_EQ(api().recv(b[1], buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  SendAll(b[0], "fresh");
  EXPECT_EQ(RecvString(b[1], 16), "fresh");
}

// dup2 puts another socket under a warm descriptor number.
TEST_P(StateChangesBetweenCalls, Dup2ReplacesTheSocketUnderANumber) {
  int a[2], b[2];
  MakeWarmPair(a);
  MakeWarmPair(b);
  ASSERT_EQ(api().dup2(b[0], a[0]), a[0]);
  SendAll(a[0], "via b");
  EXPECT_EQ(RecvString(b[1], 16), "via b");
  errno = 0;
  char buf[8];
  EXPECT_EQ(api().recv(a[1], buf, sizeof buf, MSG_DONTWAIT), 0);  // a[0] gone
}

// sk_peek_offset_bwd: a plain read moves an enabled peek offset back.
TEST_P(StateChangesBetweenCalls, PeekOffsetSetBetweenReadsFollowsThem) {
  int sv[2];
  MakeWarmPair(sv);
  SendAll(sv[0], "abcdef");
  EXPECT_EQ(RecvString(sv[1], 1), "a");
  ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF, 3), 0);
  EXPECT_EQ(RecvString(sv[1], 2), "bc");
  EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF), 1);
  EXPECT_EQ(RecvString(sv[1], 8, MSG_PEEK), "ef");
}

// A byte sent with MSG_OOB between plain sends: the plain read stops at
// the mark (unix_stream_read_generic), and later plain sends queue after.
TEST_P(StateChangesBetweenCalls, UrgentByteBetweenPlainSendsMarksTheStream) {
  int sv[2];
  MakeWarmPair(sv);
  SendAll(sv[0], "ab");
  ASSERT_EQ(api().send(sv[0], "X", 1, MSG_OOB), 1);
  SendAll(sv[0], "cd");
  EXPECT_EQ(RecvString(sv[1], 16), "ab");
  char oob = 0;
  EXPECT_EQ(api().recv(sv[1], &oob, 1, MSG_OOB), 1);
  EXPECT_EQ(oob, 'X');
  EXPECT_EQ(RecvString(sv[1], 16), "cd");
}

// After fork both processes hold the pair: a child's plain send reaches
// the parent's plain read, and the parent's its own.
TEST_P(StateChangesBetweenCalls, ForkSharesAWarmPair) {
  int sv[2];
  MakeWarmPair(sv);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // exit(), not _exit(): shunt closes a process's descriptors at normal
    // exit.
    for (int i = 0; i < 100; ++i) {
      if (api().send(sv[0], "c", 1, MSG_NOSIGNAL) != 1) exit(1);
    }
    exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SendAll(sv[0], "p");
  std::string got;
  while (got.size() < 101) {
    const std::string part = RecvString(sv[1], 256);
    if (part.empty()) break;
    got += part;
  }
  std::string want(100, 'c');
  want.push_back('p');
  EXPECT_EQ(got, want);
}

// The same for datagram-style pairs (net/unix_dgram.h).

TEST_P(StateChangesBetweenCalls, DatagramPassCredTurnedOnAttachesCredentials) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    MakeWarmPair(sv, type);
    ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PASSCRED, 1), 0);
    SendAll(sv[0], "after");
    int cmsg_type = 0;
    EXPECT_EQ(RecvWithControl(sv[1], &cmsg_type), "after") << type;
    EXPECT_EQ(cmsg_type, SCM_CREDENTIALS) << type;
  }
}

TEST_P(StateChangesBetweenCalls, DatagramShutdownWriteStopsTheNextSend) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    MakeWarmPair(sv, type);
    ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1) << type;
    EXPECT_EQ(errno, EPIPE) << type;
  }
}

TEST_P(StateChangesBetweenCalls, DatagramPeerClosedStopsTheNextSend) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    MakeWarmPair(sv, type);
    ExpectClose(sv[1]);
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "x", 1, MSG_NOSIGNAL), -1) << type;
    EXPECT_EQ(errno, type == SOCK_DGRAM ? ECONNREFUSED : EPIPE) << type;
  }
}

TEST_P(StateChangesBetweenCalls, DatagramPeekOffsetSetBetweenReadsFollowsThem) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    MakeWarmPair(sv, type);
    SendAll(sv[0], "abcdef");
    SendAll(sv[0], "ghij");
    ASSERT_EQ(SetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF, 2), 0);
    EXPECT_EQ(RecvString(sv[1], 16, MSG_PEEK), "cdef") << type;
    EXPECT_EQ(RecvString(sv[1], 16), "abcdef") << type;
    EXPECT_EQ(RecvString(sv[1], 16), "ghij") << type;
  }
}

// do_recvmmsg: an error after some messages were received is kept in
// SO_ERROR for the next call, here a plain send (sock_alloc_send_pskb).
TEST_P(StateChangesBetweenCalls, RecvmmsgErrorReachesThePlainSendAfterIt) {
  int sv[2];
  MakeWarmPair(sv, SOCK_DGRAM);
  void* bad =
      mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(bad, MAP_FAILED);
  SendAll(sv[0], "one");
  SendAll(sv[0], "two");
  char first[8];
  iovec iov[2] = {{first, sizeof first}, {bad, 8}};
  mmsghdr vec[2] = {};
  vec[0].msg_hdr.msg_iov = &iov[0];
  vec[0].msg_hdr.msg_iovlen = 1;
  vec[1].msg_hdr.msg_iov = &iov[1];
  vec[1].msg_hdr.msg_iovlen = 1;
  EXPECT_EQ(api().recvmmsg(sv[1], vec, 2, MSG_DONTWAIT, nullptr), 1);
  errno = 0;
  EXPECT_EQ(api().send(sv[1], "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EFAULT);
  SendAll(sv[1], "y");
  EXPECT_EQ(RecvString(sv[0], 8), "y");
  munmap(bad, 4096);
}

// A send too big for the receiver's ring takes the general path, which
// grows the ring after the call's own fast-path attempt; once the queue is
// drained, a plain send small enough for the old ring must write to the
// new one.
TEST_P(StateChangesBetweenCalls, RingGrownByAGeneralSendIsTheOneWrittenNext) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type | SOCK_NONBLOCK, sv);
    std::string buf(1 << 16, '\0');
    for (int round = 0; round < 4; ++round) {
      // Each round needs a bigger ring than the one before.
      const std::string big(1500u << round, static_cast<char>('a' + round));
      for (const std::string& m : {std::string("x"), big, std::string("yz")}) {
        ASSERT_EQ(api().send(sv[0], m.data(), m.size(), 0),
                  static_cast<ssize_t>(m.size()));
        const ssize_t n = api().recv(sv[1], buf.data(), buf.size(), 0);
        ASSERT_EQ(n, static_cast<ssize_t>(m.size()));
        EXPECT_TRUE(buf.compare(0, m.size(), m) == 0) << "round " << round;
      }
    }
    ExpectClose(sv[0]);
    ExpectClose(sv[1]);
  }
}

SHUNT_BOTH_BACKENDS(StateChangesBetweenCalls);

}  // namespace

// MSG_OOB on AF_UNIX stream sockets (CONFIG_AF_UNIX_OOB): the last byte of
// an urgent send, SIOCATMARK, SO_OOBINLINE, POLLPRI and where reads stop
// (net/unix/af_unix.c: queue_oob, manage_oob, unix_stream_recv_urg,
// unix_ioctl).
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"

namespace {

class UrgentData : public shunt_test::BothBackends {
 protected:
  void SetUp() override {
    BothBackends::SetUp();
    Pair(SOCK_STREAM | SOCK_NONBLOCK, sv_);
  }
  int AtMark() {
    int v = -1;
    EXPECT_EQ(api().ioctl(sv_[1], SIOCATMARK, &v), 0);
    return v;
  }
  int Inq() {
    int v = -1;
    EXPECT_EQ(api().ioctl(sv_[1], SIOCINQ, &v), 0);
    return v;
  }
  short Revents() {
    pollfd p{sv_[1], POLLIN | POLLPRI, 0};
    const int n = api().poll(&p, 1, 0);
    EXPECT_EQ(n, p.revents != 0 ? 1 : 0);
    return p.revents;
  }
  // recv of up to len bytes: the bytes, or "E<errno>".
  std::string Recv(size_t len, int flags = 0) {
    std::string buf(len, '\0');
    const ssize_t n = api().recv(sv_[1], buf.data(), len, flags);
    if (n < 0) return "E" + std::to_string(errno);
    buf.resize(n);
    return buf;
  }
  ssize_t Send(const std::string& s, int flags = 0) {
    return api().send(sv_[0], s.data(), s.size(), flags);
  }
  // Sends "U" as urgent data from sv_[0] carrying descriptor fd.
  void SendUrgentWith(int fd) {
    ASSERT_EQ(shunt_test::SendRights(api().sendmsg, sv_[0], {fd}, MSG_OOB, 'U'),
              1);
  }
  // SendUrgentWith the read end of a new pipe, then closes that end here:
  // the message holds the pipe's only reader. The write end goes to
  // *writer (the caller closes it).
  void SendUrgentWithPipeReader(int* writer) {
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    ASSERT_NO_FATAL_FAILURE(SendUrgentWith(p[0]));
    ASSERT_EQ(close(p[0]), 0);
    *writer = p[1];
  }
  // True once the pipe behind writer has no reader left (POLLERR).
  static bool ReaderGone(int writer) {
    pollfd p{writer, POLLOUT, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
  }
  int sv_[2];
};

TEST_P(UrgentData, LastByteOfTheSendIsUrgent) {
  ASSERT_EQ(Send("abc", MSG_OOB), 3);
  EXPECT_EQ(Revents(), POLLIN | POLLPRI);
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Inq(), 3);
  char c = 0;
  iovec iov{&c, 1};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ASSERT_EQ(api().recvmsg(sv_[1], &mh, MSG_OOB), 1);
  EXPECT_EQ(c, 'c');
  EXPECT_EQ(mh.msg_flags, MSG_OOB);
  EXPECT_EQ(Revents(), POLLIN);
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Recv(10), "ab");
  EXPECT_EQ(Recv(10), "E" + std::to_string(EAGAIN));
  EXPECT_EQ(Revents(), 0);
}

// An urgent read into no buffer at all still takes the byte: copying into
// an exhausted iterator is no fault (skb_copy_datagram_iter).
TEST_P(UrgentData, EmptyBufferStillTakesTheByte) {
  ASSERT_EQ(Send("ab", MSG_OOB), 2);
  msghdr mh{};
  ASSERT_EQ(api().recvmsg(sv_[1], &mh, MSG_OOB), 1);
  EXPECT_EQ(mh.msg_flags, MSG_OOB);
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  EXPECT_EQ(Recv(10), "a");
}

TEST_P(UrgentData, ReadsStopAtTheMark) {
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("cd", MSG_OOB), 2);
  ASSERT_EQ(Send("ef"), 2);
  EXPECT_EQ(Recv(10), "abc");
  EXPECT_EQ(AtMark(), 1);
  // Not taken with MSG_OOB and not inline: a read passes over it (and it
  // is gone).
  EXPECT_EQ(Recv(10), "ef");
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
}

TEST_P(UrgentData, TakenUrgentByteStillEndsTheReadBeforeIt) {
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("c", MSG_OOB), 1);
  ASSERT_EQ(Send("de"), 2);
  EXPECT_EQ(Recv(1, MSG_OOB), "c");
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Recv(10), "ab");
  EXPECT_EQ(AtMark(), 1);
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Recv(10), "de");
}

// Linux 6.18 keeps a stream socket's SIOCINQ in a counter (u->inq_len,
// read by unix_inq_len) that manage_oob does not lower when a read passes
// over an urgent byte not read inline: the byte is gone (no data, no
// POLLIN, not at the mark) but stays counted for the socket's whole life,
// one more for every such byte.
TEST_P(UrgentData, SkippedUrgentByteStaysCountedInInq) {
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  EXPECT_EQ(Inq(), 1);
  EXPECT_EQ(AtMark(), 1);
  EXPECT_EQ(Recv(10), "E" + std::to_string(EAGAIN));
  EXPECT_EQ(Inq(), 1);
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Revents(), 0);
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  ASSERT_EQ(Send("bc"), 2);
  EXPECT_EQ(Inq(), 3);
  EXPECT_EQ(Recv(10), "bc");
  EXPECT_EQ(Inq(), 1);
  // A second skipped byte adds to the first.
  ASSERT_EQ(Send("d", MSG_OOB), 1);
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Recv(10), "E" + std::to_string(EAGAIN));
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Revents(), 0);
}

TEST_P(UrgentData, ByteSkippedMidStreamStaysCountedInInq) {
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("cd", MSG_OOB), 2);
  ASSERT_EQ(Send("ef"), 2);
  EXPECT_EQ(Inq(), 6);
  EXPECT_EQ(Recv(1), "a");
  EXPECT_EQ(Inq(), 5);
  EXPECT_EQ(Recv(10), "bc");
  EXPECT_EQ(Inq(), 3);
  EXPECT_EQ(AtMark(), 1);
  EXPECT_EQ(Revents(), POLLIN | POLLPRI);
  EXPECT_EQ(Recv(10), "ef");
  EXPECT_EQ(Inq(), 1);
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Revents(), 0);
  ASSERT_EQ(Send("g"), 1);
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Recv(10), "g");
  EXPECT_EQ(Inq(), 1);
}

// A read of no bytes at the mark passes over the urgent byte too.
TEST_P(UrgentData, EmptyReadAtTheMarkSkipsTheUrgentByte) {
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  ASSERT_EQ(Send("bc"), 2);
  EXPECT_EQ(Recv(0), "");
  EXPECT_EQ(Revents(), POLLIN);
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Inq(), 3);
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  EXPECT_EQ(Recv(10), "bc");
  EXPECT_EQ(Inq(), 1);
}

// Only a byte dropped unread stays counted: one taken with MSG_OOB, read
// inline (SO_OOBINLINE set even after it arrived), or only peeked past
// leaves the count exact.
TEST_P(UrgentData, UrgentByteTakenReadInlineOrPeekedIsNotCounted) {
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  ASSERT_EQ(Send("b"), 1);
  EXPECT_EQ(Recv(10, MSG_PEEK), "b");
  EXPECT_EQ(Inq(), 2);
  EXPECT_EQ(Recv(1, MSG_OOB), "a");
  EXPECT_EQ(Inq(), 1);
  EXPECT_EQ(Recv(10), "b");
  EXPECT_EQ(Inq(), 0);
  ASSERT_EQ(Send("c", MSG_OOB), 1);
  ASSERT_EQ(SetIntOption(sv_[1], SOL_SOCKET, SO_OOBINLINE, 1), 0);
  EXPECT_EQ(Recv(10), "c");
  EXPECT_EQ(Inq(), 0);
  EXPECT_EQ(Revents(), 0);
}

TEST_P(UrgentData, InlineUrgentByteIsReadAsData) {
  ASSERT_EQ(SetIntOption(sv_[1], SOL_SOCKET, SO_OOBINLINE, 1), 0);
  EXPECT_EQ(GetIntOption(sv_[1], SOL_SOCKET, SO_OOBINLINE), 1);
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("c", MSG_OOB), 1);
  ASSERT_EQ(Send("de"), 2);
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  EXPECT_EQ(Revents(), POLLIN | POLLPRI);
  EXPECT_EQ(Recv(10), "ab");
  EXPECT_EQ(AtMark(), 1);
  EXPECT_EQ(Recv(10), "cde");
  EXPECT_EQ(Revents(), 0);
}

TEST_P(UrgentData, NewerUrgentByteReplacesTheOlder) {
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  ASSERT_EQ(Send("b", MSG_OOB), 1);
  EXPECT_EQ(AtMark(), 0);
  EXPECT_EQ(Recv(1, MSG_OOB), "b");
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  EXPECT_EQ(Recv(10), "a");
  EXPECT_EQ(Recv(10), "E" + std::to_string(EAGAIN));
}

TEST_P(UrgentData, PeekLeavesTheUrgentByte) {
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("c", MSG_OOB), 1);
  EXPECT_EQ(Recv(1, MSG_OOB | MSG_PEEK), "c");
  EXPECT_EQ(Revents(), POLLIN | POLLPRI);
  EXPECT_EQ(Recv(10, MSG_PEEK), "ab");
  EXPECT_EQ(Recv(1, MSG_OOB), "c");
  EXPECT_EQ(Recv(10, MSG_PEEK), "ab");
  EXPECT_EQ(Recv(10), "ab");
}

TEST_P(UrgentData, PeekAtTheMarkSkipsTheUrgentByte) {
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  ASSERT_EQ(Send("bc"), 2);
  EXPECT_EQ(AtMark(), 1);
  EXPECT_EQ(Recv(10, MSG_PEEK), "bc");
  EXPECT_EQ(Recv(1, MSG_OOB), "a");
  EXPECT_EQ(Recv(10), "bc");
}

// unix_stream_read_generic applies manage_oob where a pass starts, before
// the peek offset, then skips whole skbs without it: an offset that ends
// at the urgent byte peeks it as data, and one that starts at it does not
// count it.
TEST_P(UrgentData, PeekOffsetReachesPastTheMarkCheck) {
  ASSERT_EQ(Send("abc"), 3);
  ASSERT_EQ(Send("X", MSG_OOB), 1);
  ASSERT_EQ(SetIntOption(sv_[1], SOL_SOCKET, SO_PEEK_OFF, 3), 0);
  EXPECT_EQ(Recv(10, MSG_PEEK), "X");
  EXPECT_EQ(GetIntOption(sv_[1], SOL_SOCKET, SO_PEEK_OFF), 4);
  EXPECT_EQ(Recv(10), "abc");  // a real read still stops at the mark
  EXPECT_EQ(Recv(1, MSG_OOB), "X");
}

TEST_P(UrgentData, PeekOffsetFromTheMarkSkipsTheUrgentByte) {
  ASSERT_EQ(Send("X", MSG_OOB), 1);
  ASSERT_EQ(Send("de"), 2);
  ASSERT_EQ(SetIntOption(sv_[1], SOL_SOCKET, SO_PEEK_OFF, 1), 0);
  EXPECT_EQ(Recv(10, MSG_PEEK), "e");
  EXPECT_EQ(Recv(1, MSG_OOB), "X");
  EXPECT_EQ(Recv(10), "de");
}

// unix_release_sock: a queue holding only the taken urgent byte's empty
// skb counts as read, so closing then resets nobody; anything more does.
TEST_P(UrgentData, CloseAfterTakingTheLastByteDoesNotReset) {
  ASSERT_EQ(Send("ab"), 2);
  ASSERT_EQ(Send("X", MSG_OOB), 1);
  EXPECT_EQ(Recv(10), "ab");
  EXPECT_EQ(Recv(1, MSG_OOB), "X");
  EXPECT_EQ(AtMark(), 1);
  ExpectClose(sv_[1]);
  pollfd p{sv_[0], POLLIN | POLLPRI, 0};
  EXPECT_EQ(api().poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLIN | POLLHUP);
  EXPECT_EQ(GetIntOption(sv_[0], SOL_SOCKET, SO_ERROR), 0);
}

TEST_P(UrgentData, CloseWithDataAfterTheTakenByteResets) {
  ASSERT_EQ(Send("X", MSG_OOB), 1);
  ASSERT_EQ(Send("de"), 2);
  EXPECT_EQ(Recv(1, MSG_OOB), "X");
  ExpectClose(sv_[1]);
  EXPECT_EQ(GetIntOption(sv_[0], SOL_SOCKET, SO_ERROR), ECONNRESET);
}

// Taking an urgent byte removes a taken one right before it
// (unix_stream_recv_urg, Linux 6.18 and stable kernels since 2025): taken
// bytes never stand side by side, at the front of the queue or after data.
TEST_P(UrgentData, TakingAnUrgentByteRemovesATakenOneBeforeIt) {
  for (const std::string before : {"", "xy"}) {
    SCOPED_TRACE("before: '" + before + "'");
    Pair(SOCK_STREAM | SOCK_NONBLOCK, sv_);  // a fresh pair each time
    if (!before.empty()) {
      ASSERT_EQ(Send(before), 2);
    }
    ASSERT_EQ(Send("a", MSG_OOB), 1);
    EXPECT_EQ(Recv(1, MSG_OOB), "a");
    ASSERT_EQ(Send("b", MSG_OOB), 1);
    EXPECT_EQ(Recv(1, MSG_OOB), "b");
    EXPECT_EQ(Inq(), static_cast<int>(before.size()));
    ASSERT_EQ(Send("cd", MSG_OOB), 2);  // 'd' urgent
    // The read passes over the one taken byte left and stops at the mark;
    // the next one drops the urgent byte unread.
    EXPECT_EQ(Recv(8), before + "c");
    EXPECT_EQ(Recv(8), "E" + std::to_string(EAGAIN));
    EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  }
  // Nothing unread is left: closing does not reset the peer.
  ExpectClose(sv_[1]);
  EXPECT_EQ(GetIntOption(sv_[0], SOL_SOCKET, SO_ERROR), 0);
}

// The taken byte removed that way releases the descriptors it carried.
TEST_P(UrgentData, RemovedTakenByteReleasesItsDescriptors) {
  int writer;
  ASSERT_NO_FATAL_FAILURE(SendUrgentWithPipeReader(&writer));
  EXPECT_EQ(Recv(1, MSG_OOB), "U");
  EXPECT_FALSE(ReaderGone(writer));
  ASSERT_EQ(Send("b", MSG_OOB), 1);
  EXPECT_EQ(Recv(1, MSG_OOB), "b");
  EXPECT_TRUE(ReaderGone(writer));
  close(writer);
}

TEST_P(UrgentData, RefusedWithoutAByteOrOnMessageSockets) {
  EXPECT_EQ(Send("", MSG_OOB), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(Recv(1, MSG_OOB), "E" + std::to_string(EINVAL));
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    int m[2];
    Pair(type, m);
    errno = 0;
    EXPECT_EQ(api().send(m[0], "x", 1, MSG_OOB), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    char c;
    errno = 0;
    EXPECT_EQ(api().recv(m[1], &c, 1, MSG_OOB | MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
  }
}

TEST_P(UrgentData, SendsAfterShutdownFail) {
  ASSERT_EQ(api().shutdown(sv_[1], SHUT_RD), 0);
  errno = 0;
  EXPECT_EQ(Send("x", MSG_OOB | MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

std::atomic<int> g_sigurg{0};
void CountSigurg(int) { g_sigurg.fetch_add(1); }

// Counts SIGURG deliveries in g_sigurg, from zero, while it lives.
class ScopedSigurgCounter {
 public:
  ScopedSigurgCounter() {
    struct sigaction sa {};
    sa.sa_handler = CountSigurg;
    sigemptyset(&sa.sa_mask);
    EXPECT_EQ(sigaction(SIGURG, &sa, &old_), 0);
    g_sigurg = 0;
  }
  ~ScopedSigurgCounter() { sigaction(SIGURG, &old_, nullptr); }
  ScopedSigurgCounter(const ScopedSigurgCounter&) = delete;
  ScopedSigurgCounter& operator=(const ScopedSigurgCounter&) = delete;

 private:
  struct sigaction old_ {};
};

TEST_P(UrgentData, OwnerGetsSigurg) {
  ScopedSigurgCounter sigurg;
  ASSERT_EQ(Send("x", MSG_OOB), 1);
  EXPECT_EQ(g_sigurg.load(), 0);  // no owner yet
  ASSERT_EQ(api().fcntl(sv_[1], F_SETOWN, getpid()), 0);
  EXPECT_EQ(api().fcntl(sv_[1], F_GETOWN, 0), getpid());
  ASSERT_EQ(Send("y", MSG_OOB), 1);
  EXPECT_EQ(g_sigurg.load(), 1);
  ASSERT_EQ(Send("z"), 1);
  EXPECT_EQ(g_sigurg.load(), 1);  // plain data: none
}

// The owner set by F_SETOWN_EX (a thread or a process), FIOSETOWN or
// SIOCSPGRP is the one F_GETOWN, F_GETOWN_EX and FIOGETOWN report and the
// one SIGURG goes to (f_setown_ex, f_getown_ex, sock_ioctl).
TEST_P(UrgentData, OwnerSetByEveryCallIsTheOneSignalled) {
  ScopedSigurgCounter sigurg;
  f_owner_ex ex{};
  auto get_ex = [&] {
    ex = f_owner_ex{};
    EXPECT_EQ(api().fcntl(sv_[1], F_GETOWN_EX, reinterpret_cast<long>(&ex)), 0);
    return std::make_pair(static_cast<int>(ex.type), ex.pid);
  };
  // A fresh socket: a thread type and nobody.
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_TID}, 0));
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  ex = f_owner_ex{F_OWNER_TID, tid};
  ASSERT_EQ(api().fcntl(sv_[1], F_SETOWN_EX, reinterpret_cast<long>(&ex)), 0);
  EXPECT_EQ(api().fcntl(sv_[1], F_GETOWN, 0), tid);
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_TID}, tid));
  ASSERT_EQ(Send("a", MSG_OOB), 1);
  EXPECT_EQ(g_sigurg.load(), 1);
  int who = getpid();
  ASSERT_EQ(api().ioctl(sv_[1], FIOSETOWN, &who), 0);
  int got = 0;
  ASSERT_EQ(api().ioctl(sv_[1], FIOGETOWN, &got), 0);
  EXPECT_EQ(got, getpid());
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_PID}, getpid()));
  ASSERT_EQ(Send("b", MSG_OOB), 1);
  EXPECT_EQ(g_sigurg.load(), 2);
  who = -getpgrp();
  ASSERT_EQ(api().ioctl(sv_[1], SIOCSPGRP, &who), 0);
  ASSERT_EQ(api().ioctl(sv_[1], SIOCGPGRP, &got), 0);
  EXPECT_EQ(got, -getpgrp());
  EXPECT_EQ(api().fcntl(sv_[1], F_GETOWN, 0), -getpgrp());
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_PGRP}, getpgrp()));
  // Nobody, but a process type; and the kernel's refusals.
  ASSERT_EQ(api().fcntl(sv_[1], F_SETOWN, 0), 0);
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_PID}, 0));
  ASSERT_EQ(Send("c", MSG_OOB), 1);
  EXPECT_EQ(g_sigurg.load(), 2);
  who = 999999999;
  EXPECT_EQ(api().ioctl(sv_[1], FIOSETOWN, &who), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(api().ioctl(sv_[1], FIOSETOWN, reinterpret_cast<void*>(8)), -1);
  EXPECT_EQ(errno, EFAULT);
  ex = f_owner_ex{static_cast<__pid_type>(7), getpid()};
  EXPECT_EQ(api().fcntl(sv_[1], F_SETOWN_EX, reinterpret_cast<long>(&ex)), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(get_ex(), std::make_pair(int{F_OWNER_PID}, 0));
}

// Descriptors riding on the urgent byte (net/unix/af_unix.c: manage_oob):
// a read that passes over the byte unread frees its skb, and with it the
// descriptors; a MSG_OOB read delivers none and leaves them on the taken
// byte until a read passes that; read inline, the byte delivers them.
TEST_P(UrgentData, UrgentByteSkippedUnreadReleasesItsDescriptors) {
  int writer;
  ASSERT_NO_FATAL_FAILURE(SendUrgentWithPipeReader(&writer));
  EXPECT_FALSE(ReaderGone(writer));
  EXPECT_EQ(Recv(8), "E" + std::to_string(EAGAIN));
  EXPECT_TRUE(ReaderGone(writer));
  close(writer);
}

TEST_P(UrgentData, TakenUrgentByteKeepsItsDescriptorsUntilPassed) {
  int writer;
  ASSERT_NO_FATAL_FAILURE(SendUrgentWithPipeReader(&writer));
  char c = 0;
  iovec iov{&c, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl;
  mh.msg_controllen = sizeof ctl;
  EXPECT_EQ(api().recvmsg(sv_[1], &mh, MSG_OOB), 1);
  EXPECT_EQ(c, 'U');
  EXPECT_EQ(mh.msg_controllen, 0u);
  EXPECT_FALSE(ReaderGone(writer));
  ASSERT_EQ(Send("ab"), 2);
  EXPECT_EQ(Recv(8), "ab");
  EXPECT_TRUE(ReaderGone(writer));
  close(writer);
}

// The sender's own socket rides its urgent byte and the sender closes it:
// the message holds its last reference, and the read that drops the byte
// releases it, resetting the read's own socket as its peer goes.
TEST_P(UrgentData, SkippedUrgentByteCarryingItsSenderReleasesIt) {
  ASSERT_NO_FATAL_FAILURE(SendUrgentWith(sv_[0]));
  ASSERT_EQ(Send("x"), 1);
  ASSERT_EQ(Close(sv_[0]), 0);
  EXPECT_EQ(Recv(8), "x");
  EXPECT_EQ(Recv(8), "");  // the peer is gone: end of stream
}

TEST_P(UrgentData, TakenUrgentByteCarryingItsSenderReleasesItWhenPassed) {
  ASSERT_NO_FATAL_FAILURE(SendUrgentWith(sv_[0]));
  EXPECT_EQ(Recv(1, MSG_OOB), "U");
  ASSERT_EQ(Send("x"), 1);
  ASSERT_EQ(Close(sv_[0]), 0);
  EXPECT_EQ(Recv(8), "x");
  EXPECT_EQ(Recv(8), "");
}

TEST_P(UrgentData, InlineUrgentByteDeliversItsDescriptors) {
  ASSERT_EQ(SetIntOption(sv_[1], SOL_SOCKET, SO_OOBINLINE, 1), 0);
  int writer;
  ASSERT_NO_FATAL_FAILURE(SendUrgentWithPipeReader(&writer));
  const std::vector<int> fds = shunt_test::RecvRights(api().recvmsg, sv_[1], 1);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_FALSE(ReaderGone(writer));
  close(fds[0]);
  EXPECT_TRUE(ReaderGone(writer));
  close(writer);
}

SHUNT_BOTH_BACKENDS(UrgentData);

}  // namespace

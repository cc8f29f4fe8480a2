// The struct msghdr contract of sendmsg/recvmsg (and the calls built on the
// same path: send/recv/sendto/recvfrom/sendmmsg/recvmmsg) on the three
// AF_UNIX socket types: iovec rules, msg_name and msg_namelen in and out,
// msg_flags out, input flags, msg_control, bad pointers, non-sockets and
// bad descriptors.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend.h"

namespace {

constexpr int kAllTypes[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
constexpr int kMessageTypes[] = {SOCK_DGRAM, SOCK_SEQPACKET};
constexpr size_t kIovMax = 1024;  // UIO_MAXIOV

const char* TypeName(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "dgram";
    case SOCK_SEQPACKET:
      return "seqpacket";
  }
  return "?";
}

// Length of a bound filesystem address as the kernel reports it: the family,
// the path and its terminating NUL (net/unix/af_unix.c: unix_bind_bsd).
socklen_t PathAddrLen(const std::string& path) {
  return offsetof(sockaddr_un, sun_path) + path.size() + 1;
}

sockaddr_un PathAddr(const std::string& path) {
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// One inaccessible page, for EFAULT checks.
class NoAccessPage {
 public:
  NoAccessPage() {
    p_ = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  ~NoAccessPage() {
    if (p_ != MAP_FAILED) munmap(p_, 4096);
  }
  void* get() const { return p_; }
  bool ok() const { return p_ != MAP_FAILED; }

 private:
  void* p_;
};

class MsghdrFixture : public shunt_test::BothBackends {
 protected:
  void MakeNonblockingPair(int type, int sv[2]) {
    ASSERT_EQ(api().socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), 0)
        << strerror(errno);
  }

  void ExpectEmpty(int fd) {
    char c;
    errno = 0;
    EXPECT_EQ(api().recv(fd, &c, 1, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EAGAIN);
  }

  int Inq(int fd) {
    int v = -1;
    EXPECT_EQ(api().ioctl(fd, FIONREAD, &v), 0) << strerror(errno);
    return v;
  }

  // A socket of `type` bound to `path` (nonblocking).
  int BoundSocket(int type, const std::string& path) {
    const int fd = api().socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
    EXPECT_GE(fd, 0) << strerror(errno);
    const sockaddr_un a = PathAddr(path);
    EXPECT_EQ(api().bind(fd, reinterpret_cast<const sockaddr*>(&a),
                         PathAddrLen(path)),
              0)
        << strerror(errno);
    return fd;
  }

  // Client/accepted pair of `type` through a listener bound at `path`. The
  // client is bound to `client_path` first unless it is empty.
  void ConnectViaPath(int type, const std::string& path,
                      const std::string& client_path, int* client,
                      int* server) {
    const int lfd = BoundSocket(type, path);
    ASSERT_EQ(api().listen(lfd, 4), 0);
    *client = client_path.empty()
                  ? api().socket(AF_UNIX, type | SOCK_NONBLOCK, 0)
                  : BoundSocket(type, client_path);
    ASSERT_GE(*client, 0);
    const sockaddr_un a = PathAddr(path);
    ASSERT_EQ(api().connect(*client, reinterpret_cast<const sockaddr*>(&a),
                            sizeof(a)),
              0)
        << strerror(errno);
    *server = api().accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    ASSERT_GE(*server, 0) << strerror(errno);
    EXPECT_EQ(api().close(lfd), 0);
  }
};

// Receives one message on fd through recvmsg with a name buffer of
// `name_cap` bytes prefilled with 0xee. Returns the recvmsg result.
struct NamedRecv {
  ssize_t ret;
  int err;
  socklen_t namelen;
  unsigned char name[sizeof(sockaddr_un) + 16];
  int flags;
};

NamedRecv RecvWithName(const shunt_test::SocketApi& api, int fd,
                       socklen_t name_cap) {
  NamedRecv r;
  memset(r.name, 0xee, sizeof(r.name));
  char buf[64];
  iovec iov = {buf, sizeof(buf)};
  msghdr msg = {};
  msg.msg_name = r.name;
  msg.msg_namelen = name_cap;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  errno = 0;
  r.ret = api.recvmsg(fd, &msg, 0);
  r.err = errno;
  r.namelen = msg.msg_namelen;
  r.flags = msg.msg_flags;
  return r;
}

bool AllBytesAre(const unsigned char* p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != v) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// iovec arrays: empty, zero-length entries, many entries, the IOV_MAX limit,
// lengths that do not fit in ssize_t.

class MsghdrIovecRules : public MsghdrFixture {};

TEST_P(MsghdrIovecRules, NullIovWithZeroLengthSends) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    msghdr msg = {};
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), 0);
    if (type == SOCK_STREAM) {
      // Nothing is queued on a stream.
      EXPECT_EQ(Inq(sv[1]), 0);
      ExpectEmpty(sv[1]);
    } else {
      // An empty message is queued; reading it returns 0, which on a
      // seqpacket socket looks exactly like EOF.
      char c;
      EXPECT_EQ(api().recv(sv[1], &c, 1, 0), 0);
      ExpectEmpty(sv[1]);
    }
    ClosePair(sv);
  }
}

TEST_P(MsghdrIovecRules, NullIovWithZeroLengthReceives) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    msghdr msg = {};
    msg.msg_flags = -1;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 0);
    if (type == SOCK_STREAM) {
      // Nothing consumed.
      EXPECT_EQ(msg.msg_flags, 0);
      EXPECT_EQ(RecvString(sv[1], 10), "abc");
    } else {
      // The whole message was consumed into zero bytes of buffer.
      EXPECT_EQ(msg.msg_flags, MSG_TRUNC);
      ExpectEmpty(sv[1]);
    }
    ClosePair(sv);
  }
}

TEST_P(MsghdrIovecRules, ZeroLengthEntriesAreSkipped) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char s1[] = "abc", s2[] = "de", junk[] = "XXXX";
    iovec out[5] = {{junk, 0}, {s1, 3}, {junk, 0}, {s2, 2}, {nullptr, 0}};
    msghdr msg = {};
    msg.msg_iov = out;
    msg.msg_iovlen = 5;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), 5);

    char r0[1] = {'-'}, r1[2] = {}, r2[1] = {'-'}, r3[10] = {};
    iovec in[5] = {{r0, 0}, {r1, 2}, {r2, 0}, {nullptr, 0}, {r3, 10}};
    msg.msg_iov = in;
    msg.msg_iovlen = 5;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 5);
    EXPECT_EQ(std::string(r1, 2), "ab");
    EXPECT_EQ(std::string(r3, 3), "cde");
    EXPECT_EQ(r0[0], '-');
    EXPECT_EQ(r2[0], '-');
    EXPECT_EQ(msg.msg_flags, 0);
    ClosePair(sv);
  }
}

TEST_P(MsghdrIovecRules, ScatterGatherOverManyEntries) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    // 300 gather entries of 0..4 bytes each.
    std::string data;
    for (int i = 0; data.size() < 600; ++i) data += static_cast<char>(i);
    std::vector<iovec> out;
    size_t off = 0;
    for (int i = 0; i < 300; ++i) {
      const size_t n = i % 5;
      out.push_back({data.data() + off, n});
      off += n;
    }
    const size_t total = off;
    msghdr msg = {};
    msg.msg_iov = out.data();
    msg.msg_iovlen = out.size();
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), static_cast<ssize_t>(total));

    // Scatter into 3-byte entries.
    std::vector<char> got(total + 30, '\0');
    std::vector<iovec> in;
    for (size_t i = 0; i < got.size(); i += 3) in.push_back({&got[i], 3});
    msg.msg_iov = in.data();
    msg.msg_iovlen = in.size();
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), static_cast<ssize_t>(total));
    EXPECT_EQ(std::string(got.data(), total), data.substr(0, total));
    ClosePair(sv);
  }
}

TEST_P(MsghdrIovecRules, ExactlyIovMaxEntriesIsAccepted) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    std::vector<char> out(kIovMax), in(kIovMax + 1, '\0');
    for (size_t i = 0; i < kIovMax; ++i) out[i] = static_cast<char>(i * 7);
    std::vector<iovec> ov(kIovMax), iv(kIovMax);
    for (size_t i = 0; i < kIovMax; ++i) {
      ov[i] = {&out[i], 1};
      iv[i] = {&in[i], 1};
    }
    msghdr msg = {};
    msg.msg_iov = ov.data();
    msg.msg_iovlen = kIovMax;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), static_cast<ssize_t>(kIovMax));
    msg.msg_iov = iv.data();
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), static_cast<ssize_t>(kIovMax));
    EXPECT_EQ(memcmp(in.data(), out.data(), kIovMax), 0);
    // writev/readv take the same limit.
    EXPECT_EQ(api().writev(sv[0], ov.data(), kIovMax),
              static_cast<ssize_t>(kIovMax));
    EXPECT_EQ(api().readv(sv[1], iv.data(), kIovMax),
              static_cast<ssize_t>(kIovMax));
    ClosePair(sv);
  }
}

// net/socket.c: __copy_msghdr rejects msg_iovlen > UIO_MAXIOV with EMSGSIZE,
// while readv/writev (lib/iov_iter.c) say EINVAL for the same count.
TEST_P(MsghdrIovecRules, MoreThanIovMaxEntries) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char byte = 'x';
    std::vector<iovec> iov(kIovMax + 1, iovec{&byte, 1});
    msghdr msg = {};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = kIovMax + 1;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    EXPECT_EQ(Inq(sv[1]), 0);

    SendAll(sv[0], "q");
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);

    mmsghdr mm = {};
    mm.msg_hdr = msg;
    errno = 0;
    EXPECT_EQ(api().sendmmsg(sv[0], &mm, 1, 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    errno = 0;
    EXPECT_EQ(api().recvmmsg(sv[1], &mm, 1, 0, nullptr), -1);
    EXPECT_EQ(errno, EMSGSIZE);

    errno = 0;
    EXPECT_EQ(api().writev(sv[0], iov.data(), kIovMax + 1), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(api().readv(sv[1], iov.data(), kIovMax + 1), -1);
    EXPECT_EQ(errno, EINVAL);
    // None of the failures consumed the queued byte.
    EXPECT_EQ(RecvString(sv[1], 4), "q");
    ClosePair(sv);
  }
}

// A failing entry after a successful one ends sendmmsg with the count so far.
TEST_P(MsghdrIovecRules, SendmmsgStopsAtBadEntry) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char ok[] = "ok", byte = 'x';
    iovec good = {ok, 2};
    std::vector<iovec> many(kIovMax + 1, iovec{&byte, 1});
    mmsghdr mm[3] = {};
    mm[0].msg_hdr.msg_iov = &good;
    mm[0].msg_hdr.msg_iovlen = 1;
    mm[1].msg_hdr.msg_iov = many.data();
    mm[1].msg_hdr.msg_iovlen = kIovMax + 1;
    mm[2].msg_hdr.msg_iov = &good;
    mm[2].msg_hdr.msg_iovlen = 1;
    errno = 0;
    EXPECT_EQ(api().sendmmsg(sv[0], mm, 3, 0), 1);
    EXPECT_EQ(errno, 0);  // __sys_sendmmsg drops the later error
    EXPECT_EQ(mm[0].msg_len, 2u);
    EXPECT_EQ(RecvString(sv[1], 10), "ok");
    ExpectEmpty(sv[1]);
    // The same for a bad descriptor in the second message's control data.
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    cmsghdr* h = reinterpret_cast<cmsghdr*>(ctl);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    const int bad = 1 << 20;
    memcpy(CMSG_DATA(h), &bad, sizeof bad);
    mm[1].msg_hdr.msg_iov = &good;
    mm[1].msg_hdr.msg_iovlen = 1;
    mm[1].msg_hdr.msg_control = ctl;
    mm[1].msg_hdr.msg_controllen = sizeof ctl;
    errno = 0;
    EXPECT_EQ(api().sendmmsg(sv[0], mm, 3, 0), 1);
    EXPECT_EQ(errno, 0);
    EXPECT_EQ(RecvString(sv[1], 10), "ok");
    ClosePair(sv);
  }
}

// lib/iov_iter.c: an iov_len that is negative as ssize_t is EINVAL.
TEST_P(MsghdrIovecRules, IovLenAboveSsizeMaxIsEinval) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char buf[4] = "abc";
    iovec iov[2] = {{buf, 1}, {buf, SIZE_MAX}};
    msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(api().writev(sv[0], iov, 2), -1);
    EXPECT_EQ(errno, EINVAL);
    SendAll(sv[0], "z");
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(api().readv(sv[1], iov, 2), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(RecvString(sv[1], 4), "z");
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrIovecRules);

// ---------------------------------------------------------------------------
// msg_name / msg_namelen on receive. The kernel zeroes the length, lets the
// protocol fill in the sender's address if the sender has one, and copies
// out min(buffer, length) bytes while reporting the full length
// (net/socket.c: move_addr_to_user).

class MsghdrRecvName : public MsghdrFixture {};

TEST_P(MsghdrRecvName, UnnamedSocketpairSenderGivesZeroLength) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    NamedRecv r = RecvWithName(api(), sv[1], sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    EXPECT_EQ(r.namelen, 0u);
    EXPECT_TRUE(AllBytesAre(r.name, sizeof(r.name), 0xee));
    // recvfrom behaves the same.
    SendAll(sv[0], "abc");
    sockaddr_un from;
    memset(&from, 0xee, sizeof(from));
    socklen_t len = sizeof(from);
    char buf[8];
    EXPECT_EQ(api().recvfrom(sv[1], buf, sizeof(buf), 0,
                             reinterpret_cast<sockaddr*>(&from), &len),
              3);
    EXPECT_EQ(len, 0u);
    EXPECT_EQ(from.sun_family, 0xeeee);
    ClosePair(sv);
  }
}

// On a connected stream or seqpacket socket the name is the address of the
// socket that sent the bytes: an accepted socket carries its listener's
// address, an unbound client has none.
TEST_P(MsghdrRecvName, ConnectedPathBoundPair) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(TypeName(type));
    const std::string srv = TempDir() + "/srv" + TypeName(type);
    const std::string cli = TempDir() + "/cli" + TypeName(type);
    int c, s;
    ASSERT_NO_FATAL_FAILURE(ConnectViaPath(type, srv, "", &c, &s));
    SendAll(c, "abc");
    NamedRecv r = RecvWithName(api(), s, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    EXPECT_EQ(r.namelen, 0u);
    EXPECT_TRUE(AllBytesAre(r.name, sizeof(r.name), 0xee));

    SendAll(s, "abc");
    r = RecvWithName(api(), c, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    ASSERT_EQ(r.namelen, PathAddrLen(srv));
    sockaddr_un want = PathAddr(srv);
    EXPECT_EQ(memcmp(r.name, &want, r.namelen), 0);
    EXPECT_TRUE(
        AllBytesAre(r.name + r.namelen, sizeof(r.name) - r.namelen, 0xee));
    // EOF (or an empty record) carries no name.
    EXPECT_EQ(api().close(s), 0);
    r = RecvWithName(api(), c, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 0);
    EXPECT_EQ(r.namelen, 0u);
    EXPECT_EQ(api().close(c), 0);

    // A bound client's address is seen by the accepted side. Binding with
    // a length that excludes the NUL still reports the NUL.
    ASSERT_NO_FATAL_FAILURE(ConnectViaPath(type, srv + "2", cli, &c, &s));
    SendAll(c, "abc");
    r = RecvWithName(api(), s, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    ASSERT_EQ(r.namelen, PathAddrLen(cli));
    want = PathAddr(cli);
    EXPECT_EQ(memcmp(r.name, &want, r.namelen), 0);
    EXPECT_EQ(api().close(c), 0);
    EXPECT_EQ(api().close(s), 0);
  }
}

// On a stream, one read that spans several sends reports one name.
TEST_P(MsghdrRecvName, StreamReadSpanningSendsReportsName) {
  const std::string srv = TempDir() + "/srv";
  int c, s;
  ASSERT_NO_FATAL_FAILURE(ConnectViaPath(SOCK_STREAM, srv, "", &c, &s));
  SendAll(s, "abc");
  SendAll(s, "def");
  NamedRecv r = RecvWithName(api(), c, sizeof(sockaddr_un));
  EXPECT_EQ(r.ret, 6);
  EXPECT_EQ(r.namelen, PathAddrLen(srv));
  EXPECT_EQ(api().close(c), 0);
  EXPECT_EQ(api().close(s), 0);
}

TEST_P(MsghdrRecvName, DatagramSenders) {
  const std::string rpath = TempDir() + "/r";
  const int rfd = BoundSocket(SOCK_DGRAM, rpath);
  ASSERT_GE(rfd, 0);
  const sockaddr_un to = PathAddr(rpath);
  auto send_from = [&](int fd) {
    EXPECT_EQ(api().sendto(fd, "abc", 3, 0,
                           reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              3)
        << strerror(errno);
  };

  {
    SCOPED_TRACE("unbound sender");
    const int fd = api().socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    send_from(fd);
    NamedRecv r = RecvWithName(api(), rfd, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    EXPECT_EQ(r.namelen, 0u);
    EXPECT_TRUE(AllBytesAre(r.name, sizeof(r.name), 0xee));
    // Sending did not autobind it.
    sockaddr_un self;
    socklen_t len = sizeof(self);
    EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len),
              0);
    EXPECT_EQ(len, sizeof(sa_family_t));
    EXPECT_EQ(api().close(fd), 0);
  }
  {
    SCOPED_TRACE("path-bound sender");
    const std::string spath = TempDir() + "/sender";
    const int fd = BoundSocket(SOCK_DGRAM, spath);
    send_from(fd);
    NamedRecv r = RecvWithName(api(), rfd, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    ASSERT_EQ(r.namelen, PathAddrLen(spath));
    const sockaddr_un want = PathAddr(spath);
    EXPECT_EQ(memcmp(r.name, &want, r.namelen), 0);
    EXPECT_EQ(api().close(fd), 0);
  }
  {
    SCOPED_TRACE("abstract sender");
    // The abstract name is exactly the bytes given, embedded NULs included.
    const int fd = api().socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    const std::string name =
        std::string("\0shunt-msghdr\0x", 15) + std::to_string(getpid());
    memcpy(a.sun_path, name.data(), name.size());
    const socklen_t alen = offsetof(sockaddr_un, sun_path) + name.size();
    ASSERT_EQ(api().bind(fd, reinterpret_cast<sockaddr*>(&a), alen), 0)
        << strerror(errno);
    send_from(fd);
    NamedRecv r = RecvWithName(api(), rfd, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    ASSERT_EQ(r.namelen, alen);
    EXPECT_EQ(memcmp(r.name, &a, alen), 0);
    EXPECT_TRUE(AllBytesAre(r.name + alen, sizeof(r.name) - alen, 0xee));
    EXPECT_EQ(api().close(fd), 0);
  }
  {
    SCOPED_TRACE("autobound sender");
    // Binding just the family autobinds: NUL then five hex digits.
    const int fd = api().socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    ASSERT_EQ(
        api().bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t)),
        0);
    send_from(fd);
    NamedRecv r = RecvWithName(api(), rfd, sizeof(sockaddr_un));
    EXPECT_EQ(r.ret, 3);
    ASSERT_EQ(r.namelen, offsetof(sockaddr_un, sun_path) + 6);
    sockaddr_un got;
    memcpy(&got, r.name, sizeof(got));
    EXPECT_EQ(got.sun_family, AF_UNIX);
    EXPECT_EQ(got.sun_path[0], '\0');
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE(strchr("0123456789abcdef", got.sun_path[i]) != nullptr &&
                  got.sun_path[i] != '\0')
          << "byte " << i;
    }
    sockaddr_un self;
    socklen_t len = sizeof(self);
    EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len),
              0);
    EXPECT_EQ(len, r.namelen);
    EXPECT_EQ(memcmp(&self, &got, len), 0);
    EXPECT_EQ(api().close(fd), 0);
  }
  EXPECT_EQ(api().close(rfd), 0);
}

TEST_P(MsghdrRecvName, ShortBufferTruncatesBytesButReportsFullLength) {
  const std::string rpath = TempDir() + "/r";
  const std::string spath = TempDir() + "/sender";
  const int rfd = BoundSocket(SOCK_DGRAM, rpath);
  const int sfd = BoundSocket(SOCK_DGRAM, spath);
  const sockaddr_un to = PathAddr(rpath);
  const sockaddr_un want = PathAddr(spath);
  for (socklen_t cap :
       {socklen_t{0}, socklen_t{1}, socklen_t{5}, PathAddrLen(spath) - 1}) {
    SCOPED_TRACE(cap);
    ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                           reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              3);
    NamedRecv r = RecvWithName(api(), rfd, cap);
    EXPECT_EQ(r.ret, 3);
    EXPECT_EQ(r.namelen, PathAddrLen(spath));
    EXPECT_EQ(memcmp(r.name, &want, cap), 0);
    EXPECT_TRUE(AllBytesAre(r.name + cap, sizeof(r.name) - cap, 0xee));
  }
  // recvfrom: same rule.
  ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
            3);
  unsigned char name[sizeof(sockaddr_un)];
  memset(name, 0xee, sizeof(name));
  socklen_t len = 4;
  char buf[8];
  EXPECT_EQ(api().recvfrom(rfd, buf, sizeof(buf), 0,
                           reinterpret_cast<sockaddr*>(name), &len),
            3);
  EXPECT_EQ(len, PathAddrLen(spath));
  EXPECT_EQ(memcmp(name, &want, 4), 0);
  EXPECT_TRUE(AllBytesAre(name + 4, sizeof(name) - 4, 0xee));
  EXPECT_EQ(api().close(rfd), 0);
  EXPECT_EQ(api().close(sfd), 0);
}

TEST_P(MsghdrRecvName, OversizedNameBufferIsFine) {
  const std::string rpath = TempDir() + "/r";
  const std::string spath = TempDir() + "/sender";
  const int rfd = BoundSocket(SOCK_DGRAM, rpath);
  const int sfd = BoundSocket(SOCK_DGRAM, spath);
  const sockaddr_un to = PathAddr(rpath);
  ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
            3);
  // Lengths beyond sizeof(sockaddr_storage) are clamped, not rejected.
  unsigned char big[300];
  char buf[8];
  iovec iov = {buf, sizeof(buf)};
  msghdr msg = {};
  msg.msg_name = big;
  msg.msg_namelen = sizeof(big);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  EXPECT_EQ(api().recvmsg(rfd, &msg, 0), 3);
  EXPECT_EQ(msg.msg_namelen, PathAddrLen(spath));
  EXPECT_EQ(api().close(rfd), 0);
  EXPECT_EQ(api().close(sfd), 0);
}

// net/socket.c: ____sys_recvmsg writes msg_namelen back only when msg_name
// is non-NULL, so a NULL name leaves whatever length the caller put there.
TEST_P(MsghdrRecvName, NullNameLeavesNamelenUntouched) {
  const std::string rpath = TempDir() + "/r";
  const std::string spath = TempDir() + "/sender";
  const int rfd = BoundSocket(SOCK_DGRAM, rpath);
  const int sfd = BoundSocket(SOCK_DGRAM, spath);
  const sockaddr_un to = PathAddr(rpath);
  for (socklen_t in : {socklen_t{77}, socklen_t{0x80000000u}}) {
    ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                           reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              3);
    char buf[8];
    iovec iov = {buf, sizeof(buf)};
    msghdr msg = {};
    msg.msg_name = nullptr;
    msg.msg_namelen = in;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    EXPECT_EQ(api().recvmsg(rfd, &msg, 0), 3);
    EXPECT_EQ(msg.msg_namelen, in);
  }
  // recvfrom with a NULL address leaves *addrlen alone as well.
  ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
            3);
  socklen_t len = 77;
  char buf[8];
  EXPECT_EQ(api().recvfrom(rfd, buf, sizeof(buf), 0, nullptr, &len), 3);
  EXPECT_EQ(len, 77u);
  EXPECT_EQ(api().close(rfd), 0);
  EXPECT_EQ(api().close(sfd), 0);
}

// msg_namelen is an int in the kernel: "negative" values are EINVAL before
// anything is received.
TEST_P(MsghdrRecvName, NegativeNamelenIsEinval) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    NamedRecv r = RecvWithName(api(), sv[1], 0x80000000u);
    EXPECT_EQ(r.ret, -1);
    EXPECT_EQ(r.err, EINVAL);
    EXPECT_EQ(RecvString(sv[1], 10), "abc");
    ClosePair(sv);
  }
}

TEST_P(MsghdrRecvName, FailedReceiveLeavesNamelen) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    NamedRecv r = RecvWithName(api(), sv[1], 50);
    EXPECT_EQ(r.ret, -1);
    EXPECT_EQ(r.err, EAGAIN);
    EXPECT_EQ(r.namelen, 50u);
    ClosePair(sv);
  }
}

// net/socket.c: __sys_recvfrom reads *addrlen only after the data has been
// received, so a NULL addrlen with a non-NULL address fails with EFAULT and
// the data is gone.
TEST_P(MsghdrRecvName, RecvfromNullAddrlenIsEfaultAfterConsuming) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    sockaddr_un from;
    char buf[8];
    errno = 0;
    EXPECT_EQ(api().recvfrom(sv[1], buf, sizeof(buf), 0,
                             reinterpret_cast<sockaddr*>(&from), nullptr),
              -1);
    EXPECT_EQ(errno, EFAULT);
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
}

// An unwritable name buffer only matters if there is a name to copy: from an
// unnamed sender the receive succeeds; from a named one the message is
// consumed and the call fails with EFAULT.
TEST_P(MsghdrRecvName, UnwritableNameBuffer) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_DGRAM, sv));
  SendAll(sv[0], "abc");
  char buf[8];
  iovec iov = {buf, sizeof(buf)};
  msghdr msg = {};
  msg.msg_name = page.get();
  msg.msg_namelen = sizeof(sockaddr_un);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 3);
  EXPECT_EQ(msg.msg_namelen, 0u);
  ClosePair(sv);

  const std::string rpath = TempDir() + "/r";
  const int rfd = BoundSocket(SOCK_DGRAM, rpath);
  const int sfd = BoundSocket(SOCK_DGRAM, TempDir() + "/sender");
  const sockaddr_un to = PathAddr(rpath);
  ASSERT_EQ(api().sendto(sfd, "abc", 3, 0,
                         reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
            3);
  msg.msg_namelen = sizeof(sockaddr_un);
  errno = 0;
  EXPECT_EQ(api().recvmsg(rfd, &msg, 0), -1);
  EXPECT_EQ(errno, EFAULT);
  ExpectEmpty(rfd);
  EXPECT_EQ(api().close(rfd), 0);
  EXPECT_EQ(api().close(sfd), 0);
}

SHUNT_BOTH_BACKENDS(MsghdrRecvName);

// ---------------------------------------------------------------------------
// msg_name on send.

class MsghdrSendName : public MsghdrFixture {
 protected:
  ssize_t SendNamed(int fd, const void* name, socklen_t namelen) {
    char data[] = "abc";
    iovec iov = {data, 3};
    msghdr msg = {};
    msg.msg_name = const_cast<void*>(name);
    msg.msg_namelen = namelen;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    errno = 0;
    return api().sendmsg(fd, &msg, MSG_NOSIGNAL);
  }
};

// net/unix/af_unix.c: unix_stream_sendmsg refuses any address: EISCONN when
// connected, EOPNOTSUPP otherwise.
TEST_P(MsghdrSendName, StreamRejectsAnAddress) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_STREAM, sv));
  sockaddr_un a = PathAddr(TempDir() + "/nowhere");
  EXPECT_EQ(SendNamed(sv[0], &a, sizeof(a)), -1);
  EXPECT_EQ(errno, EISCONN);
  EXPECT_EQ(SendNamed(sv[0], &a, 1), -1);  // even a too-short one
  EXPECT_EQ(errno, EISCONN);
  EXPECT_EQ(Inq(sv[1]), 0);
  // A NULL name with a length, or a name with length 0, is no address.
  EXPECT_EQ(SendNamed(sv[0], nullptr, sizeof(a)), 3);
  EXPECT_EQ(SendNamed(sv[0], &a, 0), 3);
  EXPECT_EQ(RecvString(sv[1], 10), "abcabc");
  ClosePair(sv);

  const int fd = api().socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_EQ(SendNamed(fd, &a, sizeof(a)), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(SendNamed(fd, nullptr, 0), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(api().close(fd), 0);
}

// net/unix/af_unix.c: unix_seqpacket_sendmsg drops the address of a
// connected socket without looking at it.
TEST_P(MsghdrSendName, SeqpacketIgnoresAnAddressWhenConnected) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_SEQPACKET, sv));
  sockaddr_un a = PathAddr(TempDir() + "/nowhere");
  EXPECT_EQ(SendNamed(sv[0], &a, sizeof(a)), 3);
  EXPECT_EQ(SendNamed(sv[0], &a, 1), 3);
  EXPECT_EQ(RecvString(sv[1], 10), "abc");
  EXPECT_EQ(RecvString(sv[1], 10), "abc");
  ClosePair(sv);

  const int fd = api().socket(AF_UNIX, SOCK_SEQPACKET, 0);
  EXPECT_EQ(SendNamed(fd, &a, sizeof(a)), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(api().close(fd), 0);
}

// A connected datagram socket may still address another socket.
TEST_P(MsghdrSendName, DatagramAddressOverridesPeer) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_DGRAM, sv));
  const std::string other = TempDir() + "/other";
  const int ofd = BoundSocket(SOCK_DGRAM, other);
  sockaddr_un a = PathAddr(other);
  EXPECT_EQ(SendNamed(sv[0], &a, sizeof(a)), 3);
  EXPECT_EQ(RecvString(ofd, 10), "abc");
  ExpectEmpty(sv[1]);
  sockaddr_un gone = PathAddr(TempDir() + "/nowhere");
  EXPECT_EQ(SendNamed(sv[0], &gone, sizeof(gone)), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(SendNamed(sv[0], &a, 1), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(SendNamed(sv[0], nullptr, sizeof(a)), 3);  // goes to the peer
  EXPECT_EQ(RecvString(sv[1], 10), "abc");
  EXPECT_EQ(api().close(ofd), 0);
  ClosePair(sv);
}

// net/socket.c: the name is copied in for every type before the protocol
// sees it. sendto (move_addr_to_kernel) rejects a length beyond
// sizeof(sockaddr_storage) with EINVAL, but sendmsg (__copy_msghdr)
// silently clamps it to sizeof(sockaddr_storage) and carries on.
TEST_P(MsghdrSendName, OversizedOrUnreadableNameOnAnyType) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    sockaddr_un big[2] = {};
    big[0].sun_family = AF_UNIX;
    const socklen_t big_len = sizeof(sockaddr_storage) + 1;
    errno = 0;
    EXPECT_EQ(api().sendto(sv[0], "abc", 3, MSG_NOSIGNAL,
                           reinterpret_cast<const sockaddr*>(big), big_len),
              -1);
    EXPECT_EQ(errno, EINVAL);
    const ssize_t r = SendNamed(sv[0], big, big_len);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(r, -1);
      EXPECT_EQ(errno, EISCONN);
    } else if (type == SOCK_DGRAM) {
      // 128 bytes is still longer than a sockaddr_un
      // (net/unix/af_unix.c: unix_validate_addr).
      EXPECT_EQ(r, -1);
      EXPECT_EQ(errno, EINVAL);
    } else {
      EXPECT_EQ(r, 3);  // ignored, as any address is
      EXPECT_EQ(RecvString(sv[1], 8), "abc");
    }
    EXPECT_EQ(SendNamed(sv[0], page.get(), sizeof(sockaddr_un)), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().sendto(sv[0], "abc", 3, MSG_NOSIGNAL,
                           static_cast<const sockaddr*>(page.get()),
                           sizeof(sockaddr_un)),
              -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_EQ(Inq(sv[1]), 0);
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrSendName);

// ---------------------------------------------------------------------------
// msg_flags on output: set from scratch by each recvmsg call.

class MsghdrFlagsOut : public MsghdrFixture {
 protected:
  // recvmsg into a `cap`-byte buffer with msg_flags preset to garbage.
  using Result = std::pair<ssize_t, int>;

  Result RecvFlags(int fd, size_t cap, int flags, std::string* data = nullptr) {
    std::string buf(cap, '\0');
    iovec iov = {buf.data(), cap};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_flags = 0x7fffffff;
    errno = 0;
    const ssize_t n = api().recvmsg(fd, &msg, flags);
    if (data != nullptr && n >= 0) {
      *data = buf.substr(0, std::min<size_t>(n, cap));
    }
    return {n, msg.msg_flags};
  }
};

TEST_P(MsghdrFlagsOut, TruncatedMessageSetsMsgTrunc) {
  for (int type : kMessageTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abcdef");
    SendAll(sv[0], "ghi");
    SendAll(sv[0], "jkl");
    std::string got;
    // Peeking a truncated message reports MSG_TRUNC and keeps it.
    EXPECT_EQ(RecvFlags(sv[1], 4, MSG_PEEK, &got), Result(4, MSG_TRUNC));
    EXPECT_EQ(got, "abcd");
    EXPECT_EQ(RecvFlags(sv[1], 4, 0, &got), Result(4, MSG_TRUNC));
    EXPECT_EQ(got, "abcd");
    // The rest of a truncated message is discarded.
    EXPECT_EQ(RecvFlags(sv[1], 3, 0, &got), Result(3, 0));
    EXPECT_EQ(got, "ghi");
    EXPECT_EQ(RecvFlags(sv[1], 100, 0, &got), Result(3, 0));
    EXPECT_EQ(got, "jkl");
    ClosePair(sv);
  }
}

TEST_P(MsghdrFlagsOut, StreamNeverSetsMsgTrunc) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_STREAM, sv));
  SendAll(sv[0], "abcdef");
  std::string got;
  EXPECT_EQ(RecvFlags(sv[1], 4, MSG_PEEK, &got), Result(4, 0));
  EXPECT_EQ(RecvFlags(sv[1], 4, 0, &got), Result(4, 0));
  EXPECT_EQ(got, "abcd");
  EXPECT_EQ(RecvFlags(sv[1], 100, 0, &got), Result(2, 0));
  EXPECT_EQ(got, "ef");
  ClosePair(sv);
}

// A datagram scattered over two entries fills them in order; the rest is
// dropped with MSG_TRUNC, and msg_controllen comes back 0 with a control
// buffer given. readv drops the rest in silence.
TEST_P(MsghdrFlagsOut, TruncatedMessageOverTwoEntries) {
  for (int type : kMessageTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abcdefgh");
    SendAll(sv[0], "ij");
    SendAll(sv[0], "klmnop");
    char a[3], b[2];
    iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    alignas(cmsghdr) char ctl[64];
    msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    msg.msg_flags = 0x7fffffff;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 5);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 2), "abcde");
    EXPECT_EQ(msg.msg_flags, MSG_TRUNC);
    EXPECT_EQ(msg.msg_controllen, 0u);
    msg.msg_controllen = sizeof ctl;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 2);
    EXPECT_EQ(std::string(a, 2), "ij");
    EXPECT_EQ(msg.msg_flags, 0);
    EXPECT_EQ(api().readv(sv[1], iov, 2), 5);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 2), "klmno");
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
}

// One stream read scatters several queued sends over the entries, skipping
// empty ones, through recvmsg and readv alike.
TEST_P(MsghdrFlagsOut, StreamScattersQueuedSendsOverEntries) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_STREAM, sv));
  for (int round = 0; round < 2; ++round) {
    SendAll(sv[0], "abc");
    SendAll(sv[0], "defg");
    SendAll(sv[0], "hi");
    char a[2], b[4], c[10];
    iovec iov[4] = {{a, sizeof a}, {nullptr, 0}, {b, sizeof b}, {c, sizeof c}};
    msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 4;
    msg.msg_flags = 0x7fffffff;
    const ssize_t n =
        round == 0 ? api().recvmsg(sv[1], &msg, 0) : api().readv(sv[1], iov, 4);
    EXPECT_EQ(n, 9);
    EXPECT_EQ(
        std::string(a, 2) + "|" + std::string(b, 4) + "|" + std::string(c, 3),
        "ab|cdef|ghi");
    if (round == 0) {
      EXPECT_EQ(msg.msg_flags, 0);
    }
    ExpectEmpty(sv[1]);
  }
  ClosePair(sv);
}

// The same receives with another thread alive, where the fast paths take
// the socket's lock instead of a pair view.
TEST_P(MsghdrFlagsOut, ScatterAndTruncationWithAnotherThreadAlive) {
  std::atomic<bool> stop{false};
  std::thread other([&] {
    while (!stop.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    ASSERT_EQ(api().write(sv[0], "abcdefgh", 8), 8);
    char a[3], b[2];
    iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    msg.msg_flags = 0x7fffffff;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 5);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 2), "abcde");
    EXPECT_EQ(msg.msg_flags, type == SOCK_STREAM ? 0 : MSG_TRUNC);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(api().readv(sv[1], iov, 2), 3);
      EXPECT_EQ(std::string(a, 3), "fgh");
    }
    ASSERT_EQ(api().write(sv[0], "xy", 2), 2);
    char c[8];
    EXPECT_EQ(api().read(sv[1], c, sizeof c), 2);
    EXPECT_EQ(std::string(c, 2), "xy");
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
  stop = true;
  other.join();
}

// MSG_CMSG_CLOEXEC given as a receive flag comes back in msg_flags
// (net/socket.c: ____sys_recvmsg seeds msg_flags with it).
TEST_P(MsghdrFlagsOut, CmsgCloexecInputIsEchoed) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvFlags(sv[1], 10, MSG_CMSG_CLOEXEC),
              Result(3, MSG_CMSG_CLOEXEC));
    if (type != SOCK_STREAM) {
      SendAll(sv[0], "abc");
      EXPECT_EQ(RecvFlags(sv[1], 1, MSG_CMSG_CLOEXEC),
                Result(1, MSG_CMSG_CLOEXEC | MSG_TRUNC));
    }
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrFlagsOut);

// ---------------------------------------------------------------------------
// MSG_TRUNC as an input flag on message sockets returns the real length.

class MsghdrTruncInput : public MsghdrFixture {};

TEST_P(MsghdrTruncInput, ReturnsRealLength) {
  for (int type : kMessageTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abcdef");
    char buf[8] = {};
    iovec iov = {buf, 2};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_TRUNC | MSG_PEEK), 6);
    EXPECT_EQ(msg.msg_flags, MSG_TRUNC);
    EXPECT_EQ(std::string(buf, 3), std::string("ab\0", 3));
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_TRUNC), 6);
    EXPECT_EQ(msg.msg_flags, MSG_TRUNC);
    ExpectEmpty(sv[1]);

    // A buffer that fits: the length, no MSG_TRUNC out.
    SendAll(sv[0], "xyz");
    iov.iov_len = sizeof(buf);
    EXPECT_EQ(api().recvmsg(sv[1], &msg, MSG_TRUNC), 3);
    EXPECT_EQ(msg.msg_flags, 0);

    // No buffer at all: the length, and the message is consumed.
    SendAll(sv[0], "12345");
    EXPECT_EQ(api().recv(sv[1], nullptr, 0, MSG_TRUNC), 5);
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrTruncInput);

// ---------------------------------------------------------------------------
// Flags AF_UNIX does not support, or does not look at.

class MsghdrUnusualFlags : public MsghdrFixture {};

TEST_P(MsghdrUnusualFlags, OobOnMessageSocketsIsEopnotsupp) {
  for (int type : kMessageTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    errno = 0;
    EXPECT_EQ(api().send(sv[0], "abc", 3, MSG_OOB), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    ExpectEmpty(sv[1]);
    SendAll(sv[0], "abc");
    char buf[8];
    errno = 0;
    EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_OOB), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_EQ(RecvString(sv[1], 8), "abc");
    ClosePair(sv);
  }
}

// net/unix/af_unix.c: unix_stream_recv_urg fails with EINVAL when no urgent
// byte is pending, whatever ordinary data is queued. A zero-length MSG_OOB
// send has no byte to mark and is EOPNOTSUPP.
TEST_P(MsghdrUnusualFlags, OobOnStream) {
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_STREAM, sv));
  char buf[8];
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_OOB), -1);
  EXPECT_EQ(errno, EINVAL);
  SendAll(sv[0], "abc");
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_OOB), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(RecvString(sv[1], 8), "abc");
  errno = 0;
  EXPECT_EQ(api().send(sv[0], "", 0, MSG_OOB), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  ClosePair(sv);
}

// AF_UNIX has no error queue: MSG_ERRQUEUE is ignored and an ordinary
// receive happens.
TEST_P(MsghdrUnusualFlags, ErrqueueIsIgnored) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvString(sv[1], 8, MSG_ERRQUEUE), "abc");
    char buf[8];
    errno = 0;
    EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_ERRQUEUE), -1);
    EXPECT_EQ(errno, EAGAIN);
    ClosePair(sv);
  }
}

TEST_P(MsghdrUnusualFlags, IgnoredSendFlags) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    const int kFlags[] = {MSG_EOR, MSG_FASTOPEN, 0x40000000, MSG_MORE,
                          MSG_CONFIRM};
    for (int flag : kFlags) {
      SCOPED_TRACE(flag);
      EXPECT_EQ(api().send(sv[0], "abc", 3, flag), 3) << strerror(errno);
      char buf[8];
      iovec iov = {buf, sizeof(buf)};
      msghdr msg = {};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 3);
      EXPECT_EQ(msg.msg_flags, 0);  // no MSG_EOR on the way out either
    }
    ClosePair(sv);
  }
}

// MSG_CMSG_COMPAT (bit 31) is refused by the msghdr-based calls
// (net/socket.c: __sys_sendmsg/__sys_recvmsg/__sys_sendmmsg/__sys_recvmmsg),
// but send/recv pass it through unchecked.
TEST_P(MsghdrUnusualFlags, CmsgCompatBit) {
  const int kCompat = static_cast<int>(0x80000000u);
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char data[] = "abc";
    iovec iov = {data, 3};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, kCompat), -1);
    EXPECT_EQ(errno, EINVAL);
    mmsghdr mm = {};
    mm.msg_hdr = msg;
    errno = 0;
    EXPECT_EQ(api().sendmmsg(sv[0], &mm, 1, kCompat), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(Inq(sv[1]), 0);

    EXPECT_EQ(api().send(sv[0], "abc", 3, kCompat), 3);
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, kCompat), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(api().recvmmsg(sv[1], &mm, 1, kCompat, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(RecvString(sv[1], 8, kCompat), "abc");
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrUnusualFlags);

// ---------------------------------------------------------------------------
// Unreadable and unwritable memory.

class MsghdrBadPointers : public MsghdrFixture {};

TEST_P(MsghdrBadPointers, UnreadableSendBufferIsEfault) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    // Sizes around shunt's inline small copies (base/user_copy.h).
    for (size_t n : {6, 16, 20, 32, 48, 64, 65}) {
      errno = 0;
      EXPECT_EQ(api().send(sv[0], page.get(), n, 0), -1) << n;
      EXPECT_EQ(errno, EFAULT) << n;
    }
    char ok[] = "abc";
    iovec iov[2] = {{ok, 3}, {page.get(), 3}};
    msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    // Nothing at all was queued, not even the readable part.
    EXPECT_EQ(Inq(sv[1]), 0);
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
}

// A stream keeps bytes it could not copy out; a datagram-style socket has
// already dequeued the message and loses it (net/unix/af_unix.c:
// __unix_dgram_recvmsg vs unix_stream_read_generic).
TEST_P(MsghdrBadPointers, UnwritableRecvBufferIsEfault) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    // Sizes around shunt's inline small copies (base/user_copy.h).
    for (size_t n : {6, 16, 20, 32, 48, 64}) {
      const std::string sent(n, 'q');
      SendAll(sv[0], sent);
      errno = 0;
      EXPECT_EQ(api().recv(sv[1], page.get(), n, 0), -1) << n;
      EXPECT_EQ(errno, EFAULT) << n;
      if (type == SOCK_STREAM) {
        EXPECT_EQ(RecvString(sv[1], 100), sent) << n;
      } else {
        ExpectEmpty(sv[1]);
      }
    }
    ClosePair(sv);
  }
}

// On a stream, bytes from earlier sends that were copied before the fault
// are returned; a fault inside the first send's bytes is EFAULT with nothing
// consumed.
TEST_P(MsghdrBadPointers, StreamFaultMidwayReturnsEarlierSends) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(SOCK_STREAM, sv));
  char good[3];
  iovec iov[2] = {{good, 3}, {page.get(), 3}};
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  SendAll(sv[0], "abc");
  SendAll(sv[0], "def");
  EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 3);
  EXPECT_EQ(std::string(good, 3), "abc");
  EXPECT_EQ(RecvString(sv[1], 10), "def");

  SendAll(sv[0], "ghijkl");
  errno = 0;
  EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(RecvString(sv[1], 10), "ghijkl");
  ClosePair(sv);
}

// ___sys_recvmsg writes msg_flags back after the receive: a msghdr it can
// read but not write is EFAULT, and the bytes are taken all the same.
TEST_P(MsghdrBadPointers, ReadOnlyMsghdrIsEfaultAfterTheReceive) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  char buf[16];
  iovec iov[2] = {{buf, 2}, {buf + 2, sizeof buf - 2}};
  auto* msg = new (page) msghdr{};
  msg->msg_iov = iov;
  msg->msg_iovlen = 2;
  ASSERT_EQ(mprotect(page, 4096, PROT_READ), 0);
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    SendAll(sv[0], "def");
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(std::string(buf, 6), "abcdef");
    } else {
      EXPECT_EQ(std::string(buf, 3), "abc");
      EXPECT_EQ(RecvString(sv[1], 10), "def");
    }
    ExpectEmpty(sv[1]);
    ClosePair(sv);
  }
  munmap(page, 4096);
}

TEST_P(MsghdrBadPointers, BadMsghdrOrIovArray) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    SendAll(sv[0], "abc");
    auto* bad_msg = static_cast<msghdr*>(page.get());
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], nullptr, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], bad_msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], nullptr, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], bad_msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);

    msghdr msg = {};
    msg.msg_iov = static_cast<iovec*>(page.get());
    msg.msg_iovlen = 1;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    msg.msg_iov = nullptr;  // NULL array with a non-zero count
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    // None of that touched the queue.
    EXPECT_EQ(RecvString(sv[1], 10), "abc");
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrBadPointers);

// ---------------------------------------------------------------------------
// msg_control with no ancillary data.

class MsghdrControl : public MsghdrFixture {
 protected:
  size_t RecvControllen(int fd, void* control, size_t controllen) {
    char buf[8];
    iovec iov = {buf, sizeof(buf)};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = controllen;
    EXPECT_EQ(api().recvmsg(fd, &msg, 0), 3) << strerror(errno);
    return msg.msg_controllen;
  }
};

TEST_P(MsghdrControl, NoAncillaryDataGivesZeroControllen) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    alignas(cmsghdr) char cbuf[64];
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvControllen(sv[1], nullptr, 0), 0u);
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvControllen(sv[1], cbuf, sizeof(cbuf)), 0u);
    // A NULL buffer with a length is not looked at when there is nothing
    // to write.
    SendAll(sv[0], "abc");
    EXPECT_EQ(RecvControllen(sv[1], nullptr, 16), 0u);
    ClosePair(sv);
  }
}

TEST_P(MsghdrControl, SendSideControlBuffer) {
  NoAccessPage page;
  ASSERT_TRUE(page.ok());
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    char data[] = "abc";
    iovec iov = {data, 3};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    // The control buffer is copied in before anything else happens.
    msg.msg_control = nullptr;
    msg.msg_controllen = 16;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    msg.msg_control = page.get();
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    // net/socket.c: ____sys_sendmsg refuses msg_controllen > INT_MAX.
    alignas(cmsghdr) char cbuf[sizeof(cmsghdr)] = {};
    msg.msg_control = cbuf;
    msg.msg_controllen = static_cast<size_t>(INT_MAX) + 1;
    errno = 0;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, ENOBUFS);
    EXPECT_EQ(Inq(sv[1]), 0);
    // After the msghdr and the iovec are taken in (sendmsg_copy_msghdr):
    // their errors come first.
    msg.msg_iovlen = IOV_MAX + 1;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    msg.msg_iov = static_cast<iovec*>(page.get());
    msg.msg_iovlen = 1;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), -1);
    EXPECT_EQ(errno, EFAULT);
    msg.msg_iov = &iov;
    // Shorter than one cmsghdr: holds no message, so it is ignored.
    msg.msg_controllen = sizeof(cmsghdr) - 1;
    EXPECT_EQ(api().sendmsg(sv[0], &msg, 0), 3);
    EXPECT_EQ(RecvString(sv[1], 8), "abc");
    ClosePair(sv);
  }
}

// The INT_MAX limit is ____sys_sendmsg's alone: a receive takes any
// msg_controllen, and one with nothing to report writes back 0.
TEST_P(MsghdrControl, ReceiveTakesAnyControllen) {
  for (int type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    int sv[2];
    ASSERT_NO_FATAL_FAILURE(MakeNonblockingPair(type, sv));
    alignas(cmsghdr) char cbuf[64];
    for (const char* name : {static_cast<const char*>(nullptr), "named"}) {
      SendAll(sv[0], "abc");
      char buf[8];
      iovec iov = {buf, sizeof buf};
      sockaddr_un from{};
      msghdr msg = {};
      // Both the fast path (no name) and the general one (a name).
      if (name != nullptr) {
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
      }
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = static_cast<size_t>(INT_MAX) + 1;
      EXPECT_EQ(api().recvmsg(sv[1], &msg, 0), 3) << strerror(errno);
      EXPECT_EQ(msg.msg_controllen, 0u);
    }
    ClosePair(sv);
  }
}

SHUNT_BOTH_BACKENDS(MsghdrControl);

// ---------------------------------------------------------------------------
// Calls on descriptors that are not sockets, or not descriptors at all. The
// descriptor is checked before any argument.

class MsghdrNotASocket : public MsghdrFixture {};

TEST_P(MsghdrNotASocket, PipeIsEnotsockForSocketCallsOnly) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  char buf[8];
  iovec iov = {buf, sizeof(buf)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  mmsghdr mm = {};
  mm.msg_hdr = msg;
  sockaddr_un from;
  socklen_t len = sizeof(from);
  auto expect_enotsock = [](ssize_t r) {
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, ENOTSOCK);
  };
  errno = 0;
  expect_enotsock(api().send(p[1], "abc", 3, 0));
  errno = 0;
  expect_enotsock(api().send(p[1], "abc", 0, 0));
  errno = 0;
  expect_enotsock(api().sendto(p[1], "abc", 3, 0, nullptr, 0));
  errno = 0;
  expect_enotsock(api().sendmsg(p[1], &msg, 0));
  errno = 0;
  expect_enotsock(api().sendmsg(p[1], nullptr, 0));
  errno = 0;
  expect_enotsock(api().sendmmsg(p[1], &mm, 1, 0));
  errno = 0;
  expect_enotsock(api().sendmmsg(p[1], nullptr, 0, 0));

  ASSERT_EQ(api().write(p[1], "abc", 3), 3);  // plain I/O still works
  errno = 0;
  expect_enotsock(api().recv(p[0], buf, sizeof(buf), 0));
  errno = 0;
  expect_enotsock(api().recv(p[0], buf, 0, 0));
  errno = 0;
  expect_enotsock(api().recvfrom(p[0], buf, sizeof(buf), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len));
  errno = 0;
  expect_enotsock(api().recvmsg(p[0], &msg, 0));
  errno = 0;
  expect_enotsock(api().recvmsg(p[0], nullptr, 0));
  errno = 0;
  expect_enotsock(api().recvmmsg(p[0], &mm, 1, 0, nullptr));
  errno = 0;
  expect_enotsock(api().recvmmsg(p[0], nullptr, 0, 0, nullptr));
  EXPECT_EQ(api().read(p[0], buf, 2), 2);
  EXPECT_EQ(memcmp(buf, "ab", 2), 0);
  EXPECT_EQ(api().readv(p[0], &iov, 1), 1);
  EXPECT_EQ(buf[0], 'c');
  char w[] = "xy";
  iovec wv = {w, 2};
  EXPECT_EQ(api().writev(p[1], &wv, 1), 2);
  EXPECT_EQ(api().read(p[0], buf, sizeof(buf)), 2);
  EXPECT_EQ(api().close(p[0]), 0);
  EXPECT_EQ(api().close(p[1]), 0);
}

TEST_P(MsghdrNotASocket, BadDescriptorIsEbadfForEveryCall) {
  // A number that was just closed, and -1.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(close(p[0]), 0);
  ASSERT_EQ(close(p[1]), 0);
  for (int fd : {-1, p[0]}) {
    SCOPED_TRACE(fd);
    char buf[8];
    iovec iov = {buf, sizeof(buf)};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    mmsghdr mm = {};
    mm.msg_hdr = msg;
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    socklen_t len = sizeof(a);
    auto expect_ebadf = [](ssize_t r) {
      EXPECT_EQ(r, -1);
      EXPECT_EQ(errno, EBADF);
    };
    errno = 0;
    expect_ebadf(api().send(fd, "abc", 3, 0));
    errno = 0;
    expect_ebadf(api().sendto(fd, "abc", 3, 0, reinterpret_cast<sockaddr*>(&a),
                              sizeof(a)));
    errno = 0;
    expect_ebadf(api().sendmsg(fd, &msg, 0));
    errno = 0;
    expect_ebadf(api().sendmsg(fd, nullptr, 0));
    errno = 0;
    expect_ebadf(api().sendmmsg(fd, &mm, 1, 0));
    errno = 0;
    expect_ebadf(api().sendmmsg(fd, nullptr, 0, 0));
    errno = 0;
    expect_ebadf(api().recv(fd, buf, sizeof(buf), 0));
    errno = 0;
    expect_ebadf(api().recvfrom(fd, buf, sizeof(buf), 0,
                                reinterpret_cast<sockaddr*>(&a), &len));
    errno = 0;
    expect_ebadf(api().recvmsg(fd, &msg, 0));
    errno = 0;
    expect_ebadf(api().recvmsg(fd, nullptr, 0));
    errno = 0;
    expect_ebadf(api().recvmmsg(fd, &mm, 1, 0, nullptr));
    errno = 0;
    expect_ebadf(api().recvmmsg(fd, nullptr, 0, 0, nullptr));
    errno = 0;
    expect_ebadf(api().read(fd, buf, sizeof(buf)));
    errno = 0;
    expect_ebadf(api().read(fd, buf, 0));
    errno = 0;
    expect_ebadf(api().write(fd, "abc", 3));
    errno = 0;
    expect_ebadf(api().readv(fd, &iov, 1));
    errno = 0;
    expect_ebadf(api().writev(fd, &iov, 1));
    errno = 0;
    // Even an iovec count that would be EINVAL on a valid descriptor.
    expect_ebadf(api().readv(fd, &iov, static_cast<int>(kIovMax) + 1));
  }
}

SHUNT_BOTH_BACKENDS(MsghdrNotASocket);

}  // namespace

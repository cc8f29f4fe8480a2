// The kernel-style socket layer (shunt_sock_* / shunt_kernel_*), which has no
// libc counterpart, so these are plain TESTs against shunt only. Contract:
// every call returns 0, a byte count or -errno and never touches errno;
// shunt_kernel_recvmsg leaves the kvec array describing the unfilled part
// of the original buffers; shunt_sockfd_lookup takes its own reference.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <shunt/shunt.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

// The function shunt_socket() hides the struct's name in C++.
using ShuntSock = struct shunt_socket;

constexpr int kSentinel = 4242;  // errno value no call may change

// A unique abstract address for this process.
struct AbstractAddr {
  sockaddr_un sun;
  int len;
};

AbstractAddr MakeAbstract(const char* tag) {
  static int serial = 0;
  const std::string name = std::string(1, '\0') + "shunt-kapi-" +
                           std::to_string(getpid()) + "-" + tag + "-" +
                           std::to_string(serial++);
  AbstractAddr a = {};
  a.sun.sun_family = AF_UNIX;
  memcpy(a.sun.sun_path, name.data(), name.size());
  a.len = static_cast<int>(offsetof(sockaddr_un, sun_path) + name.size());
  return a;
}

const sockaddr* Sa(const AbstractAddr& a) {
  return reinterpret_cast<const sockaddr*>(&a.sun);
}

// A connected pair of `type` built only from kernel-layer calls: bind and
// listen one socket, connect another, accept.
void MakeConnectedPair(int type, ShuntSock** client, ShuntSock** server) {
  const AbstractAddr addr = MakeAbstract("pair");
  ShuntSock* listener = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, type, 0, &listener), 0);
  ASSERT_NE(listener, nullptr);
  ASSERT_EQ(shunt_kernel_bind(listener, Sa(addr), addr.len), 0);
  ASSERT_EQ(shunt_kernel_listen(listener, 4), 0);
  ASSERT_EQ(shunt_sock_create(AF_UNIX, type, 0, client), 0);
  // Room in the backlog: the connect completes without waiting.
  ASSERT_EQ(shunt_kernel_connect(*client, Sa(addr), addr.len, 0), 0);
  ASSERT_EQ(shunt_kernel_accept(listener, server, O_NONBLOCK), 0);
  ASSERT_NE(*server, nullptr);
  shunt_sock_release(listener);
}

int KSend(ShuntSock* sock, const std::string& data, int flags = 0,
          const AbstractAddr* to = nullptr) {
  kvec vec = {const_cast<char*>(data.data()), data.size()};
  msghdr msg = {};
  msg.msg_flags = flags | MSG_NOSIGNAL;
  if (to != nullptr) {
    msg.msg_name = const_cast<sockaddr_un*>(&to->sun);
    msg.msg_namelen = to->len;
  }
  return shunt_kernel_sendmsg(sock, &msg, &vec, 1, data.size());
}

// Receives up to `len` bytes with MSG_DONTWAIT; returns them, or "" and
// sets *ret to the result.
std::string KRecv(ShuntSock* sock, size_t len, int* ret,
                  int flags = MSG_DONTWAIT) {
  std::string buf(len, '\0');
  kvec vec = {buf.data(), len};
  msghdr msg = {};
  *ret = shunt_kernel_recvmsg(sock, &msg, &vec, 1, len, flags);
  buf.resize(*ret > 0 ? *ret : 0);
  return buf;
}

// ---------------------------------------------------------------------------

TEST(KernelApiErrnoContract, ReturnsNegativeErrnoAndLeavesErrnoAlone) {
  errno = kSentinel;
  ShuntSock* bad = nullptr;
  EXPECT_EQ(shunt_sock_create(AF_UNIX, SOCK_RDM, 0, &bad), -ESOCKTNOSUPPORT);
  EXPECT_EQ(errno, kSentinel);
  EXPECT_EQ(shunt_sock_create(AF_UNIX, SOCK_STREAM, 5, &bad), -EPROTONOSUPPORT);
  EXPECT_EQ(errno, kSentinel);

  const AbstractAddr addr = MakeAbstract("errno");
  ShuntSock* listener = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_STREAM, 0, &listener), 0);
  EXPECT_EQ(errno, kSentinel);
  ASSERT_EQ(shunt_kernel_bind(listener, Sa(addr), addr.len), 0);
  EXPECT_EQ(errno, kSentinel);

  ShuntSock* other = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_STREAM, 0, &other), 0);
  EXPECT_EQ(shunt_kernel_bind(other, Sa(addr), addr.len), -EADDRINUSE);
  EXPECT_EQ(errno, kSentinel);
  // Nobody listens yet.
  EXPECT_EQ(shunt_kernel_connect(other, Sa(addr), addr.len, 0), -ECONNREFUSED);
  EXPECT_EQ(errno, kSentinel);

  ASSERT_EQ(shunt_kernel_listen(listener, 4), 0);
  ShuntSock* accepted = nullptr;
  EXPECT_EQ(shunt_kernel_accept(listener, &accepted, O_NONBLOCK), -EAGAIN);
  EXPECT_EQ(errno, kSentinel);
  ASSERT_EQ(shunt_kernel_connect(other, Sa(addr), addr.len, 0), 0);
  EXPECT_EQ(errno, kSentinel);
  ASSERT_EQ(shunt_kernel_accept(listener, &accepted, O_NONBLOCK), 0);
  EXPECT_EQ(errno, kSentinel);

  EXPECT_EQ(KSend(other, "hello"), 5);
  EXPECT_EQ(errno, kSentinel);
  int ret = 0;
  EXPECT_EQ(KRecv(accepted, 16, &ret), "hello");
  EXPECT_EQ(ret, 5);
  EXPECT_EQ(errno, kSentinel);
  KRecv(accepted, 16, &ret);
  EXPECT_EQ(ret, -EAGAIN);
  EXPECT_EQ(errno, kSentinel);
  EXPECT_EQ(shunt_kernel_shutdown(other, 7), -EINVAL);
  EXPECT_EQ(errno, kSentinel);
  EXPECT_EQ(shunt_kernel_shutdown(other, SHUT_WR), 0);
  EXPECT_EQ(errno, kSentinel);
  EXPECT_EQ(KSend(other, "x"), -EPIPE);
  EXPECT_EQ(errno, kSentinel);

  ShuntSock* dgram = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_DGRAM, 0, &dgram), 0);
  EXPECT_EQ(shunt_kernel_listen(dgram, 1), -EOPNOTSUPP);
  EXPECT_EQ(errno, kSentinel);

  int err = 0;
  EXPECT_EQ(shunt_sockfd_lookup(-1, &err), nullptr);
  EXPECT_EQ(err, -EBADF);
  EXPECT_EQ(errno, kSentinel);

  shunt_sock_release(dgram);
  shunt_sock_release(accepted);
  shunt_sock_release(other);
  shunt_sock_release(listener);
  EXPECT_EQ(errno, kSentinel);
}

// ---------------------------------------------------------------------------

TEST(KernelRecvmsgKvec, EntriesAdvancePastReceivedBytes) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  ASSERT_EQ(KSend(c, "abcdef"), 6);
  char buf1[4] = {}, buf2[8] = {};
  kvec vec[2] = {{buf1, sizeof(buf1)}, {buf2, sizeof(buf2)}};
  msghdr msg = {};
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, vec, 2, 12, MSG_DONTWAIT), 6);
  EXPECT_EQ(memcmp(buf1, "abcd", 4), 0);
  EXPECT_EQ(memcmp(buf2, "ef", 2), 0);
  EXPECT_EQ(vec[0].iov_base, buf1 + 4);
  EXPECT_EQ(vec[0].iov_len, 0u);
  EXPECT_EQ(vec[1].iov_base, buf2 + 2);
  EXPECT_EQ(vec[1].iov_len, 6u);

  // Passing the advanced array back continues where the last call stopped.
  ASSERT_EQ(KSend(c, "ghi"), 3);
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, vec, 2, 6, MSG_DONTWAIT), 3);
  EXPECT_EQ(memcmp(buf2, "efghi", 5), 0);
  EXPECT_EQ(vec[0].iov_len, 0u);
  EXPECT_EQ(vec[1].iov_base, buf2 + 5);
  EXPECT_EQ(vec[1].iov_len, 3u);
  shunt_sock_release(c);
  shunt_sock_release(s);
}

TEST(KernelRecvmsgKvec, SizeBelowKvecTotalLimitsReceive) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  ASSERT_EQ(KSend(c, "0123456789"), 10);
  char b1[4] = {}, b2[8] = {};
  kvec vec[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
  msghdr msg = {};
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, vec, 2, 5, MSG_DONTWAIT), 5);
  EXPECT_EQ(memcmp(b1, "0123", 4), 0);
  EXPECT_EQ(b2[0], '4');
  EXPECT_EQ(b2[1], '\0');
  EXPECT_EQ(vec[0].iov_base, b1 + 4);
  EXPECT_EQ(vec[0].iov_len, 0u);
  EXPECT_EQ(vec[1].iov_base, b2 + 1);
  EXPECT_EQ(vec[1].iov_len, 7u);
  int ret = 0;
  EXPECT_EQ(KRecv(s, 16, &ret), "56789");
  shunt_sock_release(c);
  shunt_sock_release(s);
}

TEST(KernelRecvmsgKvec, NothingQueuedLeavesKvecUnchanged) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  char b[4];
  kvec vec = {b, sizeof(b)};
  msghdr msg = {};
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, &vec, 1, sizeof(b), MSG_DONTWAIT),
            -EAGAIN);
  EXPECT_EQ(vec.iov_base, b);
  EXPECT_EQ(vec.iov_len, sizeof(b));
  // EOF is 0 bytes, also leaving the kvec alone.
  ASSERT_EQ(shunt_kernel_shutdown(c, SHUT_WR), 0);
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, &vec, 1, sizeof(b), MSG_DONTWAIT), 0);
  EXPECT_EQ(vec.iov_base, b);
  EXPECT_EQ(vec.iov_len, sizeof(b));
  shunt_sock_release(c);
  shunt_sock_release(s);
}

// iov_iter_kvec takes any number of entries: 2000 one-byte kvecs, beyond
// UIO_MAXIOV, send and receive 2000 bytes.
TEST(KernelRecvmsgKvec, AnyNumberOfEntries) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  constexpr size_t kN = 2000;
  std::string out(kN, 'x'), in(kN, '\0');
  std::vector<kvec> vec(kN);
  for (size_t i = 0; i < kN; ++i) vec[i] = {&out[i], 1};
  msghdr msg = {};
  msg.msg_flags = MSG_NOSIGNAL;
  EXPECT_EQ(shunt_kernel_sendmsg(c, &msg, vec.data(), kN, kN),
            static_cast<int>(kN));
  for (size_t i = 0; i < kN; ++i) vec[i] = {&in[i], 1};
  msghdr rmsg = {};
  EXPECT_EQ(shunt_kernel_recvmsg(s, &rmsg, vec.data(), kN, kN, MSG_DONTWAIT),
            static_cast<int>(kN));
  EXPECT_EQ(in, out);
  EXPECT_EQ(vec[kN - 1].iov_len, 0u);
  shunt_sock_release(c);
  shunt_sock_release(s);
}

// unix_copy_addr reports only a sender with a name: an unnamed one leaves
// msg_name and msg_namelen as they were. Result flags are ORed into
// msg_flags, as sock_recvmsg leaves them.
TEST(KernelRecvmsgDatagram, UnnamedSenderLeavesTheNameAlone) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_SEQPACKET, &c, &s));
  ASSERT_EQ(KSend(c, "abcdef"), 6);
  char buf[4] = {};
  kvec vec = {buf, sizeof(buf)};
  sockaddr_un from = {};
  from.sun_family = 12345;
  msghdr msg = {};
  msg.msg_name = &from;
  msg.msg_namelen = 77;
  msg.msg_flags = MSG_EOR;
  EXPECT_EQ(shunt_kernel_recvmsg(s, &msg, &vec, 1, sizeof(buf), MSG_DONTWAIT),
            4);
  EXPECT_EQ(msg.msg_namelen, 77u);
  EXPECT_EQ(from.sun_family, 12345);
  EXPECT_EQ(msg.msg_flags, MSG_EOR | MSG_TRUNC);
  shunt_sock_release(c);
  shunt_sock_release(s);
}

TEST(KernelSendmsgKvec, GathersUpToSize) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  char a[] = "ab", b[] = "", d[] = "cde";
  kvec vec[3] = {{a, 2}, {b, 0}, {d, 3}};
  msghdr msg = {};
  msg.msg_flags = MSG_NOSIGNAL;
  EXPECT_EQ(shunt_kernel_sendmsg(c, &msg, vec, 3, 5), 5);
  int ret = 0;
  EXPECT_EQ(KRecv(s, 16, &ret), "abcde");
  // size below the kvec total sends only the first size bytes.
  kvec vec2[3] = {{a, 2}, {b, 0}, {d, 3}};
  EXPECT_EQ(shunt_kernel_sendmsg(c, &msg, vec2, 3, 3), 3);
  EXPECT_EQ(KRecv(s, 16, &ret), "abc");
  shunt_sock_release(c);
  shunt_sock_release(s);
}

TEST(KernelRecvmsgDatagram, TruncationSetsMsgTrunc) {
  const AbstractAddr raddr = MakeAbstract("dgram-r");
  const AbstractAddr saddr = MakeAbstract("dgram-s");
  ShuntSock *r = nullptr, *s = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_DGRAM, 0, &r), 0);
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_DGRAM, 0, &s), 0);
  ASSERT_EQ(shunt_kernel_bind(r, Sa(raddr), raddr.len), 0);
  ASSERT_EQ(shunt_kernel_bind(s, Sa(saddr), saddr.len), 0);

  ASSERT_EQ(KSend(s, "abcdef", 0, &raddr), 6);
  char buf[4] = {};
  kvec vec = {buf, sizeof(buf)};
  sockaddr_un from = {};
  msghdr msg = {};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_flags = 0;
  EXPECT_EQ(shunt_kernel_recvmsg(r, &msg, &vec, 1, sizeof(buf), MSG_DONTWAIT),
            4);
  EXPECT_EQ(memcmp(buf, "abcd", 4), 0);
  EXPECT_EQ(msg.msg_flags & MSG_TRUNC, MSG_TRUNC);
  EXPECT_EQ(vec.iov_base, buf + 4);
  EXPECT_EQ(vec.iov_len, 0u);
  EXPECT_EQ(msg.msg_namelen, static_cast<socklen_t>(saddr.len));
  EXPECT_EQ(memcmp(&from, &saddr.sun, saddr.len), 0);
  // The rest of the datagram is gone.
  int ret = 0;
  KRecv(r, 16, &ret);
  EXPECT_EQ(ret, -EAGAIN);

  // A datagram that fits: no MSG_TRUNC.
  ASSERT_EQ(KSend(s, "xy", 0, &raddr), 2);
  char buf2[8] = {};
  kvec vec2 = {buf2, sizeof(buf2)};
  msghdr msg2 = {};
  EXPECT_EQ(
      shunt_kernel_recvmsg(r, &msg2, &vec2, 1, sizeof(buf2), MSG_DONTWAIT), 2);
  EXPECT_EQ(msg2.msg_flags & MSG_TRUNC, 0);

  // MSG_TRUNC as an input flag returns the real length.
  ASSERT_EQ(KSend(s, "123456789", 0, &raddr), 9);
  char buf3[2];
  kvec vec3 = {buf3, sizeof(buf3)};
  msghdr msg3 = {};
  EXPECT_EQ(shunt_kernel_recvmsg(r, &msg3, &vec3, 1, sizeof(buf3),
                                 MSG_DONTWAIT | MSG_TRUNC),
            9);
  EXPECT_EQ(msg3.msg_flags & MSG_TRUNC, MSG_TRUNC);
  shunt_sock_release(r);
  shunt_sock_release(s);
}

TEST(KernelShutdown, ShutWrGivesPeerEof) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_STREAM, &c, &s));
  ASSERT_EQ(KSend(c, "bye"), 3);
  ASSERT_EQ(shunt_kernel_shutdown(c, SHUT_WR), 0);
  int ret = 0;
  EXPECT_EQ(KRecv(s, 16, &ret), "bye");
  KRecv(s, 16, &ret);
  EXPECT_EQ(ret, 0);
  KRecv(s, 16, &ret);
  EXPECT_EQ(ret, 0);
  // The other direction is still open.
  EXPECT_EQ(KSend(s, "back"), 4);
  EXPECT_EQ(KRecv(c, 16, &ret), "back");
  shunt_sock_release(c);
  shunt_sock_release(s);
}

TEST(KernelSeqpacket, RecordsKeepBoundaries) {
  ShuntSock *c = nullptr, *s = nullptr;
  ASSERT_NO_FATAL_FAILURE(MakeConnectedPair(SOCK_SEQPACKET, &c, &s));
  ASSERT_EQ(KSend(c, "one"), 3);
  ASSERT_EQ(KSend(c, "two"), 3);
  int ret = 0;
  EXPECT_EQ(KRecv(s, 16, &ret), "one");
  EXPECT_EQ(KRecv(s, 16, &ret), "two");
  shunt_sock_release(c);
  shunt_sock_release(s);
}

// ---------------------------------------------------------------------------

TEST(KernelSockfdLookup, NonShuntDescriptors) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  int err = 0;
  errno = kSentinel;
  EXPECT_EQ(shunt_sockfd_lookup(p[0], &err), nullptr);
  EXPECT_EQ(err, -ENOTSOCK);
  EXPECT_EQ(errno, kSentinel);
  ASSERT_EQ(close(p[0]), 0);
  ASSERT_EQ(close(p[1]), 0);
  err = 0;
  EXPECT_EQ(shunt_sockfd_lookup(p[0], &err), nullptr);
  EXPECT_EQ(err, -EBADF);
  err = 0;
  EXPECT_EQ(shunt_sockfd_lookup(-1, &err), nullptr);
  EXPECT_EQ(err, -EBADF);
  // A kernel socket is a socket, but not a shunt one.
  const int kfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(kfd, 0);
  err = 0;
  EXPECT_EQ(shunt_sockfd_lookup(kfd, &err), nullptr);
  EXPECT_EQ(err, -ENOTSOCK);
  EXPECT_EQ(errno, kSentinel);
  EXPECT_EQ(close(kfd), 0);
}

// The looked-up socket holds its own reference: closing the descriptor does
// not close the socket, releasing the last reference does.
TEST(KernelSockfdLookup, ReferenceOutlivesDescriptor) {
  int sv[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int err = 0;
  ShuntSock* sock = shunt_sockfd_lookup(sv[0], &err);
  ASSERT_NE(sock, nullptr) << err;
  ASSERT_EQ(shunt_close(sv[0]), 0);
  // The descriptor is gone...
  err = 0;
  EXPECT_EQ(shunt_sockfd_lookup(sv[0], &err), nullptr);
  EXPECT_EQ(err, -EBADF);

  // ...but the socket still works in both directions.
  EXPECT_EQ(KSend(sock, "via-ref"), 7);
  char buf[16] = {};
  EXPECT_EQ(shunt_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 7);
  EXPECT_EQ(memcmp(buf, "via-ref", 7), 0);
  EXPECT_EQ(shunt_send(sv[1], "to-ref", 6, MSG_NOSIGNAL), 6);
  int ret = 0;
  EXPECT_EQ(KRecv(sock, 16, &ret), "to-ref");
  // No EOF yet: the peer is still open.
  EXPECT_EQ(shunt_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);

  shunt_sock_release(sock);
  EXPECT_EQ(shunt_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
  EXPECT_EQ(shunt_close(sv[1]), 0);
}

TEST(KernelSockfdLookup, TwoLookupsNeedTwoReleases) {
  int sv[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int err = 0;
  ShuntSock* a = shunt_sockfd_lookup(sv[0], &err);
  ShuntSock* b = shunt_sockfd_lookup(sv[0], &err);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(shunt_close(sv[0]), 0);
  shunt_sock_release(a);
  char buf[4];
  EXPECT_EQ(shunt_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  shunt_sock_release(b);
  EXPECT_EQ(shunt_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
  EXPECT_EQ(shunt_close(sv[1]), 0);
}

// The kernel layer and the POSIX layer share one namespace.
TEST(KernelApiInterop, KernelClientPosixListener) {
  const AbstractAddr addr = MakeAbstract("interop");
  const int lfd = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(shunt_bind(lfd, Sa(addr), addr.len), 0);
  ASSERT_EQ(shunt_listen(lfd, 4), 0);
  ShuntSock* c = nullptr;
  ASSERT_EQ(shunt_sock_create(AF_UNIX, SOCK_STREAM, 0, &c), 0);
  ASSERT_EQ(shunt_kernel_connect(c, Sa(addr), addr.len, 0), 0);
  const int fd = shunt_accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(KSend(c, "k2p"), 3);
  char buf[8] = {};
  EXPECT_EQ(shunt_recv(fd, buf, sizeof(buf), 0), 3);
  EXPECT_EQ(memcmp(buf, "k2p", 3), 0);
  EXPECT_EQ(shunt_send(fd, "p2k", 3, MSG_NOSIGNAL), 3);
  int ret = 0;
  EXPECT_EQ(KRecv(c, 8, &ret), "p2k");
  shunt_sock_release(c);
  EXPECT_EQ(shunt_recv(fd, buf, sizeof(buf), 0), 0);
  EXPECT_EQ(shunt_close(fd), 0);
  EXPECT_EQ(shunt_close(lfd), 0);
}

// Control messages through the kernel-style calls: credentials reach a
// kernel-memory buffer; descriptors are sent from this process's table and
// released, not installed, on the kernel-style receive (scm_detach_fds).
TEST(KernelApiControl, CredentialsArriveDescriptorsAreReleased) {
  int sv[2], p[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  ASSERT_EQ(pipe(p), 0);
  const int on = 1;
  ASSERT_EQ(shunt_setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on),
            0);
  int err = 0;
  ShuntSock* tx = shunt_sockfd_lookup(sv[0], &err);
  ShuntSock* rx = shunt_sockfd_lookup(sv[1], &err);
  ASSERT_NE(tx, nullptr);
  ASSERT_NE(rx, nullptr);
  alignas(cmsghdr) char out[CMSG_SPACE(sizeof(int))] = {};
  cmsghdr* c = reinterpret_cast<cmsghdr*>(out);
  c->cmsg_len = CMSG_LEN(sizeof(int));
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  memcpy(CMSG_DATA(c), &p[1], sizeof(int));
  msghdr msg{};
  msg.msg_control = out;
  msg.msg_controllen = sizeof out;
  char byte = 'k';
  kvec vec{&byte, 1};
  ASSERT_EQ(shunt_kernel_sendmsg(tx, &msg, &vec, 1, 1), 1);
  close(p[1]);
  alignas(cmsghdr) char in[128] = {};
  msghdr rm{};
  rm.msg_control = in;
  rm.msg_controllen = sizeof in;
  char got = 0;
  kvec rvec{&got, 1};
  ASSERT_EQ(shunt_kernel_recvmsg(rx, &rm, &rvec, 1, 1, MSG_DONTWAIT), 1);
  EXPECT_EQ(got, 'k');
  EXPECT_EQ(rm.msg_controllen, sizeof in - CMSG_SPACE(sizeof(ucred)));
  EXPECT_EQ(static_cast<char*>(rm.msg_control), in + CMSG_SPACE(sizeof(ucred)));
  const cmsghdr* rc = reinterpret_cast<const cmsghdr*>(in);
  EXPECT_EQ(rc->cmsg_type, SCM_CREDENTIALS);
  ucred u;
  memcpy(&u, CMSG_DATA(rc), sizeof u);
  EXPECT_EQ(u.pid, getpid());
  char c2;
  EXPECT_EQ(read(p[0], &c2, 1), 0);  // the passed writer was released
  close(p[0]);
  shunt_sock_release(tx);
  shunt_sock_release(rx);
  shunt_close(sv[0]);
  shunt_close(sv[1]);
}

}  // namespace

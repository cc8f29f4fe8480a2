// What only shunt has, so these run on shunt alone: the 4.3BSD msghdr
// dialect (shunt_osendmsg/shunt_orecvmsg, following the 4.3BSD manual) and
// the NonStop OSS descriptor-passing personality (SHUNT_SO_PERSONALITY,
// documented in include/shunt/shunt.h).
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <shunt/shunt.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "backend.h"

namespace {

class ShuntOnly : public ::testing::Test {
 protected:
  void SetUp() override { fds_ = shunt_test::CountOpenFds(); }
  // Closes the pair and the pipe, then checks for leaks.
  void TearDown() override {
    for (int fd : sv)
      if (fd >= 0) shunt_close(fd);
    for (int fd : p)
      if (fd >= 0) close(fd);
    EXPECT_EQ(shunt_test::CountOpenFds(), fds_) << "descriptor leak";
  }
  // A shunt pair of `type` in sv and a pipe in p.
  void Open(int type) {
    ASSERT_EQ(shunt_socketpair(AF_UNIX, type, 0, sv), 0);
    ASSERT_EQ(pipe(p), 0);
  }
  // Closes the pipe's write end now.
  void CloseWriter() {
    close(p[1]);
    p[1] = -1;
  }
  int sv[2] = {-1, -1};
  int p[2] = {-1, -1};
  int fds_ = 0;
};

// ---------------------------------------------------------------------------
class BsdDialect : public ShuntOnly {
 protected:
  static constexpr int kWholeArray = -12345;
  ssize_t OSend(int fd, const std::vector<int>& rights,
                int len_bytes = kWholeArray) {
    char byte = 'o';
    iovec iov{&byte, 1};
    shunt_omsghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_accrights = const_cast<int*>(rights.data());
    m.msg_accrightslen = len_bytes != kWholeArray
                             ? len_bytes
                             : static_cast<int>(rights.size() * sizeof(int));
    return shunt_osendmsg(fd, &m, 0);
  }
};

TEST_F(BsdDialect, AccessRightsTravelAsAnIntArray) {
  Open(SOCK_DGRAM);
  ASSERT_EQ(OSend(sv[0], {p[1], sv[0]}), 1);
  CloseWriter();
  int rights[4] = {-1, -1, -1, -1};
  char byte = 0;
  iovec iov{&byte, 1};
  shunt_omsghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_accrights = rights;
  m.msg_accrightslen = sizeof rights;
  ASSERT_EQ(shunt_orecvmsg(sv[1], &m, 0), 1);
  EXPECT_EQ(byte, 'o');
  EXPECT_EQ(m.msg_accrightslen, static_cast<int>(2 * sizeof(int)));
  EXPECT_EQ(rights[2], -1);
  EXPECT_EQ(write(rights[0], "w", 1), 1);
  char c;
  EXPECT_EQ(read(p[0], &c, 1), 1);
  EXPECT_EQ(shunt_is_socket(rights[1]), 1);
  EXPECT_EQ(shunt_send(rights[1], "s", 1, 0), 1);
  EXPECT_EQ(shunt_recv(sv[1], &c, 1, 0), 1);
  close(rights[0]);
  shunt_close(rights[1]);
  EXPECT_TRUE(shunt_test::PipeAtEof(p[0]));
}

// A receiver that passes credentials still gets all 253 rights: the
// credentials shunt_orecvmsg receives with them are not the caller's
// business (the dialect has no place for them) and take no room.
TEST_F(BsdDialect, AllRightsArriveWithPassCred) {
  Open(SOCK_DGRAM);
  int one = 1;
  ASSERT_EQ(shunt_setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one),
            0);
  std::vector<int> many(253, p[1]);
  ASSERT_EQ(OSend(sv[0], many), 1);
  CloseWriter();
  std::vector<int> rights(253, -1);
  char byte = 0;
  iovec iov{&byte, 1};
  shunt_omsghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_accrights = rights.data();
  m.msg_accrightslen = static_cast<int>(rights.size() * sizeof(int));
  ASSERT_EQ(shunt_orecvmsg(sv[1], &m, 0), 1);
  EXPECT_EQ(m.msg_accrightslen, static_cast<int>(253 * sizeof(int)));
  for (int fd : rights) {
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
  }
  EXPECT_TRUE(shunt_test::PipeAtEof(p[0]));
}

TEST_F(BsdDialect, WhatDoesNotFitIsClosed) {
  Open(SOCK_STREAM);
  ASSERT_EQ(OSend(sv[0], {p[1], p[1], p[1]}), 1);
  ASSERT_EQ(OSend(sv[0], {p[1]}), 1);
  CloseWriter();
  int right = -1;
  char byte = 0;
  iovec iov{&byte, 1};
  shunt_omsghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_accrights = &right;
  m.msg_accrightslen = sizeof right;
  ASSERT_EQ(shunt_orecvmsg(sv[1], &m, 0), 1);
  EXPECT_EQ(m.msg_accrightslen, static_cast<int>(sizeof(int)));
  ASSERT_GE(right, 0);
  close(right);
  // No room at all: the next message's right is closed.
  m.msg_accrightslen = 0;
  ASSERT_EQ(shunt_orecvmsg(sv[1], &m, 0), 1);
  EXPECT_EQ(m.msg_accrightslen, 0);
  EXPECT_TRUE(shunt_test::PipeAtEof(p[0]));
}

TEST_F(BsdDialect, BadLengthsAndDescriptors) {
  Open(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(OSend(sv[0], {}, -4), -1);
  EXPECT_EQ(errno, EINVAL);
  std::vector<int> many(254, sv[0]);
  errno = 0;
  EXPECT_EQ(OSend(sv[0], many), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(OSend(sv[0], {-1}), -1);
  EXPECT_EQ(errno, EBADF);
  // No rights: a plain message; the name comes back as recvmsg gives it
  // (an unbound sender: none).
  EXPECT_EQ(OSend(sv[0], {}), 1);
  sockaddr_un from{};
  char byte = 0;
  iovec iov{&byte, 1};
  shunt_omsghdr m{};
  m.msg_name = &from;
  m.msg_namelen = sizeof from;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_accrightslen = 0;
  ASSERT_EQ(shunt_orecvmsg(sv[1], &m, MSG_DONTWAIT), 1);
  EXPECT_EQ(m.msg_namelen, 0);
}

// ---------------------------------------------------------------------------
class NonStopPersonality : public ShuntOnly {
 protected:
  static void SetNonStop(int fd) {
    const int v = SHUNT_PERSONALITY_NONSTOP;
    ASSERT_EQ(
        shunt_setsockopt(fd, SOL_SHUNT, SHUNT_SO_PERSONALITY, &v, sizeof v), 0);
  }
  static ssize_t SendRights(int fd, const std::vector<int>& fds) {
    return shunt_test::SendRights(shunt_sendmsg, fd, fds);
  }
  // recvmsg with a control buffer of `room` bytes; the descriptors got.
  static std::vector<int> Recv(int fd, size_t room, int flags, msghdr* out) {
    static std::vector<cmsghdr> control(64);
    static char byte;
    static iovec iov;
    iov = iovec{&byte, 1};
    *out = msghdr{};
    out->msg_iov = &iov;
    out->msg_iovlen = 1;
    out->msg_control = control.data();
    out->msg_controllen = room;
    memset(control.data(), 0, control.size() * sizeof(cmsghdr));
    std::vector<int> fds;
    if (shunt_recvmsg(fd, out, flags) < 0) return fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(out); c != nullptr;
         c = CMSG_NXTHDR(out, c)) {
      if (c->cmsg_len < CMSG_LEN(0)) break;  // a NonStop peek writes none
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
        int v;
        memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof v);
        fds.push_back(v);
      }
    }
    return fds;
  }
};

TEST_F(NonStopPersonality, OptionValues) {
  Open(SOCK_STREAM);
  int v = -1;
  socklen_t len = sizeof v;
  ASSERT_EQ(shunt_getsockopt(sv[0], SOL_SHUNT, SHUNT_SO_PERSONALITY, &v, &len),
            0);
  EXPECT_EQ(v, SHUNT_PERSONALITY_LINUX);  // no SHUNT_PERSONALITY in tests
  SetNonStop(sv[0]);
  ASSERT_EQ(shunt_getsockopt(sv[0], SOL_SHUNT, SHUNT_SO_PERSONALITY, &v, &len),
            0);
  EXPECT_EQ(v, SHUNT_PERSONALITY_NONSTOP);
  v = 7;
  errno = 0;
  EXPECT_EQ(
      shunt_setsockopt(sv[0], SOL_SHUNT, SHUNT_SO_PERSONALITY, &v, sizeof v),
      -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(NonStopPersonality, AtMostSixteenDescriptors) {
  Open(SOCK_DGRAM);
  SetNonStop(sv[0]);
  errno = 0;
  EXPECT_EQ(SendRights(sv[0], std::vector<int>(17, p[1])), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(SendRights(sv[0], std::vector<int>(16, p[1])), 1);
  msghdr m;
  const std::vector<int> got = Recv(sv[1], CMSG_SPACE(16 * sizeof(int)), 0, &m);
  EXPECT_EQ(got.size(), 16u);
  for (int fd : got) close(fd);
}

TEST_F(NonStopPersonality, PeekReportsSizeAndLeavesTheDescriptors) {
  Open(SOCK_STREAM);
  SetNonStop(sv[1]);
  ASSERT_EQ(SendRights(sv[0], {p[0], p[1]}), 1);
  const int before = shunt_test::CountOpenFds();
  msghdr m;
  std::vector<int> got = Recv(sv[1], CMSG_SPACE(4 * sizeof(int)), MSG_PEEK, &m);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(m.msg_controllen, CMSG_SPACE(2 * sizeof(int)));
  EXPECT_EQ(m.msg_flags, 0);
  EXPECT_EQ(shunt_test::CountOpenFds(), before);  // nothing installed
  // The next read delivers them; a short buffer discards the excess.
  got = Recv(sv[1], CMSG_LEN(sizeof(int)), 0, &m);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(m.msg_flags, MSG_CTRUNC);
  close(got[0]);
}

}  // namespace

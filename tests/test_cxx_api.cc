// The C++ veneer (<shunt/shunt.hpp>): ownership and errno-carrying results
// over the same socket layer.
#include <errno.h>
#include <gtest/gtest.h>

#include <shunt/shunt.hpp>
#include <string>
#include <utility>

#include "backend.h"

namespace {

std::string Text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class CxxApi : public ::testing::Test {
 protected:
  void SetUp() override { fds_ = shunt_test::CountOpenFds(); }
  void TearDown() override { EXPECT_EQ(shunt_test::CountOpenFds(), fds_); }
  int fds_ = 0;
};

TEST_F(CxxApi, PairSendsAndReceives) {
  auto pair = shunt::SocketPair(SOCK_STREAM);
  ASSERT_TRUE(pair.ok()) << pair.message();
  auto& [a, b] = pair.value();
  EXPECT_TRUE(shunt_is_socket(a.fd()));
  auto sent = a.send(std::string_view("ping"));
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent.value(), 4u);
  std::byte buf[16];
  auto got = b.recv(buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Text(std::span(buf, got.value())), "ping");
}

TEST_F(CxxApi, ErrorsCarryErrno) {
  auto pair = shunt::SocketPair(SOCK_STREAM);
  ASSERT_TRUE(pair.ok());
  std::byte buf[4];
  auto r = pair.value().first.recv(buf, MSG_DONTWAIT);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), EAGAIN);
  auto s = shunt::Socket::Create(AF_UNIX, SOCK_STREAM);
  ASSERT_TRUE(s.ok());
  auto c = s.value().connect("/nonexistent/shunt-cxx-test");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.error(), ENOENT);
}

TEST_F(CxxApi, MoveAndReleaseTransferOwnership) {
  auto s = shunt::Socket::Create(AF_UNIX, SOCK_DGRAM);
  ASSERT_TRUE(s.ok());
  shunt::Socket moved = std::move(s.value());
  EXPECT_FALSE(s.value().valid());
  ASSERT_TRUE(moved.valid());
  const int fd = moved.release();
  EXPECT_FALSE(moved.valid());
  EXPECT_TRUE(shunt_is_socket(fd));
  EXPECT_EQ(shunt_close(fd), 0);
}

}  // namespace

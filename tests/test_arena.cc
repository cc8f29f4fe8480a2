// The arena and shunt's own options: what only shunt has, so these run on
// shunt alone.
#include <errno.h>
#include <gtest/gtest.h>
#include <shunt/shunt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "arena/arena.h"
#include "backend.h"

namespace {

using shunt::Arena;
using shunt::Pool;

struct Usage {
  uint64_t sockets, files, buffers;
};

Usage Now() {
  int err = 0;
  Arena* a = Arena::Get(&err);
  EXPECT_NE(a, nullptr) << err;
  const auto* h = a->header();
  return Usage{h->live_objects[static_cast<int>(Pool::kSocket)].load(),
               h->live_objects[static_cast<int>(Pool::kOpenFile)].load(),
               h->live_buffer_bytes.load()};
}

void ExpectSame(const Usage& a, const Usage& b) {
  EXPECT_EQ(a.sockets, b.sockets);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.buffers, b.buffers);
}

// Sends fd over `via` with one byte.
void SendOneFd(int via, int fd) {
  ASSERT_EQ(shunt_test::SendRights(shunt_sendmsg, via, {fd}), 1);
}

// Sockets in flight are released with the messages holding them, and
// garbage cycles (a socket in its own queue, two in each other's) are
// collected as soon as their last descriptor goes (net/unix/garbage.c).
TEST(ArenaAccounting, SocketsInFlightAndCyclesLeaveNothing) {
  int warm[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, warm), 0);
  SendOneFd(warm[0], warm[0]);
  shunt_close(warm[0]);
  shunt_close(warm[1]);
  const Usage before = Now();
  int self[2], a[2], b[2], held[2], carrier[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, self), 0);
  SendOneFd(self[0], self[1]);  // self[1] waits in its own queue
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_DGRAM, 0, a), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_SEQPACKET, 0, b), 0);
  SendOneFd(a[0], b[1]);
  SendOneFd(b[0], a[1]);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, held), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, carrier), 0);
  SendOneFd(carrier[0], held[1]);  // in flight, not a cycle
  for (int fd : {self[1], a[1], b[1], held[1]}) shunt_close(fd);
  shunt_close(self[0]);
  shunt_close(a[0]);
  shunt_close(b[0]);
  shunt_close(held[0]);
  shunt_close(carrier[0]);
  shunt_close(carrier[1]);
  ExpectSame(Now(), before);
}

// Closing releases every socket, open file and buffer: nothing leaks in the
// arena, whatever was queued or pending.
TEST(ArenaAccounting, ClosedSocketsLeaveNothingAllocated) {
  int warm[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, warm), 0);
  shunt_close(warm[0]);
  shunt_close(warm[1]);
  const Usage before = Now();
  int st[2], dg[2], sp[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, st), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
  std::string big(100000, 'z');
  ASSERT_GT(shunt_send(st[0], big.data(), big.size(), MSG_DONTWAIT), 0);
  ASSERT_EQ(shunt_send(dg[0], "dgram", 5, 0), 5);
  ASSERT_EQ(shunt_send(sp[0], "seq", 3, 0), 3);
  // A listener with a connection never accepted, holding unread data.
  const int l = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string name = "shunt-arena-test-" + std::to_string(getpid());
  memcpy(addr.sun_path + 1, name.data(), name.size());
  const socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  ASSERT_EQ(shunt_bind(l, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(shunt_listen(l, 4), 0);
  const int c = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(shunt_connect(c, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(shunt_send(c, "pending", 7, 0), 7);
  const int d = shunt_dup(st[1]);
  for (int fd : {st[0], st[1], dg[0], dg[1], sp[0], sp[1], l, c, d})
    EXPECT_EQ(shunt_close(fd), 0);
  ExpectSame(Now(), before);
}

// The arena is the user's own: mode 0600, named by SHUNT_ARENA.
TEST(ArenaAccounting, ArenaIsPrivateToTheUser) {
  int sv[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const std::string path = std::string("/dev/shm") + getenv("SHUNT_ARENA");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  shunt_close(sv[0]);
  shunt_close(sv[1]);
}

// SHUNT_SO_SPIN_NS: per-socket spin before sleeping; 0 unless SHUNT_SPIN_NS
// (which CI sets for one run of the whole suite).
TEST(SpinOption, RoundTripsAndValidates) {
  int sv[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int v = -1;
  socklen_t len = sizeof v;
  ASSERT_EQ(shunt_getsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &v, &len), 0);
  const char* env = getenv("SHUNT_SPIN_NS");
  EXPECT_EQ(v, env != nullptr ? atoi(env) : 0);
  EXPECT_EQ(len, sizeof v);
  v = 50000;
  EXPECT_EQ(shunt_setsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &v, sizeof v),
            0);
  v = 0;
  ASSERT_EQ(shunt_getsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &v, &len), 0);
  EXPECT_EQ(v, 50000);
  v = -1;
  errno = 0;
  EXPECT_EQ(shunt_setsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &v, sizeof v),
            -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(shunt_setsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &v, 2), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(shunt_setsockopt(sv[0], SOL_SHUNT, 999, &v, sizeof v), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
  shunt_close(sv[0]);
  shunt_close(sv[1]);
}

// A spinning receiver still receives what another thread sends, and still
// sleeps (and is woken) when the spin runs out.
TEST(SpinOption, SpinningReceiverGetsData) {
  int sv[2];
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const int spin = 200000;
  ASSERT_EQ(
      shunt_setsockopt(sv[0], SOL_SHUNT, SHUNT_SO_SPIN_NS, &spin, sizeof spin),
      0);
  for (int delay_ms : {0, 20}) {
    std::thread t([&] {
      usleep(delay_ms * 1000);
      EXPECT_EQ(shunt_send(sv[1], "spin", 4, 0), 4);
    });
    char buf[8];
    EXPECT_EQ(shunt_recv(sv[0], buf, sizeof buf, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "spin");
    t.join();
  }
  shunt_close(sv[0]);
  shunt_close(sv[1]);
}

}  // namespace

// Each deliberate difference in docs/DIFFERENCES.md, shown to be exactly the
// documented one: the same operation on a kernel socket and a shunt socket,
// with both results asserted.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::CountOpenFds;

class Differences : public ::testing::Test {
 protected:
  void SetUp() override { fds_ = CountOpenFds(); }
  void TearDown() override { EXPECT_EQ(CountOpenFds(), fds_); }
  int fds_ = 0;
};

// DIFFERENCES.md 1: a stream sender's in-flight count is payload bytes in
// shunt, skb truesize in Linux.
TEST_F(Differences, StreamOutqCountsPayload) {
  int k[2], s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, k), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  ASSERT_EQ(send(k[0], "hello!", 6, 0), 6);
  ASSERT_EQ(shunt_send(s[0], "hello!", 6, 0), 6);
  int kout = 0, sout = 0;
  ASSERT_EQ(ioctl(k[0], SIOCOUTQ, &kout), 0);
  ASSERT_EQ(shunt_ioctl(s[0], SIOCOUTQ, &sout), 0);
  EXPECT_GT(kout, 6);  // truesize: the kernel's bookkeeping included
  EXPECT_EQ(sout, 6);  // what shunt really holds
  // Datagrams are charged Linux's truesize in shunt too: no difference.
  int kd[2], sd[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, kd), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_DGRAM, 0, sd), 0);
  ASSERT_EQ(send(kd[0], "hello!", 6, 0), 6);
  ASSERT_EQ(shunt_send(sd[0], "hello!", 6, 0), 6);
  ASSERT_EQ(ioctl(kd[0], SIOCOUTQ, &kout), 0);
  ASSERT_EQ(shunt_ioctl(sd[0], SIOCOUTQ, &sout), 0);
  EXPECT_EQ(sout, kout);
  for (int fd : {k[0], k[1], kd[0], kd[1]}) close(fd);
  for (int fd : {s[0], s[1], sd[0], sd[1]}) shunt_close(fd);
}

// DIFFERENCES.md 6b: two kernel sockets are two inodes; two shunt sockets
// of one process report the inode of the shared placeholder template.
TEST_F(Differences, ShuntSocketsShareOneInode) {
  int k[2], s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, k), 0);
  ASSERT_EQ(shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  struct stat k0, k1, s0, s1;
  ASSERT_EQ(fstat(k[0], &k0), 0);
  ASSERT_EQ(fstat(k[1], &k1), 0);
  ASSERT_EQ(fstat(s[0], &s0), 0);
  ASSERT_EQ(fstat(s[1], &s1), 0);
  EXPECT_NE(k0.st_ino, k1.st_ino);
  EXPECT_EQ(s0.st_ino, s1.st_ino);
  EXPECT_EQ(s0.st_dev, s1.st_dev);
  EXPECT_TRUE(S_ISSOCK(s0.st_mode));
  close(k[0]);
  close(k[1]);
  shunt_close(s[0]);
  shunt_close(s[1]);
}

// DIFFERENCES.md 3: a shunt path is reachable only from the arena.
TEST_F(Differences, KernelSocketCannotReachShuntPath) {
  char dir[] = "/tmp/shunt-diff-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  sockaddr_un shunt_addr{}, kernel_addr{};
  shunt_addr.sun_family = kernel_addr.sun_family = AF_UNIX;
  snprintf(shunt_addr.sun_path, sizeof shunt_addr.sun_path, "%s/s", dir);
  snprintf(kernel_addr.sun_path, sizeof kernel_addr.sun_path, "%s/k", dir);
  const auto* sa = reinterpret_cast<const sockaddr*>(&shunt_addr);
  const auto* ka = reinterpret_cast<const sockaddr*>(&kernel_addr);

  const int sl = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(shunt_bind(sl, sa, sizeof shunt_addr), 0);
  ASSERT_EQ(shunt_listen(sl, 1), 0);
  const int kl = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(bind(kl, ka, sizeof kernel_addr), 0);
  ASSERT_EQ(listen(kl, 1), 0);

  const int kc = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  EXPECT_EQ(connect(kc, sa, sizeof shunt_addr), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  const int sc = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  EXPECT_EQ(shunt_connect(sc, ka, sizeof kernel_addr), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // Each side still reaches its own kind.
  EXPECT_EQ(shunt_connect(sc, sa, sizeof shunt_addr), 0);
  EXPECT_EQ(connect(kc, ka, sizeof kernel_addr), 0);

  close(kc);
  close(kl);
  shunt_close(sc);
  shunt_close(sl);
  unlink(shunt_addr.sun_path);
  unlink(kernel_addr.sun_path);
  rmdir(dir);
}

// DIFFERENCES.md 9: kernel descriptors in flight wait in the receiving
// socket's mailbox, a kernel datagram socket, whose max_dgram_qlen rule
// applies to senders of another process family: an exec'd program's
// twelfth unread message carrying one waits (here: EAGAIN), where Linux
// queues it. (Within a family the mailbox sends to itself: no limit.)
TEST_F(Differences, KernelDescriptorsInFlightFollowTheDatagramQueueLimit) {
  if (shunt_test::ReadSysctl("/proc/sys/net/unix/max_dgram_qlen") != 10)
    GTEST_SKIP() << "needs /proc/sys/net/unix/max_dgram_qlen = 10";
  char dir[] = "/tmp/shunt-flood-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/l";
  const int l = shunt_test::ShuntListenerAt(path);
  ASSERT_GE(l, 0);
  const pid_t pid = shunt_test::ExecSelf("SHUNT_TEST_FLOOD", path, false);
  ASSERT_GT(pid, 0);
  const int s = shunt_accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 11);  // Linux: 12
  int received = 0;
  for (;;) {
    const std::vector<int> got =
        shunt_test::RecvRights(shunt_recvmsg, s, 1, MSG_DONTWAIT);
    if (got.size() != 1) break;
    close(got[0]);
    ++received;
  }
  EXPECT_EQ(received, 11);
  shunt_close(s);
  shunt_close(l);
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace

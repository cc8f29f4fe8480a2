// Connection setup for SOCK_STREAM and SOCK_SEQPACKET: connect(2) errors,
// listen(2) backlog accounting, accept(2)/accept4(2), permission checks and
// what happens to connections still waiting when the listener goes away.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::AbstractName;
using shunt_test::Bytes;
using shunt_test::kPathOffset;
using shunt_test::NowSeconds;
using shunt_test::PathName;
using shunt_test::RunAsNobody;
using shunt_test::UnixName;

constexpr int kConnTypes[] = {SOCK_STREAM, SOCK_SEQPACKET};

std::string UniqueTag(const std::string& tag) {
  return "shunt-conn-" + std::to_string(getpid()) + "-" + tag;
}

class ConnTest : public shunt_test::BothBackends {
 protected:
  // A listening socket of `type` bound to `name`.
  int Listener(int type, const UnixName& name, int backlog = 8) {
    const int fd = Socket(type);
    EXPECT_EQ(Bind(fd, name), 0) << strerror(errno);
    EXPECT_EQ(api().listen(fd, backlog), 0) << strerror(errno);
    return fd;
  }

  // A non-blocking client of `type` connected (or not) to `name`; returns
  // the connect result in *rc (errno preserved).
  int Client(int type, const UnixName& name, int* rc) {
    const int fd = Socket(type | SOCK_NONBLOCK);
    *rc = Connect(fd, name);
    return fd;
  }

  int Accept(int listener) {
    return Track(api().accept4(listener, nullptr, nullptr, SOCK_NONBLOCK));
  }

  // Accepts everything pending on a non-blocking or blocking listener
  // until EAGAIN; returns how many were accepted.
  int AcceptAll(int listener) {
    int n = 0;
    while (true) {
      pollfd p = {listener, POLLIN, 0};
      if (api().poll(&p, 1, 0) != 1) return n;
      if (Accept(listener) < 0) return n;
      ++n;
    }
  }

  // How many non-blocking clients connect before EAGAIN (at most `limit`).
  int FillBacklog(int type, const UnixName& name, int limit) {
    for (int n = 0; n < limit; ++n) {
      int rc;
      Client(type, name, &rc);
      if (rc != 0) {
        EXPECT_EQ(errno, EAGAIN);
        return n;
      }
    }
    return limit;
  }

  std::string SockName(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0);
    return Bytes(&ss, len);
  }
};

// ---------------------------------------------------------------------------
// connect(2) failures on connection-oriented sockets.
class StreamConnectFailures : public ConnTest {};

TEST_P(StreamConnectFailures, BoundButNotListeningGivesEconnrefused) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("s" + std::to_string(type)));
    const int server = Socket(type);
    ASSERT_EQ(Bind(server, name), 0);
    const int client = Socket(type);
    EXPECT_EQ(Connect(client, name), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
    // Blocking or not makes no difference.
    const int nb = Socket(type | SOCK_NONBLOCK);
    EXPECT_EQ(Connect(nb, name), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
  }
}

TEST_P(StreamConnectFailures, MissingPathGivesEnoent) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int client = Socket(type);
    EXPECT_EQ(Connect(client, PathName(TempPath("missing"))), -1);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(Connect(client, PathName(TempPath("nodir/missing"))), -1);
    EXPECT_EQ(errno, ENOENT);
  }
}

TEST_P(StreamConnectFailures, NonSocketFileGivesEconnrefused) {
  // net/unix/af_unix.c: unix_find_bsd refuses any inode that is not a
  // socket.
  const std::string file = TempPath("file");
  const int f = open(file.c_str(), O_CREAT | O_WRONLY, 0666);
  ASSERT_GE(f, 0);
  close(f);
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0666), 0);
  const std::string dir = TempPath("dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0777), 0);
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int client = Socket(type);
    for (const std::string& p : {file, fifo, dir}) {
      SCOPED_TRACE(p);
      EXPECT_EQ(Connect(client, PathName(p)), -1);
      EXPECT_EQ(errno, ECONNREFUSED);
    }
  }
}

TEST_P(StreamConnectFailures, MissingAbstractNameGivesEconnrefused) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int client = Socket(type);
    EXPECT_EQ(Connect(client, AbstractName(UniqueTag("nobody"))), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
  }
}

TEST_P(StreamConnectFailures, ClosedListenerGivesEconnrefused) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName path = PathName(TempPath("l" + std::to_string(type)));
    const UnixName abs = AbstractName(UniqueTag("l" + std::to_string(type)));
    const int l1 = Listener(type, path);
    const int l2 = Listener(type, abs);
    ExpectClose(l1);
    ExpectClose(l2);
    const int client = Socket(type);
    // The file remains but nobody is behind it.
    EXPECT_EQ(Connect(client, path), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
    EXPECT_EQ(Connect(client, abs), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
  }
}

TEST_P(StreamConnectFailures, TypeMismatchGivesEprototype) {
  const UnixName stream_name = PathName(TempPath("stream"));
  const UnixName seq_name = PathName(TempPath("seq"));
  const UnixName dgram_name = PathName(TempPath("dgram"));
  Listener(SOCK_STREAM, stream_name);
  Listener(SOCK_SEQPACKET, seq_name);
  const int dgram = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(dgram, dgram_name), 0);
  const struct {
    int type;
    const UnixName* to;
  } cases[] = {
      {SOCK_STREAM, &seq_name},       {SOCK_STREAM, &dgram_name},
      {SOCK_SEQPACKET, &stream_name}, {SOCK_SEQPACKET, &dgram_name},
      {SOCK_DGRAM, &stream_name},     {SOCK_DGRAM, &seq_name},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.type) + " -> " + c.to->sun.sun_path);
    const int client = Socket(c.type);
    EXPECT_EQ(Connect(client, *c.to), -1);
    EXPECT_EQ(errno, EPROTOTYPE);
    ExpectClose(client);
  }
}

TEST_P(StreamConnectFailures, SecondConnectGivesEisconn) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName a = PathName(TempPath("a" + std::to_string(type)));
    const UnixName b = PathName(TempPath("b" + std::to_string(type)));
    const int la = Listener(type, a);
    Listener(type, b);
    int rc;
    const int client = Client(type, a, &rc);
    ASSERT_EQ(rc, 0) << strerror(errno);
    EXPECT_EQ(Connect(client, a), -1);
    EXPECT_EQ(errno, EISCONN);
    EXPECT_EQ(Connect(client, b), -1);
    EXPECT_EQ(errno, EISCONN);
    // The target is looked up before the state is checked.
    // net/unix/af_unix.c: unix_stream_connect
    EXPECT_EQ(Connect(client, PathName(TempPath("missing"))), -1);
    EXPECT_EQ(errno, ENOENT);
    // Still EISCONN after the peer was accepted.
    ASSERT_GE(Accept(la), 0);
    EXPECT_EQ(Connect(client, a), -1);
    EXPECT_EQ(errno, EISCONN);
  }
}

TEST_P(StreamConnectFailures, ConnectOnListeningSocketGivesEinval) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName a = PathName(TempPath("a" + std::to_string(type)));
    const UnixName b = PathName(TempPath("b" + std::to_string(type)));
    const int la = Listener(type, a);
    Listener(type, b);
    EXPECT_EQ(Connect(la, b), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(Connect(la, a), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(GetIntOption(la, SOL_SOCKET, SO_ACCEPTCONN), 1);
  }
}

TEST_P(StreamConnectFailures, BadAddressGivesEinval) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    Listener(type, name);
    const int client = Socket(type);
    for (socklen_t len : {0u, 1u, socklen_t{sizeof(sockaddr_un) + 1}}) {
      SCOPED_TRACE(len);
      EXPECT_EQ(api().connect(client, name.sa(), len), -1);
      EXPECT_EQ(errno, EINVAL);
    }
    // Family only: nothing to look up.
    EXPECT_EQ(api().connect(client, name.sa(), kPathOffset), -1);
    EXPECT_EQ(errno, EINVAL);
    for (sa_family_t family : {AF_INET, AF_UNSPEC}) {
      SCOPED_TRACE(family);
      UnixName bad = name;
      bad.sun.sun_family = family;
      EXPECT_EQ(Connect(client, bad), -1);
      EXPECT_EQ(errno, EINVAL);
    }
    // None of that disturbed the socket.
    EXPECT_EQ(Connect(client, name), 0) << strerror(errno);
  }
}

TEST_P(StreamConnectFailures, BadPointerGivesEfault) {
  void* page =
      mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  const int client = Socket(SOCK_STREAM);
  EXPECT_EQ(
      api().connect(client, static_cast<sockaddr*>(page), sizeof(sockaddr_un)),
      -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(api().connect(client, nullptr, sizeof(sockaddr_un)), -1);
  EXPECT_EQ(errno, EFAULT);
  munmap(page, 4096);
}

TEST_P(StreamConnectFailures, NonSocketDescriptors) {
  const UnixName name = PathName(TempPath("s"));
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(Connect(p[0], name), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  EXPECT_EQ(api().listen(p[0], 1), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  EXPECT_EQ(api().accept(p[0], nullptr, nullptr), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(Connect(-1, name), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(api().listen(-1, 1), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(api().accept(-1, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_P(StreamConnectFailures, FailedConnectLeavesSocketUsable) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int client = Socket(type);
    EXPECT_EQ(Connect(client, name), -1);
    EXPECT_EQ(errno, ENOENT);
    const int l = Listener(type, name);
    EXPECT_EQ(Connect(client, name), 0) << strerror(errno);
    const int server = Accept(l);
    ASSERT_GE(server, 0);
    ASSERT_EQ(api().send(client, "hi", 2, 0), 2);
    char buf[4];
    EXPECT_EQ(api().recv(server, buf, sizeof(buf), 0), 2);
  }
}

// ---------------------------------------------------------------------------
// Backlog accounting: a listener admits backlog + 1 connections.
// net/unix/af_unix.c: unix_recvq_full compares queue length > backlog.
class ListenBacklog : public ConnTest {};

TEST_P(ListenBacklog, ZeroBacklogAdmitsOneConnection) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name, 0);
    EXPECT_EQ(FillBacklog(type, name, 10), 1);
    EXPECT_EQ(AcceptAll(l), 1);
  }
}

TEST_P(ListenBacklog, BacklogNAdmitsNPlusOne) {
  for (int backlog : {1, 3, 7}) {
    for (int type : kConnTypes) {
      SCOPED_TRACE(std::to_string(type) + "/" + std::to_string(backlog));
      const UnixName name = AbstractName(
          UniqueTag("bl" + std::to_string(type) + std::to_string(backlog)));
      const int l = Listener(type, name, backlog);
      EXPECT_EQ(FillBacklog(type, name, 50), backlog + 1);
      EXPECT_EQ(AcceptAll(l), backlog + 1);
      ExpectClose(l);
    }
  }
}

TEST_P(ListenBacklog, EagainClientIsNotConnectedAndCanRetry) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name, 0);
  ASSERT_EQ(FillBacklog(SOCK_STREAM, name, 1), 1);
  int rc;
  const int client = Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, -1);
  EXPECT_EQ(errno, EAGAIN);
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  EXPECT_EQ(api().getpeername(client, reinterpret_cast<sockaddr*>(&ss), &len),
            -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(api().send(client, "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ENOTCONN);
  // Accepting one frees a slot for exactly one more.
  ASSERT_GE(Accept(l), 0);
  EXPECT_EQ(Connect(client, name), 0) << strerror(errno);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 5), 0);
}

TEST_P(ListenBacklog, ListenAgainChangesTheBacklog) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name, 0);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 10), 1);
  ASSERT_EQ(api().listen(l, 3), 0);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 10), 3);  // 4 queued now
  // Lowering it keeps what is queued but admits nothing new.
  ASSERT_EQ(api().listen(l, 1), 0);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 10), 0);
  EXPECT_EQ(AcceptAll(l), 4);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 10), 2);
}

TEST_P(ListenBacklog, NegativeBacklogMeansSomaxconn) {
  // net/socket.c: __sys_listen clamps (unsigned)backlog to somaxconn.
  const UnixName name = PathName(TempPath("l"));
  Listener(SOCK_STREAM, name, -1);
  EXPECT_EQ(FillBacklog(SOCK_STREAM, name, 40), 40);
}

TEST_P(ListenBacklog, BlockingConnectTimesOutWithSndtimeo) {
  const UnixName name = PathName(TempPath("l"));
  Listener(SOCK_STREAM, name, 0);
  ASSERT_EQ(FillBacklog(SOCK_STREAM, name, 1), 1);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(SetTimeoutMs(client, SO_SNDTIMEO, 200), 0);
  const double start = NowSeconds();
  EXPECT_EQ(Connect(client, name), -1);
  EXPECT_EQ(errno, EAGAIN);
  const double elapsed = NowSeconds() - start;
  EXPECT_GE(elapsed,
            0.17);  // a jiffy timer may end early (test_blocking.cc: kSlackMs)
  EXPECT_LT(elapsed, 2.0);
}

TEST_P(ListenBacklog, BlockingConnectProceedsWhenASlotFrees) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name, 0);
  ASSERT_EQ(FillBacklog(SOCK_STREAM, name, 1), 1);
  const int client = Socket(SOCK_STREAM);
  // Bound the wait if the wake-up is lost.
  ASSERT_EQ(SetTimeoutMs(client, SO_SNDTIMEO, 5000), 0);
  int accepted = -1;
  std::thread t([&] {
    usleep(100000);
    accepted = api().accept(l, nullptr, nullptr);
  });
  EXPECT_EQ(Connect(client, name), 0) << strerror(errno);
  t.join();
  ASSERT_GE(Track(accepted), 0);
  EXPECT_EQ(AcceptAll(l), 1);
}

// ---------------------------------------------------------------------------
// Filesystem permission checks on connect (unprivileged child).
class ConnectPermission : public ConnTest {
 protected:
  // In an unprivileged child: connect a fresh `type` socket to `name`.
  int ChildConnect(int type, const UnixName& name) {
    const auto& a = api();
    return RunAsNobody([&] {
      const int fd = a.socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
      if (fd < 0) return 201;
      const int r = a.connect(fd, name.sa(), name.len);
      const int err = errno;
      a.close(fd);
      return r == 0 ? 0 : err;
    });
  }
  int ChildSendto(const UnixName& name) {
    const auto& a = api();
    return RunAsNobody([&] {
      const int fd = a.socket(AF_UNIX, SOCK_DGRAM, 0);
      if (fd < 0) return 201;
      const ssize_t r = a.sendto(fd, "x", 1, MSG_DONTWAIT, name.sa(), name.len);
      const int err = errno;
      a.close(fd);
      return r == 1 ? 0 : err;
    });
  }
};

TEST_P(ConnectPermission, SocketFileWithoutWriteGivesEacces) {
  ASSERT_EQ(chmod(TempDir().c_str(), 0755), 0);
  const UnixName stream = PathName(TempPath("stream"));
  const UnixName seq = PathName(TempPath("seq"));
  const UnixName dgram = PathName(TempPath("dgram"));
  {
    const mode_t old = umask(022);  // socket files get mode 0755
    Listener(SOCK_STREAM, stream);
    Listener(SOCK_SEQPACKET, seq);
    const int d = Socket(SOCK_DGRAM);
    EXPECT_EQ(Bind(d, dgram), 0);
    umask(old);
  }
  EXPECT_EQ(ChildConnect(SOCK_STREAM, stream), EACCES);
  EXPECT_EQ(ChildConnect(SOCK_SEQPACKET, seq), EACCES);
  EXPECT_EQ(ChildConnect(SOCK_DGRAM, dgram), EACCES);
  EXPECT_EQ(ChildSendto(dgram), EACCES);
  // Write permission is all it takes.
  for (const UnixName* n : {&stream, &seq, &dgram}) {
    ASSERT_EQ(chmod(n->sun.sun_path, 0722), 0);
  }
  EXPECT_EQ(ChildConnect(SOCK_STREAM, stream), 0);
  EXPECT_EQ(ChildConnect(SOCK_SEQPACKET, seq), 0);
  EXPECT_EQ(ChildConnect(SOCK_DGRAM, dgram), 0);
  EXPECT_EQ(ChildSendto(dgram), 0);
}

TEST_P(ConnectPermission, DirectoryWithoutSearchGivesEacces) {
  ASSERT_EQ(chmod(TempDir().c_str(), 0755), 0);
  const std::string dir = TempPath("private");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  const UnixName name = PathName(dir + "/s");
  const UnixName missing = PathName(dir + "/missing");
  {
    const mode_t old = umask(0);
    Listener(SOCK_STREAM, name);
    umask(old);
  }
  EXPECT_EQ(ChildConnect(SOCK_STREAM, name), EACCES);
  // The search check comes first: even a missing name gives EACCES.
  EXPECT_EQ(ChildConnect(SOCK_STREAM, missing), EACCES);
  ASSERT_EQ(chmod(dir.c_str(), 0711), 0);
  EXPECT_EQ(ChildConnect(SOCK_STREAM, name), 0);
  EXPECT_EQ(ChildConnect(SOCK_STREAM, missing), ENOENT);
}

TEST_P(ConnectPermission, AbstractNamesHaveNoPermissionCheck) {
  const UnixName name = AbstractName(UniqueTag("perm"));
  Listener(SOCK_STREAM, name);
  EXPECT_EQ(ChildConnect(SOCK_STREAM, name), 0);
}

// ---------------------------------------------------------------------------
// listen(2) rules.
class ListenRules : public ConnTest {};

TEST_P(ListenRules, DgramGivesEopnotsupp) {
  const int unbound = Socket(SOCK_DGRAM);
  EXPECT_EQ(api().listen(unbound, 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  const int bound = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(bound, PathName(TempPath("d"))), 0);
  EXPECT_EQ(api().listen(bound, 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST_P(ListenRules, ConnectedSocketsGiveEinval) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name);
    int rc;
    const int client = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    const int server = Accept(l);
    ASSERT_GE(server, 0);
    // The accepted socket has a name (the listener's) but is connected.
    EXPECT_EQ(api().listen(server, 1), -1);
    EXPECT_EQ(errno, EINVAL);
    // A bound, connected client.
    const int bound = Socket(type);
    ASSERT_EQ(Bind(bound, PathName(TempPath("c" + std::to_string(type)))), 0);
    ASSERT_EQ(Connect(bound, name), 0);
    EXPECT_EQ(api().listen(bound, 1), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(api().listen(client, 1), -1);
    EXPECT_EQ(errno, EINVAL);
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type, 0, sv), 0);
    Track(sv[0]);
    Track(sv[1]);
    EXPECT_EQ(api().listen(sv[0], 1), -1);
    EXPECT_EQ(errno, EINVAL);
  }
}

TEST_P(ListenRules, ListenTwiceSucceeds) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int l =
        Listener(type, PathName(TempPath("l" + std::to_string(type))));
    EXPECT_EQ(api().listen(l, 1), 0);
    EXPECT_EQ(api().listen(l, 100), 0);
  }
}

TEST_P(ListenRules, AcceptConnOption) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Socket(type);
    EXPECT_EQ(GetIntOption(l, SOL_SOCKET, SO_ACCEPTCONN), 0);
    ASSERT_EQ(Bind(l, name), 0);
    EXPECT_EQ(GetIntOption(l, SOL_SOCKET, SO_ACCEPTCONN), 0);
    ASSERT_EQ(api().listen(l, 1), 0);
    EXPECT_EQ(GetIntOption(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    int rc;
    const int client = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(GetIntOption(client, SOL_SOCKET, SO_ACCEPTCONN), 0);
    const int server = Accept(l);
    ASSERT_GE(server, 0);
    EXPECT_EQ(GetIntOption(server, SOL_SOCKET, SO_ACCEPTCONN), 0);
  }
  const int d = Socket(SOCK_DGRAM);
  EXPECT_EQ(GetIntOption(d, SOL_SOCKET, SO_ACCEPTCONN), 0);
  // SO_ACCEPTCONN is read-only.
  const int one = 1;
  EXPECT_EQ(api().setsockopt(d, SOL_SOCKET, SO_ACCEPTCONN, &one, sizeof(one)),
            -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
}

// ---------------------------------------------------------------------------
// accept(2) / accept4(2).
class AcceptRules : public ConnTest {};

TEST_P(AcceptRules, NonListeningSocketGivesEinval) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int unbound = Socket(type);
    EXPECT_EQ(api().accept(unbound, nullptr, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
    const int bound = Socket(type);
    ASSERT_EQ(Bind(bound, PathName(TempPath("b" + std::to_string(type)))), 0);
    EXPECT_EQ(api().accept(bound, nullptr, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type, 0, sv), 0);
    Track(sv[0]);
    Track(sv[1]);
    EXPECT_EQ(api().accept(sv[0], nullptr, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
  }
}

// No descriptor number free: EMFILE at once, even for a blocking accept
// (__sys_accept4_file takes the number before do_accept waits), and the
// connection stays queued for a later accept.
TEST_P(AcceptRules, NoNumberFreeGivesEmfileAndKeepsTheConnection) {
  const int l = Listener(SOCK_STREAM, PathName(TempPath("l")));
  ASSERT_EQ(SetTimeoutMs(l, SO_RCVTIMEO, 2000), 0);
  int rc;
  const int c = Client(SOCK_STREAM, PathName(TempPath("l")), &rc);
  ASSERT_EQ(rc, 0);
  int first, first_errno, second, second_errno;
  double elapsed;
  {
    shunt_test::ScopedNoFreeNumbers no_numbers;
    const double start = NowSeconds();
    first = api().accept(l, nullptr, nullptr);
    first_errno = errno;
    second = api().accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    second_errno = errno;
    elapsed = NowSeconds() - start;
  }
  EXPECT_EQ(first, -1);
  EXPECT_EQ(first_errno, EMFILE);
  EXPECT_EQ(second, -1);
  EXPECT_EQ(second_errno, EMFILE);
  EXPECT_LT(elapsed, 1.0);  // neither waited for SO_RCVTIMEO
  char b;
  EXPECT_EQ(api().recv(c, &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);  // still connected, not reset
  const int a = Track(api().accept(l, nullptr, nullptr));
  ASSERT_GE(a, 0) << strerror(errno);
  EXPECT_EQ(api().send(a, "k", 1, 0), 1);
  EXPECT_EQ(api().recv(c, &b, 1, MSG_DONTWAIT), 1);
}

TEST_P(AcceptRules, DgramGivesEopnotsupp) {
  const int d = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(d, PathName(TempPath("d"))), 0);
  EXPECT_EQ(api().accept(d, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(api().accept4(d, nullptr, nullptr, SOCK_NONBLOCK), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST_P(AcceptRules, NonBlockingWithNothingPendingGivesEagain) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int l = Socket(type | SOCK_NONBLOCK);
    ASSERT_EQ(Bind(l, PathName(TempPath("l" + std::to_string(type)))), 0);
    ASSERT_EQ(api().listen(l, 1), 0);
    EXPECT_EQ(api().accept(l, nullptr, nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
    // O_NONBLOCK set later through fcntl works the same way.
    const int l2 = Socket(type);
    ASSERT_EQ(Bind(l2, PathName(TempPath("m" + std::to_string(type)))), 0);
    ASSERT_EQ(api().listen(l2, 1), 0);
    ASSERT_EQ(api().fcntl(l2, F_SETFL, O_NONBLOCK), 0);
    EXPECT_EQ(api().accept4(l2, nullptr, nullptr, SOCK_CLOEXEC), -1);
    EXPECT_EQ(errno, EAGAIN);
  }
}

TEST_P(AcceptRules, BlockingAcceptTimesOutWithRcvtimeo) {
  const int l = Listener(SOCK_STREAM, PathName(TempPath("l")));
  ASSERT_EQ(SetTimeoutMs(l, SO_RCVTIMEO, 200), 0);
  const double start = NowSeconds();
  EXPECT_EQ(api().accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  const double elapsed = NowSeconds() - start;
  EXPECT_GE(elapsed, 0.17);  // see test_blocking.cc: kSlackMs
  EXPECT_LT(elapsed, 2.0);
}

TEST_P(AcceptRules, Accept4FlagsApplyToTheNewSocket) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  const struct {
    int flags;
    bool nonblock;
    bool cloexec;
  } cases[] = {{0, false, false},
               {SOCK_NONBLOCK, true, false},
               {SOCK_CLOEXEC, false, true},
               {SOCK_NONBLOCK | SOCK_CLOEXEC, true, true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flags);
    int rc;
    Client(SOCK_STREAM, name, &rc);
    ASSERT_EQ(rc, 0);
    const int s = Track(api().accept4(l, nullptr, nullptr, c.flags));
    ASSERT_GE(s, 0) << strerror(errno);
    const int fl = api().fcntl(s, F_GETFL, 0);
    ASSERT_GE(fl, 0);
    EXPECT_EQ((fl & O_NONBLOCK) != 0, c.nonblock);
    EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
    const int fd_flags = api().fcntl(s, F_GETFD, 0);
    ASSERT_GE(fd_flags, 0);
    EXPECT_EQ((fd_flags & FD_CLOEXEC) != 0, c.cloexec);
    // The listener's flags are untouched.
    EXPECT_EQ(api().fcntl(l, F_GETFL, 0) & O_NONBLOCK, 0);
    EXPECT_EQ(api().fcntl(l, F_GETFD, 0), 0);
  }
}

TEST_P(AcceptRules, NewSocketDoesNotInheritListenerFlags) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_EQ(Bind(l, name), 0);
  ASSERT_EQ(api().listen(l, 1), 0);
  int rc;
  Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  const int s = Track(api().accept(l, nullptr, nullptr));
  ASSERT_GE(s, 0);
  EXPECT_EQ(api().fcntl(s, F_GETFL, 0) & O_NONBLOCK, 0);
  EXPECT_EQ(api().fcntl(s, F_GETFD, 0), 0);
}

// The accepted socket is a new sock with the default buffer sizes
// (unix_create1), whatever the listener's, for every connection type.
TEST_P(AcceptRules, NewSocketHasDefaultBufferSizes) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const int fresh = Socket(type);
    int def_snd = 0, def_rcv = 0;
    socklen_t len = sizeof(int);
    ASSERT_EQ(api().getsockopt(fresh, SOL_SOCKET, SO_SNDBUF, &def_snd, &len),
              0);
    ASSERT_EQ(api().getsockopt(fresh, SOL_SOCKET, SO_RCVBUF, &def_rcv, &len),
              0);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Socket(type);
    const int small = 5000;
    ASSERT_EQ(api().setsockopt(l, SOL_SOCKET, SO_SNDBUF, &small, sizeof small),
              0);
    ASSERT_EQ(api().setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small),
              0);
    ASSERT_EQ(Bind(l, name), 0);
    ASSERT_EQ(api().listen(l, 1), 0);
    int rc;
    Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    const int s = Track(api().accept(l, nullptr, nullptr));
    ASSERT_GE(s, 0);
    int snd = 0, rcv = 0;
    ASSERT_EQ(api().getsockopt(s, SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
    ASSERT_EQ(api().getsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
    EXPECT_EQ(snd, def_snd);
    EXPECT_EQ(rcv, def_rcv);
  }
}

TEST_P(AcceptRules, Accept4BadFlagsGiveEinvalAndKeepTheConnection) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  int rc;
  Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  for (int flags : {1, O_APPEND, SOCK_NONBLOCK | O_DIRECT, -1}) {
    SCOPED_TRACE(flags);
    EXPECT_EQ(api().accept4(l, nullptr, nullptr, flags), -1);
    EXPECT_EQ(errno, EINVAL);
  }
  EXPECT_EQ(AcceptAll(l), 1);
}

// Linux 6.x __sys_accept4 resolves the descriptor before it checks the
// flags, so a bad descriptor is EBADF whatever the flags; a non-socket is
// EINVAL for bad flags, ENOTSOCK otherwise. (Found by `shunt diff`.)
TEST_P(AcceptRules, BadDescriptorComesBeforeBadFlags) {
  errno = 0;
  EXPECT_EQ(api().accept4(-1, nullptr, nullptr, 0x40), -1);
  EXPECT_EQ(errno, EBADF);
  const int s = Socket(SOCK_STREAM);
  ExpectClose(s);
  EXPECT_EQ(api().accept4(s, nullptr, nullptr, 0x40), -1);
  EXPECT_EQ(errno, EBADF);
  int p[2];
  Pipe(p);
  EXPECT_EQ(api().accept4(p[0], nullptr, nullptr, 0x40), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(api().accept4(p[0], nullptr, nullptr, 0), -1);
  EXPECT_EQ(errno, ENOTSOCK);
}

// A listener shut down for reading: a blocking accept with nothing queued
// returns EINVAL at once (the datagram wait gives up on RCV_SHUTDOWN and
// unix_accept reports "no skb, no error" as EINVAL), a non-blocking one
// EAGAIN; a blocked accept is woken by the shutdown. (Found by `shunt
// diff`, where shunt's accept slept for ever.)
TEST_P(AcceptRules, ShutDownListenerDoesNotWait) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  std::atomic<int> blocked_result{0};
  std::thread t([&] {
    errno = 0;
    const int rc = api().accept(l, nullptr, nullptr);
    blocked_result = rc == -1 ? -errno : rc;
  });
  shunt_test::SleepMs(50);
  ASSERT_EQ(api().shutdown(l, SHUT_RD), 0);
  t.join();
  EXPECT_EQ(blocked_result.load(), -EINVAL);
  errno = 0;
  EXPECT_EQ(api().accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(api().accept4(l, nullptr, nullptr, SOCK_NONBLOCK), -1);
  EXPECT_EQ(errno, EINVAL);  // SOCK_NONBLOCK is for the new socket
  ASSERT_EQ(api().fcntl(l, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(api().accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_P(AcceptRules, BadAddressArgumentsConsumeTheConnection) {
  // The connection is dequeued before the address is copied out, so a bad
  // buffer or length loses it. net/socket.c: do_accept
  void* page =
      mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  int rc;
  const int quiet = Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  const int talker = Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(api().send(talker, "data", 4, 0), 4);
  socklen_t len = sizeof(sockaddr_un);
  EXPECT_EQ(api().accept(l, static_cast<sockaddr*>(page), &len), -1);
  EXPECT_EQ(errno, EFAULT);
  sockaddr_storage ss;
  len = static_cast<socklen_t>(-1);
  EXPECT_EQ(api().accept(l, reinterpret_cast<sockaddr*>(&ss), &len), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(AcceptAll(l), 0);
  // The dropped server side is closed like any other: EOF for the quiet
  // client, ECONNRESET for the one whose data was never read.
  char buf[8];
  EXPECT_EQ(api().recv(quiet, buf, sizeof(buf), 0), 0);
  EXPECT_EQ(api().recv(talker, buf, sizeof(buf), 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  munmap(page, 4096);
}

TEST_P(AcceptRules, ReportsTheClientAddress) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const std::string t = std::to_string(type);
    const UnixName name = PathName(TempPath("l" + t));
    const int l = Listener(type, name);
    const UnixName cpath = PathName(TempPath("c" + t));
    const UnixName cabs = AbstractName(UniqueTag("c" + t));
    int rc;
    Client(type, name, &rc);  // unbound
    ASSERT_EQ(rc, 0);
    const int bound = Socket(type);
    ASSERT_EQ(Bind(bound, cpath), 0);
    ASSERT_EQ(Connect(bound, name), 0);
    const int abs = Socket(type);
    ASSERT_EQ(Bind(abs, cabs), 0);
    ASSERT_EQ(Connect(abs, name), 0);

    // Unbound client: just the family, length 2.
    sockaddr_storage ss;
    memset(&ss, 0xAA, sizeof(ss));
    socklen_t len = sizeof(ss);
    ASSERT_GE(Track(api().accept(l, reinterpret_cast<sockaddr*>(&ss), &len)),
              0);
    EXPECT_EQ(len, kPathOffset);
    EXPECT_EQ(ss.ss_family, AF_UNIX);
    // Connections come out in arrival order.
    len = sizeof(ss);
    ASSERT_GE(Track(api().accept(l, reinterpret_cast<sockaddr*>(&ss), &len)),
              0);
    EXPECT_EQ(Bytes(&ss, len), Bytes(cpath));
    // A short buffer is filled as far as it goes; the length is the full one.
    memset(&ss, 0xAA, sizeof(ss));
    len = 5;
    ASSERT_GE(Track(api().accept(l, reinterpret_cast<sockaddr*>(&ss), &len)),
              0);
    EXPECT_EQ(len, cabs.len);
    EXPECT_EQ(Bytes(&ss, 5), Bytes(&cabs.sun, 5));
    EXPECT_EQ(reinterpret_cast<unsigned char*>(&ss)[5], 0xAA);
  }
}

TEST_P(AcceptRules, AcceptedSocketCarriesTheListenerName) {
  for (const UnixName& name :
       {PathName(TempPath("l")), AbstractName(UniqueTag("named"))}) {
    const int l = Listener(SOCK_SEQPACKET, name);
    int rc;
    const int client = Client(SOCK_SEQPACKET, name, &rc);
    ASSERT_EQ(rc, 0);
    const int s = Accept(l);
    ASSERT_GE(s, 0);
    EXPECT_EQ(SockName(s), Bytes(name));
    EXPECT_EQ(SockName(client).size(), kPathOffset);
    ExpectClose(l);
  }
}

TEST_P(AcceptRules, DataSentBeforeAcceptIsReadable) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name);
    int rc;
    const int client = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(api().send(client, "abc", 3, 0), 3);
    ASSERT_EQ(api().send(client, "de", 2, 0), 2);
    const int s = Accept(l);
    ASSERT_GE(s, 0);
    char buf[16];
    if (type == SOCK_STREAM) {
      EXPECT_EQ(api().recv(s, buf, sizeof(buf), 0), 5);
      EXPECT_EQ(std::string(buf, 5), "abcde");
    } else {
      EXPECT_EQ(api().recv(s, buf, sizeof(buf), 0), 3);
      EXPECT_EQ(api().recv(s, buf, sizeof(buf), 0), 2);
    }
  }
}

TEST_P(AcceptRules, ClientClosedBeforeAcceptStillYieldsDataThenEof) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name);
    int rc;
    const int client = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(api().send(client, "bye", 3, 0), 3);
    ExpectClose(client);
    const int s = Accept(l);
    ASSERT_GE(s, 0) << strerror(errno);
    char buf[16];
    EXPECT_EQ(api().recv(s, buf, sizeof(buf), 0), 3);
    EXPECT_EQ(api().recv(s, buf, sizeof(buf), 0), 0);
  }
}

TEST_P(AcceptRules, ClosingListenerResetsPendingClients) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name);
    int rc;
    const int quiet = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    const int talker = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(api().send(talker, "lost", 4, 0), 4);
    ExpectClose(l);
    // net/unix/af_unix.c: unix_release_sock releases each embryo, which
    // marks its peer shut down with a pending ECONNRESET.
    for (int c : {quiet, talker}) {
      pollfd p = {c, POLLIN | POLLOUT, 0};
      EXPECT_EQ(api().poll(&p, 1, 0), 1);
      EXPECT_EQ(p.revents, POLLIN | POLLOUT | POLLERR | POLLHUP);
      char buf[8];
      EXPECT_EQ(api().recv(c, buf, sizeof(buf), 0), -1);
      EXPECT_EQ(errno, ECONNRESET);
      // The error is reported once; then it is plain EOF.
      EXPECT_EQ(api().recv(c, buf, sizeof(buf), 0), 0);
      EXPECT_EQ(api().send(c, "x", 1, MSG_NOSIGNAL), -1);
      EXPECT_EQ(errno, EPIPE);
      EXPECT_EQ(GetIntOption(c, SOL_SOCKET, SO_ERROR), 0);
    }
  }
}

TEST_P(AcceptRules, PendingErrorIsReadThroughSoError) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  int rc;
  const int c = Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  ExpectClose(l);
  EXPECT_EQ(GetIntOption(c, SOL_SOCKET, SO_ERROR), ECONNRESET);
  EXPECT_EQ(GetIntOption(c, SOL_SOCKET, SO_ERROR), 0);  // reading it clears it
  char buf[8];
  EXPECT_EQ(api().recv(c, buf, sizeof(buf), 0), 0);
}

TEST_P(AcceptRules, PollOnListenerShowsPendingConnections) {
  for (int type : kConnTypes) {
    SCOPED_TRACE(type);
    const UnixName name = PathName(TempPath("l" + std::to_string(type)));
    const int l = Listener(type, name);
    pollfd p = {l, POLLIN | POLLOUT | POLLRDNORM, 0};
    // A listener is never writable.
    EXPECT_EQ(api().poll(&p, 1, 0), 0);
    EXPECT_EQ(p.revents, 0);
    int rc;
    const int client = Client(type, name, &rc);
    ASSERT_EQ(rc, 0);
    p.revents = 0;
    EXPECT_EQ(api().poll(&p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLIN | POLLRDNORM);
    // The connected client is writable before the accept.
    pollfd pc = {client, POLLIN | POLLOUT, 0};
    EXPECT_EQ(api().poll(&pc, 1, 0), 1);
    EXPECT_EQ(pc.revents, POLLOUT);
    ASSERT_GE(Accept(l), 0);
    p.revents = 0;
    EXPECT_EQ(api().poll(&p, 1, 0), 0);
    EXPECT_EQ(p.revents, 0);
  }
}

TEST_P(AcceptRules, SelectOnListenerShowsPendingConnections) {
  const UnixName name = PathName(TempPath("l"));
  const int l = Listener(SOCK_STREAM, name);
  fd_set r;
  fd_set w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(l, &r);
  FD_SET(l, &w);
  timeval tv = {0, 0};
  EXPECT_EQ(api().select(l + 1, &r, &w, nullptr, &tv), 0);
  int rc;
  Client(SOCK_STREAM, name, &rc);
  ASSERT_EQ(rc, 0);
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(l, &r);
  FD_SET(l, &w);
  tv = {0, 0};
  EXPECT_EQ(api().select(l + 1, &r, &w, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(l, &r));
  EXPECT_FALSE(FD_ISSET(l, &w));
}

SHUNT_BOTH_BACKENDS(StreamConnectFailures);
SHUNT_BOTH_BACKENDS(ListenBacklog);
SHUNT_BOTH_BACKENDS(ConnectPermission);
SHUNT_BOTH_BACKENDS(ListenRules);
SHUNT_BOTH_BACKENDS(AcceptRules);

}  // namespace

// Socket options, ioctls, descriptor flags, duplication and socket creation
// errors on AF_UNIX sockets, as Linux reports them.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#include <linux/socket.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::BothBackends;
using shunt_test::Bytes;
using shunt_test::ReadSysctl;
using shunt_test::RunAsNobody;

// This kernel is built with CONFIG_HZ=250: socket timeouts are stored in
// jiffies of 4000 us and rounded up to one (net/core/sock.c:
// sock_set_timeout / sock_get_timeout).
constexpr long kJiffyUsec = 4000;

// SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (include/net/sock.h): derived from the
// size of struct sk_buff of this kernel build.
constexpr int kMinSndbuf = 4608;
constexpr int kMinRcvbuf = 2304;

class OptionsTest : public BothBackends {
 protected:
  // A SOL_SOCKET option that starts 0, reads back 1 for any non-zero value
  // and 0 again for 0.
  void ExpectBooleanOption(int fd, int opt) {
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, opt), 0);
    for (int v : {1, 7}) {
      ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, opt, v), 0);
      EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, opt), 1);
    }
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, opt, 0), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, opt), 0);
  }
  // A listening stream socket, a client connected to it and the accepted
  // socket.
  void Connected(int* listener, int* client, int* server) {
    const sockaddr_un a = TempAddr("l");
    *listener = Socket(SOCK_STREAM);
    ASSERT_EQ(Bind(*listener, a), 0);
    ASSERT_EQ(api().listen(*listener, 4), 0);
    *client = Socket(SOCK_STREAM);
    ASSERT_EQ(Connect(*client, a), 0);
    *server = Track(api().accept(*listener, nullptr, nullptr));
    ASSERT_GE(*server, 0);
  }
};

// ---------------------------------------------------------------------------
class SocketIdentityOptions : public OptionsTest {};

TEST_P(SocketIdentityOptions, TypeDomainProtocolForEachType) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type | SOCK_NONBLOCK | SOCK_CLOEXEC);
    ASSERT_GE(fd, 0);
    // The creation flags are not part of the reported type.
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_TYPE), type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_DOMAIN), AF_UNIX);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PROTOCOL), 0);
    int sv[2];
    Pair(type, sv);
    EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_TYPE), type);
    EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_TYPE), type);
    EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_DOMAIN), AF_UNIX);
  }
}

// net/unix/af_unix.c: unix_create turns SOCK_RAW into SOCK_DGRAM.
TEST_P(SocketIdentityOptions, RawTypeBecomesDatagram) {
  const int fd = Socket(SOCK_RAW);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  int sv[2];
  Pair(SOCK_RAW, sv);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
}

// unix_create accepts protocol 0 and PF_UNIX (1), but the socket does not
// remember it: SO_PROTOCOL reads 0.
TEST_P(SocketIdentityOptions, ProtocolPfUnixIsAcceptedAndReadsZero) {
  const int fd = Track(api().socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PROTOCOL), 0);
  int sv[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, PF_UNIX, sv), 0);
  Track(sv[0]);
  Track(sv[1]);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PROTOCOL), 0);
}

TEST_P(SocketIdentityOptions, AcceptConnOnlyOnListener) {
  int listener, client, server;
  Connected(&listener, &client, &server);
  EXPECT_EQ(GetIntOption(listener, SOL_SOCKET, SO_ACCEPTCONN), 1);
  EXPECT_EQ(GetIntOption(client, SOL_SOCKET, SO_ACCEPTCONN), 0);
  EXPECT_EQ(GetIntOption(server, SOL_SOCKET, SO_ACCEPTCONN), 0);
  const int fresh = Socket(SOCK_SEQPACKET);
  EXPECT_EQ(GetIntOption(fresh, SOL_SOCKET, SO_ACCEPTCONN), 0);
  const int dgram = Socket(SOCK_DGRAM);
  EXPECT_EQ(GetIntOption(dgram, SOL_SOCKET, SO_ACCEPTCONN), 0);
}

// Options that can only be read: setsockopt does not know them.
TEST_P(SocketIdentityOptions, ReadOnlyOptionsCannotBeSet) {
  const int fd = Socket(SOCK_STREAM);
  for (int opt : {SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_ERROR,
                  SO_PEERCRED, SO_SNDLOWAT}) {
    errno = 0;
    EXPECT_EQ(SetIntOption(fd, SOL_SOCKET, opt, 1), -1) << opt;
    EXPECT_EQ(errno, ENOPROTOOPT) << opt;
  }
  // SO_SNDLOWAT is readable and fixed at 1.
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDLOWAT), 1);
}

// sk_setsockopt keeps the generic boolean options on every socket, AF_UNIX
// included, though it never acts on them: they read back as 0 or 1, each on
// its own socket, and a connection's accepted socket starts with them clear.
// (Found by `shunt diff`.)
TEST_P(SocketIdentityOptions, GenericFlagOptionsReadBack) {
  int listener, client, server;
  ASSERT_NO_FATAL_FAILURE(Connected(&listener, &client, &server));
  for (int opt :
       {SO_REUSEADDR, SO_KEEPALIVE, SO_DONTROUTE, SO_BROADCAST, SO_OOBINLINE}) {
    SCOPED_TRACE(opt);
    for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET})
      ExpectBooleanOption(Socket(type), opt);
    ASSERT_EQ(SetIntOption(client, SOL_SOCKET, opt, 1), 0);
    EXPECT_EQ(GetIntOption(server, SOL_SOCKET, opt), 0);
  }
}

// SO_PRIORITY is kept by every socket (AF_UNIX never uses it): 0..6 for
// anyone, other values with CAP_NET_ADMIN/CAP_NET_RAW; a new or accepted
// socket starts at 0. (Found by `shunt diff`.)
TEST_P(SocketIdentityOptions, PriorityReadsBack) {
  int listener, client, server;
  ASSERT_NO_FATAL_FAILURE(Connected(&listener, &client, &server));
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PRIORITY), 0);
    for (int v : {6, 3, 0}) {
      ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_PRIORITY, v), 0);
      EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PRIORITY), v);
    }
    for (int v : {7, -1}) {
      const int rc = SetIntOption(fd, SOL_SOCKET, SO_PRIORITY, v);
      if (geteuid() == 0) {
        EXPECT_EQ(rc, 0);
        EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PRIORITY), v);
      } else {
        EXPECT_EQ(rc, -1);
        EXPECT_EQ(errno, EPERM);
      }
    }
  }
  ASSERT_EQ(SetIntOption(client, SOL_SOCKET, SO_PRIORITY, 5), 0);
  EXPECT_EQ(GetIntOption(server, SOL_SOCKET, SO_PRIORITY), 0);
  EXPECT_EQ(GetIntOption(listener, SOL_SOCKET, SO_PRIORITY), 0);
}

// SO_LINGER is kept by every socket (AF_UNIX never lingers): the time is
// stored in jiffies and kept when lingering is switched off; a negative
// time is widened to a huge unsigned one and capped at
// MAX_SCHEDULE_TIMEOUT, which reads back as LONG_MAX / HZ cut to an int.
// (Found by `shunt diff`.)
TEST_P(SocketIdentityOptions, LingerReadsBack) {
  const int fd = Socket(SOCK_STREAM);
  auto get = [&] {
    linger l{-7, -7};
    socklen_t len = sizeof l;
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len), 0);
    EXPECT_EQ(len, sizeof l);
    return l;
  };
  auto set = [&](int onoff, int secs, socklen_t len = sizeof(linger)) {
    const linger l{onoff, secs};
    return api().setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, len);
  };
  EXPECT_EQ(get().l_onoff, 0);
  EXPECT_EQ(get().l_linger, 0);
  ASSERT_EQ(set(1, 5), 0);
  EXPECT_EQ(get().l_onoff, 1);
  EXPECT_EQ(get().l_linger, 5);
  ASSERT_EQ(set(0, 9), 0);
  EXPECT_EQ(get().l_onoff, 0);
  EXPECT_EQ(get().l_linger, 5);
  EXPECT_EQ(set(1, 9, sizeof(int)), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(set(1, -1), 0);
  const int capped = get().l_linger;
  bool one_of_the_hz_values = false;
  for (long hz : {100, 250, 300, 1000})
    one_of_the_hz_values |= capped == static_cast<int>(LONG_MAX / hz);
  EXPECT_TRUE(one_of_the_hz_values) << capped;
}

SHUNT_BOTH_BACKENDS(SocketIdentityOptions);

// ---------------------------------------------------------------------------
class SocketErrorOption : public OptionsTest {};

TEST_P(SocketErrorOption, FreshSocketHasNoError) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_ERROR), 0);
  }
}

// A peer closing with unread data leaves ECONNRESET pending on the survivor
// (net/unix/af_unix.c: unix_release_sock); SO_ERROR reports it once.
TEST_P(SocketErrorOption, ReadsAndClearsPendingError) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[0], "x", 1, 0), 1);
  ASSERT_EQ(Close(sv[1]), 0);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_ERROR), ECONNRESET);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_ERROR), 0);
}

SHUNT_BOTH_BACKENDS(SocketErrorOption);

// ---------------------------------------------------------------------------
class SocketBufferSizes : public OptionsTest {};

TEST_P(SocketBufferSizes, DefaultsComeFromSysctl) {
  const long wdef = ReadSysctl("/proc/sys/net/core/wmem_default");
  const long rdef = ReadSysctl("/proc/sys/net/core/rmem_default");
  ASSERT_GT(wdef, 0);
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), wdef);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVBUF), rdef);
    int sv[2];
    Pair(type, sv);
    EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_SNDBUF), wdef);
    EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_RCVBUF), rdef);
  }
}

// net/core/sock.c: sk_setsockopt stores twice the requested size.
TEST_P(SocketBufferSizes, SetValueIsReportedDoubled) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF, 65536), 0);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_RCVBUF, 10000), 0);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_SNDBUF), 131072);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_RCVBUF), 20000);
  // The peer keeps its own sizes.
  EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_SNDBUF),
            ReadSysctl("/proc/sys/net/core/wmem_default"));
}

TEST_P(SocketBufferSizes, SmallValuesGiveTheMinimum) {
  const int fd = Socket(SOCK_DGRAM);
  for (int v : {0, 1, 100, kMinSndbuf / 2 - 1}) {
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_SNDBUF, v), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), kMinSndbuf) << v;
  }
  for (int v : {0, 1, 100, kMinRcvbuf / 2 - 1}) {
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RCVBUF, v), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVBUF), kMinRcvbuf) << v;
  }
}

// Requests above net.core.{w,r}mem_max are clamped to it (then doubled), even
// for root; negative values are huge unsigned ones and clamp the same way.
TEST_P(SocketBufferSizes, LargeValuesClampToSysctlMax) {
  const long wmax = ReadSysctl("/proc/sys/net/core/wmem_max");
  const long rmax = ReadSysctl("/proc/sys/net/core/rmem_max");
  ASSERT_GT(wmax, 0);
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_SNDBUF, static_cast<int>(wmax) + 1),
            0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), 2 * wmax);
  ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RCVBUF, INT_MAX), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVBUF), 2 * rmax);
  ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_SNDBUF, -1), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), 2 * wmax);
}

// SO_SNDBUFFORCE / SO_RCVBUFFORCE skip the sysctl clamp for CAP_NET_ADMIN;
// negative values become 0 and so the minimum.
TEST_P(SocketBufferSizes, ForceVariantsBypassTheMaxForRoot) {
  const long wmax = ReadSysctl("/proc/sys/net/core/wmem_max");
  const long rmax = ReadSysctl("/proc/sys/net/core/rmem_max");
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(
      SetIntOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, static_cast<int>(wmax * 2)),
      0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), 4 * wmax);
  ASSERT_EQ(
      SetIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, static_cast<int>(rmax * 2)),
      0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVBUF), 4 * rmax);
  ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, -5), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), kMinSndbuf);
  // Not readable under that name.
  int v = 0;
  socklen_t len = sizeof(v);
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, &len), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);
}

TEST_P(SocketBufferSizes, ForceVariantsNeedNetAdmin) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_GE(fd, 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    int v = 100000;
    if (api().setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != -1 ||
        errno != EPERM) {
      _exit(3);
    }
    if (api().setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != -1 ||
        errno != EPERM) {
      _exit(4);
    }
    // The plain options stay available.
    if (api().setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) != 0) {
      _exit(5);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), 200000);
}

SHUNT_BOTH_BACKENDS(SocketBufferSizes);

// ---------------------------------------------------------------------------
class SocketLowWaterOption : public OptionsTest {};

// net/core/sock.c: SO_RCVLOWAT 0 is stored as 1, negative as INT_MAX.
TEST_P(SocketLowWaterOption, ValuesAreNormalised) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT), 1);
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT, 10), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT), 10);
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT, 0), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT), 1);
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT, -7), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVLOWAT), INT_MAX);
  }
}

SHUNT_BOTH_BACKENDS(SocketLowWaterOption);

// ---------------------------------------------------------------------------
class SocketTimeoutOptions : public OptionsTest {
 protected:
  timeval Get(int fd, int opt) {
    timeval tv{-1, -1};
    socklen_t len = sizeof(tv);
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, opt, &tv, &len), 0)
        << strerror(errno);
    EXPECT_EQ(len, sizeof(tv));
    return tv;
  }
  int Set(int fd, int opt, long sec, long usec) {
    timeval tv{};
    tv.tv_sec = sec;
    tv.tv_usec = usec;
    return api().setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
  }
};

TEST_P(SocketTimeoutOptions, DefaultIsZero) {
  const int fd = Socket(SOCK_STREAM);
  for (int opt : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    const timeval tv = Get(fd, opt);
    EXPECT_EQ(tv.tv_sec, 0);
    EXPECT_EQ(tv.tv_usec, 0);
  }
}

// The value is kept in jiffies, rounded up: reading it back gives a multiple
// of the jiffy length.
TEST_P(SocketTimeoutOptions, RoundTripRoundsUpToJiffies) {
  const int fd = Socket(SOCK_DGRAM);
  struct Case {
    long sec, usec, want_sec, want_usec;
  };
  const Case cases[] = {
      {0, 1, 0, kJiffyUsec},
      {0, kJiffyUsec, 0, kJiffyUsec},
      {0, kJiffyUsec + 1, 0, 2 * kJiffyUsec},
      {0, 999999, 1, 0},
      {1, 500000, 1, 500000},
      {2, 123456, 2, 124000},
      {1000000, 0, 1000000, 0},
  };
  for (int opt : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    for (const Case& c : cases) {
      ASSERT_EQ(Set(fd, opt, c.sec, c.usec), 0) << strerror(errno);
      const timeval tv = Get(fd, opt);
      EXPECT_EQ(tv.tv_sec, c.want_sec) << c.sec << "." << c.usec;
      EXPECT_EQ(tv.tv_usec, c.want_usec) << c.sec << "." << c.usec;
    }
    // Zero means "no timeout" again.
    ASSERT_EQ(Set(fd, opt, 0, 0), 0);
    const timeval tv = Get(fd, opt);
    EXPECT_EQ(tv.tv_sec, 0);
    EXPECT_EQ(tv.tv_usec, 0);
  }
}

// Receive and send timeouts are independent.
TEST_P(SocketTimeoutOptions, ReceiveAndSendAreSeparate) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Set(fd, SO_RCVTIMEO, 3, 0), 0);
  EXPECT_EQ(Get(fd, SO_SNDTIMEO).tv_sec, 0);
  EXPECT_EQ(Get(fd, SO_RCVTIMEO).tv_sec, 3);
}

// net/core/sock.c: sock_set_timeout rejects tv_usec outside [0, 1e6) with
// EDOM and keeps the old value.
TEST_P(SocketTimeoutOptions, InvalidMicrosecondsGiveEdom) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Set(fd, SO_RCVTIMEO, 1, 0), 0);
  for (long usec : {1000000L, -1L, 5000000L}) {
    errno = 0;
    EXPECT_EQ(Set(fd, SO_RCVTIMEO, 0, usec), -1) << usec;
    EXPECT_EQ(errno, EDOM) << usec;
    errno = 0;
    EXPECT_EQ(Set(fd, SO_SNDTIMEO, 0, usec), -1) << usec;
    EXPECT_EQ(errno, EDOM) << usec;
  }
  EXPECT_EQ(Get(fd, SO_RCVTIMEO).tv_sec, 1);
}

// A negative tv_sec is accepted and stored as a zero timeout, which reads
// back as {0, 0} (the "blocking" encoding) although calls then fail at once;
// see BlockingReceiveTimeout for the behaviour.
TEST_P(SocketTimeoutOptions, NegativeSecondsReadBackAsZero) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Set(fd, SO_RCVTIMEO, -1, 0), 0);
  const timeval tv = Get(fd, SO_RCVTIMEO);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

// A timeout too large for jiffies means "forever", read back as {0, 0}.
TEST_P(SocketTimeoutOptions, HugeSecondsMeanNoTimeout) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Set(fd, SO_SNDTIMEO, LONG_MAX, 0), 0);
  const timeval tv = Get(fd, SO_SNDTIMEO);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

TEST_P(SocketTimeoutOptions, ShortOptlen) {
  const int fd = Socket(SOCK_STREAM);
  timeval tv{1, 0};
  errno = 0;
  EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 8), -1);
  EXPECT_EQ(errno, EINVAL);
  // getsockopt copies a truncated value instead of failing.
  ASSERT_EQ(Set(fd, SO_RCVTIMEO, 7, 0), 0);
  long buf[2] = {-1, -1};
  socklen_t len = 8;
  ASSERT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, buf, &len), 0);
  EXPECT_EQ(len, 8u);
  EXPECT_EQ(buf[0], 7);
  EXPECT_EQ(buf[1], -1);
}

// The 64-bit time variants share the same storage as the old names.
TEST_P(SocketTimeoutOptions, NewAndOldNamesShareTheValue) {
  const int fd = Socket(SOCK_STREAM);
  const long long v[2] = {5, 248000};
  ASSERT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, v, sizeof(v)), 0);
  const timeval tv = Get(fd, SO_RCVTIMEO_OLD);
  EXPECT_EQ(tv.tv_sec, 5);
  EXPECT_EQ(tv.tv_usec, 248000);
  long long out[2] = {0, 0};
  socklen_t len = sizeof(out);
  ASSERT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO_NEW, out, &len), 0);
  EXPECT_EQ(len, sizeof(out));
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 248000);
}

SHUNT_BOTH_BACKENDS(SocketTimeoutOptions);

// ---------------------------------------------------------------------------
class SocketPeekOffsetOption : public OptionsTest {};

TEST_P(SocketPeekOffsetOption, DefaultIsDisabled) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PEEK_OFF), -1);
  }
}

TEST_P(SocketPeekOffsetOption, RoundTripsOnAllTypes) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF, 3), 0) << type;
    EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), 3);
    EXPECT_EQ(GetIntOption(sv[1], SOL_SOCKET, SO_PEEK_OFF), -1);
    ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF, -1), 0);
    EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), -1);
  }
}

// Any negative offset is stored as given (and disables peeking at an
// offset); only -1 is the documented "off" value.
TEST_P(SocketPeekOffsetOption, OtherNegativeOffsetsAreStored) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF, -5), 0);
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), -5);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  char buf[4] = {};
  ASSERT_EQ(api().recv(sv[0], buf, 2, MSG_PEEK), 2);
  EXPECT_EQ(std::string(buf, 2), "ab");
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), -5);
}

// With an offset, MSG_PEEK starts there and advances it.
TEST_P(SocketPeekOffsetOption, PeekStartsAtOffsetAndAdvances) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(api().send(sv[1], "abcdef", 6, 0), 6);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF, 2), 0);
  char buf[8] = {};
  ASSERT_EQ(api().recv(sv[0], buf, 2, MSG_PEEK), 2);
  EXPECT_EQ(std::string(buf, 2), "cd");
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), 4);
  // A normal read consumes from the start and moves the offset back.
  ASSERT_EQ(api().recv(sv[0], buf, 3, 0), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
  EXPECT_EQ(GetIntOption(sv[0], SOL_SOCKET, SO_PEEK_OFF), 1);
}

SHUNT_BOTH_BACKENDS(SocketPeekOffsetOption);

// ---------------------------------------------------------------------------
class SocketCredentialOptions : public OptionsTest {
 protected:
  ucred PeerCred(int fd) {
    ucred c{-7, 7, 7};
    socklen_t len = sizeof(c);
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len), 0)
        << strerror(errno);
    EXPECT_EQ(len, sizeof(c));
    return c;
  }
};

TEST_P(SocketCredentialOptions, PassCredIsABooleanFlag) {
  ExpectBooleanOption(Socket(SOCK_DGRAM), SO_PASSCRED);
}

TEST_P(SocketCredentialOptions, SocketpairPeersAreThisProcess) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    for (int fd : sv) {
      const ucred c = PeerCred(fd);
      EXPECT_EQ(c.pid, getpid());
      EXPECT_EQ(c.uid, getuid());
      EXPECT_EQ(c.gid, getgid());
    }
  }
}

// The listener records its own credentials at listen() time; the accepted
// socket carries the client's; the client sees the listener's.
TEST_P(SocketCredentialOptions, ConnectedAndListeningSockets) {
  int listener, client, server;
  Connected(&listener, &client, &server);
  for (int fd : {listener, client, server}) {
    const ucred c = PeerCred(fd);
    EXPECT_EQ(c.pid, getpid());
    EXPECT_EQ(c.uid, 0u);
    EXPECT_EQ(c.gid, 0u);
  }
}

// An accepted socket has SO_PASSCRED as its listener had it when the
// client connected (Linux 6.16+ copies it in unix_stream_connect): a change
// between connect and accept does not reach it. The seqpacket listener
// follows the same path.
TEST_P(SocketCredentialOptions, AcceptedSocketTakesPassCredAtConnect) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    struct Case {
      int at_listen, after_connect, want;
    };
    for (const Case c : {Case{1, 1, 1}, Case{0, 1, 0}, Case{1, 0, 1}}) {
      const sockaddr_un a = TempAddr("pc");
      unlink(a.sun_path);
      const int listener = Socket(type);
      ASSERT_EQ(Bind(listener, a), 0);
      ASSERT_EQ(SetIntOption(listener, SOL_SOCKET, SO_PASSCRED, c.at_listen),
                0);
      ASSERT_EQ(api().listen(listener, 4), 0);
      const int client = Socket(type);
      ASSERT_EQ(Connect(client, a), 0);
      ASSERT_EQ(
          SetIntOption(listener, SOL_SOCKET, SO_PASSCRED, c.after_connect), 0);
      const int server = Track(api().accept(listener, nullptr, nullptr));
      ASSERT_GE(server, 0);
      EXPECT_EQ(GetIntOption(server, SOL_SOCKET, SO_PASSCRED), c.want);
      // The client's own option is its own.
      EXPECT_EQ(GetIntOption(client, SOL_SOCKET, SO_PASSCRED), 0);
      ExpectClose(server);
      ExpectClose(client);
      ExpectClose(listener);
    }
  }
}

// net/core/sock.c: cred_to_ucred gives pid 0 and uid/gid -1 when there is
// no peer.
TEST_P(SocketCredentialOptions, UnconnectedSocketHasNoPeer) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    const ucred c = PeerCred(fd);
    EXPECT_EQ(c.pid, 0);
    EXPECT_EQ(c.uid, static_cast<uid_t>(-1));
    EXPECT_EQ(c.gid, static_cast<gid_t>(-1));
  }
}

// Short buffers get a truncated copy; long ones are shortened to the struct.
TEST_P(SocketCredentialOptions, PeerCredOptlen) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  int32_t buf[4] = {-1, -1, -1, -1};
  socklen_t len = 4;
  ASSERT_EQ(api().getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, buf, &len), 0);
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(buf[0], getpid());
  EXPECT_EQ(buf[1], -1);
  len = sizeof(buf);
  ASSERT_EQ(api().getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, buf, &len), 0);
  EXPECT_EQ(len, sizeof(ucred));
  EXPECT_EQ(buf[3], -1);
}

SHUNT_BOTH_BACKENDS(SocketCredentialOptions);

// ---------------------------------------------------------------------------
class SocketOptionErrors : public OptionsTest {};

TEST_P(SocketOptionErrors, UnknownOptionName) {
  const int fd = Socket(SOCK_STREAM);
  int v = 1;
  socklen_t len = sizeof(v);
  for (int opt : {9999, -1}) {
    errno = 0;
    EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, opt, &v, &len), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);
    errno = 0;
    EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);
  }
}

// AF_UNIX has no protocol-level options: net/socket.c gives EOPNOTSUPP when
// the protocol has no {get,set}sockopt handler.
TEST_P(SocketOptionErrors, OtherLevelsAreNotSupported) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    const int fd = Socket(type);
    int v = 1;
    socklen_t len = sizeof(v);
    for (int level : {int{IPPROTO_TCP}, int{IPPROTO_IP}, 0, 1234}) {
      errno = 0;
      EXPECT_EQ(api().getsockopt(fd, level, 1, &v, &len), -1) << level;
      EXPECT_EQ(errno, EOPNOTSUPP) << level;
      errno = 0;
      EXPECT_EQ(api().setsockopt(fd, level, 1, &v, sizeof(v)), -1) << level;
      EXPECT_EQ(errno, EOPNOTSUPP) << level;
    }
  }
}

TEST_P(SocketOptionErrors, SetShortOptlenIsInvalid) {
  const int fd = Socket(SOCK_STREAM);
  int v = 1;
  for (socklen_t len : {0u, 1u, 3u}) {
    errno = 0;
    EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &v, len), -1);
    EXPECT_EQ(errno, EINVAL) << len;
  }
  // A longer buffer is fine: only the first int is used.
  const int big[2] = {64000, 1};
  EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_SNDBUF, big, sizeof(big)), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), 128000);
}

// getsockopt truncates the value to the caller's buffer instead of failing
// and shortens a long optlen to the value's size.
TEST_P(SocketOptionErrors, GetOptlenIsAdjusted) {
  const int fd = Socket(SOCK_SEQPACKET);
  unsigned char buf[16];
  memset(buf, 0xAA, sizeof(buf));
  socklen_t len = sizeof(buf);
  ASSERT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, &len), 0);
  EXPECT_EQ(len, sizeof(int));
  int type = 0;
  memcpy(&type, buf, sizeof(type));
  EXPECT_EQ(type, SOCK_SEQPACKET);
  EXPECT_EQ(buf[4], 0xAA);
  memset(buf, 0xAA, sizeof(buf));
  len = 1;
  ASSERT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, &len), 0);
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(buf[0], SOCK_SEQPACKET);
  EXPECT_EQ(buf[1], 0xAA);
  len = 0;
  ASSERT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, buf, &len), 0);
  EXPECT_EQ(len, 0u);
}

TEST_P(SocketOptionErrors, NegativeOptlenIsInvalid) {
  const int fd = Socket(SOCK_STREAM);
  int v = 0;
  socklen_t len = static_cast<socklen_t>(-1);
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(SocketOptionErrors, BadPointers) {
  const int fd = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_PASSCRED, nullptr, 4), -1);
  EXPECT_EQ(errno, EFAULT);
  int v = 0;
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
  socklen_t len = sizeof(int);
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, SOL_SOCKET, SO_TYPE, nullptr, &len), -1);
  EXPECT_EQ(errno, EFAULT);
}

TEST_P(SocketOptionErrors, NotASocket) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  int v = 1;
  socklen_t len = sizeof(v);
  errno = 0;
  EXPECT_EQ(api().getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &len), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  errno = 0;
  EXPECT_EQ(api().setsockopt(p[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(p[0]);
  close(p[1]);
  for (int bad : {-1, p[0], 1 << 20}) {
    errno = 0;
    EXPECT_EQ(api().getsockopt(bad, SOL_SOCKET, SO_TYPE, &v, &len), -1);
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    EXPECT_EQ(api().setsockopt(bad, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)),
              -1);
    EXPECT_EQ(errno, EBADF);
  }
}

SHUNT_BOTH_BACKENDS(SocketOptionErrors);

// ---------------------------------------------------------------------------
class SocketIoctls : public OptionsTest {
 protected:
  int Ioctl(int fd, unsigned long req) {
    int v = -12345;
    const int rc = api().ioctl(fd, req, &v);
    EXPECT_EQ(rc, 0) << strerror(errno);
    return rc == 0 ? v : -1;
  }
};

TEST_P(SocketIoctls, InqOnStreamCountsAllQueuedBytes) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 0);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  ASSERT_EQ(api().send(sv[1], "defgh", 5, 0), 5);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 8);
  EXPECT_EQ(Ioctl(sv[0], SIOCINQ), 8);
  char buf[8];
  ASSERT_EQ(api().recv(sv[0], buf, 4, 0), 4);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 4);
  // Peeking does not change it.
  ASSERT_EQ(api().recv(sv[0], buf, 2, MSG_PEEK), 2);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 4);
}

// net/unix/af_unix.c: unix_inq_len sums every queued record for stream and
// seqpacket but gives only the next datagram's size for dgram.
TEST_P(SocketIoctls, InqOnSeqpacketSumsRecords) {
  int sv[2];
  Pair(SOCK_SEQPACKET, sv);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  ASSERT_EQ(api().send(sv[1], "defgh", 5, 0), 5);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 8);
}

TEST_P(SocketIoctls, InqOnDatagramIsNextDatagram) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 0);
  ASSERT_EQ(api().send(sv[1], "abc", 3, 0), 3);
  ASSERT_EQ(api().send(sv[1], "defgh", 5, 0), 5);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 3);
  char buf[8];
  ASSERT_EQ(api().recv(sv[0], buf, 1, 0), 1);  // truncates the first
  EXPECT_EQ(Ioctl(sv[0], SIOCINQ), 5);
  // An empty datagram is a zero-length next datagram.
  ASSERT_EQ(api().recv(sv[0], buf, 8, 0), 5);
  ASSERT_EQ(api().send(sv[1], "", 0, 0), 0);
  EXPECT_EQ(Ioctl(sv[0], FIONREAD), 0);
}

TEST_P(SocketIoctls, InqOnListenerIsInvalid) {
  int listener, client, server;
  Connected(&listener, &client, &server);
  int v = 0;
  errno = 0;
  EXPECT_EQ(api().ioctl(listener, FIONREAD, &v), -1);
  EXPECT_EQ(errno, EINVAL);
  // An unconnected stream socket just has nothing queued.
  const int fresh = Socket(SOCK_STREAM);
  EXPECT_EQ(Ioctl(fresh, FIONREAD), 0);
}

// SIOCOUTQ is the sender's unread memory (skb truesize, not payload bytes);
// it goes back to 0 once the peer has read everything.
TEST_P(SocketIoctls, OutqTracksUnreadSentData) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    int sv[2];
    Pair(type, sv);
    EXPECT_EQ(Ioctl(sv[1], SIOCOUTQ), 0);
    ASSERT_EQ(api().send(sv[1], "abcdef", 6, 0), 6);
    EXPECT_GE(Ioctl(sv[1], SIOCOUTQ), 6) << type;
    EXPECT_EQ(Ioctl(sv[0], SIOCOUTQ), 0) << type;
    char buf[8];
    ASSERT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 6);
    EXPECT_EQ(Ioctl(sv[1], SIOCOUTQ), 0) << type;
  }
}

TEST_P(SocketIoctls, FionbioTogglesNonBlocking) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  int one = 1;
  ASSERT_EQ(api().ioctl(sv[0], FIONBIO, &one), 0);
  EXPECT_EQ(api().fcntl(sv[0], F_GETFL, 0), O_RDWR | O_NONBLOCK);
  char c;
  errno = 0;
  EXPECT_EQ(api().recv(sv[0], &c, 1, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  int zero = 0;
  ASSERT_EQ(api().ioctl(sv[0], FIONBIO, &zero), 0);
  EXPECT_EQ(api().fcntl(sv[0], F_GETFL, 0), O_RDWR);
}

TEST_P(SocketIoctls, FioclexAndFionclex) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(api().ioctl(fd, FIOCLEX, nullptr), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFD, 0), FD_CLOEXEC);
  ASSERT_EQ(api().ioctl(fd, FIONCLEX, nullptr), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFD, 0), 0);
}

// With CONFIG_AF_UNIX_OOB, SIOCATMARK is 0 while no urgent byte is queued.
TEST_P(SocketIoctls, AtMarkWithoutUrgentData) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  EXPECT_EQ(Ioctl(sv[0], SIOCATMARK), 0);
  ASSERT_EQ(api().send(sv[1], "ab", 2, 0), 2);
  EXPECT_EQ(Ioctl(sv[0], SIOCATMARK), 0);
}

// unix_ioctl answers SIOCATMARK for stream sockets only; datagram and
// seqpacket sockets (connected, lone or listening) get EOPNOTSUPP and the
// argument is left alone. (Found by `shunt diff`.)
TEST_P(SocketIoctls, AtMarkIsForStreamSocketsOnly) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    const int lone = Socket(type);
    for (int fd : {sv[0], lone}) {
      int v = 77;
      errno = 0;
      EXPECT_EQ(api().ioctl(fd, SIOCATMARK, &v), -1);
      EXPECT_EQ(errno, EOPNOTSUPP);
      EXPECT_EQ(v, 77);
    }
  }
  const int stream = Socket(SOCK_STREAM);
  EXPECT_EQ(Ioctl(stream, SIOCATMARK), 0);
}

// unix_ioctl's SIOCATMARK is 1 when the first queued skb is empty and no
// urgent byte is queued: a listener's pending connection is such an skb.
// (Found by `shunt diff`.)
TEST_P(SocketIoctls, AtMarkOnAListenerWithPendingConnections) {
  const sockaddr_un a = TempAddr("l");
  const int l = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(l, a), 0);
  ASSERT_EQ(api().listen(l, 4), 0);
  EXPECT_EQ(Ioctl(l, SIOCATMARK), 0);
  const int c1 = Socket(SOCK_STREAM);
  ASSERT_EQ(Connect(c1, a), 0);
  EXPECT_EQ(Ioctl(l, SIOCATMARK), 1);
  const int c2 = Socket(SOCK_STREAM);
  ASSERT_EQ(Connect(c2, a), 0);
  EXPECT_EQ(Ioctl(l, SIOCATMARK), 1);
  Track(api().accept(l, nullptr, nullptr));
  EXPECT_EQ(Ioctl(l, SIOCATMARK), 1);
  Track(api().accept(l, nullptr, nullptr));
  EXPECT_EQ(Ioctl(l, SIOCATMARK), 0);
  EXPECT_EQ(Ioctl(c1, SIOCATMARK), 0);
}

// net/socket.c: sock_do_ioctl turns an unknown request into ENOTTY.
TEST_P(SocketIoctls, UnknownRequest) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const int fd = Socket(type);
    int v = 0;
    errno = 0;
    EXPECT_EQ(api().ioctl(fd, 0x1234, &v), -1);
    EXPECT_EQ(errno, ENOTTY);
    errno = 0;
    EXPECT_EQ(api().ioctl(fd, TIOCGWINSZ, &v), -1);
    EXPECT_EQ(errno, ENOTTY);
  }
}

TEST_P(SocketIoctls, BadArguments) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  errno = 0;
  EXPECT_EQ(api().ioctl(sv[0], FIONREAD, nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
  errno = 0;
  EXPECT_EQ(api().ioctl(sv[0], FIONBIO, nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
  int v = 0;
  errno = 0;
  EXPECT_EQ(api().ioctl(-1, FIONREAD, &v), -1);
  EXPECT_EQ(errno, EBADF);
}

SHUNT_BOTH_BACKENDS(SocketIoctls);

// ---------------------------------------------------------------------------
class SocketDescriptorFlags : public OptionsTest {};

TEST_P(SocketDescriptorFlags, StatusFlagsAtCreation) {
  const int plain = Socket(SOCK_STREAM);
  EXPECT_EQ(api().fcntl(plain, F_GETFL, 0), O_RDWR);
  EXPECT_EQ(api().fcntl(plain, F_GETFD, 0), 0);
  const int nb = Socket(SOCK_DGRAM | SOCK_NONBLOCK);
  EXPECT_EQ(api().fcntl(nb, F_GETFL, 0), O_RDWR | O_NONBLOCK);
  EXPECT_EQ(api().fcntl(nb, F_GETFD, 0), 0);
  const int ce = Socket(SOCK_SEQPACKET | SOCK_CLOEXEC);
  EXPECT_EQ(api().fcntl(ce, F_GETFL, 0), O_RDWR);
  EXPECT_EQ(api().fcntl(ce, F_GETFD, 0), FD_CLOEXEC);
  int sv[2];
  Pair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, sv);
  for (int fd : sv) {
    EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NONBLOCK);
    EXPECT_EQ(api().fcntl(fd, F_GETFD, 0), FD_CLOEXEC);
  }
}

TEST_P(SocketDescriptorFlags, AcceptedSocketTakesAccept4Flags) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_EQ(
      api().bind(listener, reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
      0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  for (int i = 0; i < 2; ++i) {
    const int c = Socket(SOCK_STREAM);
    ASSERT_EQ(
        api().connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
  }
  // The listener's flags are not inherited.
  const int s1 = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(s1, 0);
  EXPECT_EQ(api().fcntl(s1, F_GETFL, 0), O_RDWR);
  EXPECT_EQ(api().fcntl(s1, F_GETFD, 0), 0);
  const int s2 = Track(
      api().accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  ASSERT_GE(s2, 0);
  EXPECT_EQ(api().fcntl(s2, F_GETFL, 0), O_RDWR | O_NONBLOCK);
  EXPECT_EQ(api().fcntl(s2, F_GETFD, 0), FD_CLOEXEC);
  errno = 0;
  EXPECT_EQ(api().accept4(listener, nullptr, nullptr, O_APPEND), -1);
  EXPECT_EQ(errno, EINVAL);
}

// F_SETFL changes only the changeable status flags; the access mode stays
// O_RDWR.
TEST_P(SocketDescriptorFlags, SetflChangesOnlyStatusFlags) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(api().fcntl(fd, F_SETFL, O_WRONLY | O_NONBLOCK), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NONBLOCK);
  ASSERT_EQ(api().fcntl(fd, F_SETFL, 0), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR);
  // O_APPEND is accepted and reported on a socket even though it means
  // nothing there.
  ASSERT_EQ(api().fcntl(fd, F_SETFL, O_APPEND), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_APPEND);
}

// Status flags belong to each open file description: setting them on one
// socket leaves every other socket (and a new one) as it was.
TEST_P(SocketDescriptorFlags, StatusFlagsBelongToOneSocket) {
  const int a = Socket(SOCK_STREAM);
  const int b = Socket(SOCK_STREAM | SOCK_NONBLOCK);
  ASSERT_EQ(api().fcntl(a, F_SETFL, O_NONBLOCK | O_APPEND), 0);
  ASSERT_EQ(api().fcntl(b, F_SETFL, 0), 0);
  EXPECT_EQ(api().fcntl(a, F_GETFL, 0), O_RDWR | O_NONBLOCK | O_APPEND);
  EXPECT_EQ(api().fcntl(b, F_GETFL, 0), O_RDWR);
  const int c = Socket(SOCK_STREAM);
  EXPECT_EQ(api().fcntl(c, F_GETFL, 0), O_RDWR);
  // ...but are shared by a descriptor duplicated from it.
  const int d = Track(api().fcntl(a, F_DUPFD, 0));
  ASSERT_GE(d, 0);
  EXPECT_EQ(api().fcntl(d, F_GETFL, 0), O_RDWR | O_NONBLOCK | O_APPEND);
}

// setfl refuses O_DIRECT on a socket and changes nothing; O_ASYNC and
// O_NOATIME are kept and reported; FIOASYNC toggles O_ASYNC.
TEST_P(SocketDescriptorFlags, SetflDirectRefusedAsyncKept) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(api().fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(api().fcntl(fd, F_SETFL, O_DIRECT), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NONBLOCK);
  ASSERT_EQ(api().fcntl(fd, F_SETFL, O_NOATIME), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NOATIME);
  int on = 1;
  ASSERT_EQ(api().ioctl(fd, FIOASYNC, &on), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NOATIME | O_ASYNC);
  on = 0;
  ASSERT_EQ(api().ioctl(fd, FIOASYNC, &on), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFL, 0), O_RDWR | O_NOATIME);
}

TEST_P(SocketDescriptorFlags, SetfdTogglesCloseOnExec) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(api().fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFD, 0), FD_CLOEXEC);
  ASSERT_EQ(api().fcntl(fd, F_SETFD, 0), 0);
  EXPECT_EQ(api().fcntl(fd, F_GETFD, 0), 0);
}

TEST_P(SocketDescriptorFlags, DupfdPicksLowestAtOrAboveArg) {
  const int fd = Socket(SOCK_STREAM | SOCK_CLOEXEC);
  const int d1 = Track(api().fcntl(fd, F_DUPFD, 100));
  EXPECT_EQ(d1, 100);
  const int d2 = Track(api().fcntl(fd, F_DUPFD, 100));
  EXPECT_EQ(d2, 101);
  // F_DUPFD clears close-on-exec on the copy; F_DUPFD_CLOEXEC sets it.
  EXPECT_EQ(api().fcntl(d1, F_GETFD, 0), 0);
  const int d3 = Track(api().fcntl(fd, F_DUPFD_CLOEXEC, 100));
  EXPECT_EQ(d3, 102);
  EXPECT_EQ(api().fcntl(d3, F_GETFD, 0), FD_CLOEXEC);
  EXPECT_EQ(GetIntOption(d3, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(api().fcntl(fd, F_DUPFD, -1), -1);
  EXPECT_EQ(errno, EINVAL);
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  errno = 0;
  EXPECT_EQ(api().fcntl(fd, F_DUPFD, static_cast<long>(rl.rlim_cur)), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(SocketDescriptorFlags, BadDescriptorAndCommand) {
  errno = 0;
  EXPECT_EQ(api().fcntl(-1, F_GETFL, 0), -1);
  EXPECT_EQ(errno, EBADF);
  const int fd = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(api().fcntl(fd, 0x7fff, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

SHUNT_BOTH_BACKENDS(SocketDescriptorFlags);

// ---------------------------------------------------------------------------
class SocketDuplication : public OptionsTest {};

TEST_P(SocketDuplication, DupSharesSocketAndStatusFlags) {
  int sv[2];
  Pair(SOCK_STREAM | SOCK_CLOEXEC, sv);
  const int d = Track(api().dup(sv[0]));
  ASSERT_GE(d, 0);
  // The copy does not inherit close-on-exec.
  EXPECT_EQ(api().fcntl(d, F_GETFD, 0), 0);
  ASSERT_EQ(api().fcntl(d, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(api().fcntl(sv[0], F_GETFL, 0), O_RDWR | O_NONBLOCK);
  ASSERT_EQ(SetIntOption(sv[0], SOL_SOCKET, SO_RCVBUF, 5000), 0);
  EXPECT_EQ(GetIntOption(d, SOL_SOCKET, SO_RCVBUF), 10000);
  ASSERT_EQ(api().send(d, "hi", 2, 0), 2);
  char buf[4];
  ASSERT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 2);
  ASSERT_EQ(api().send(sv[1], "yo", 2, 0), 2);
  ASSERT_EQ(api().recv(sv[0], buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::string(buf, 2), "yo");
}

TEST_P(SocketDuplication, DupTakesLowestFreeNumber) {
  const int a = Socket(SOCK_STREAM);
  const int b = Socket(SOCK_STREAM);
  ASSERT_EQ(Close(a), 0);
  const int d = Track(api().dup(b));
  EXPECT_EQ(d, a);
}

TEST_P(SocketDuplication, Dup2SameDescriptor) {
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(api().dup2(fd, fd), fd);
  const int closed = Socket(SOCK_STREAM);
  ASSERT_EQ(Close(closed), 0);
  errno = 0;
  EXPECT_EQ(api().dup2(closed, closed), -1);
  EXPECT_EQ(errno, EBADF);
}

// dup2 onto an open socket closes that socket first: its peer sees EOF.
TEST_P(SocketDuplication, Dup2OverOpenSocketClosesIt) {
  int a[2], b[2];
  Pair(SOCK_STREAM, a);
  Pair(SOCK_STREAM, b);
  ASSERT_EQ(api().dup2(a[0], b[1]), b[1]);
  char buf[4];
  EXPECT_EQ(api().recv(b[0], buf, sizeof(buf), MSG_DONTWAIT), 0);
  ASSERT_EQ(api().send(b[1], "z", 1, 0), 1);
  ASSERT_EQ(api().recv(a[1], buf, sizeof(buf), MSG_DONTWAIT), 1);
  EXPECT_EQ(buf[0], 'z');
}

TEST_P(SocketDuplication, Dup3Errors) {
  const int fd = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(api().dup3(fd, fd, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(api().dup3(fd, 200, O_NONBLOCK), -1);
  EXPECT_EQ(errno, EINVAL);
  const int d = Track(api().dup3(fd, 200, O_CLOEXEC));
  EXPECT_EQ(d, 200);
  EXPECT_EQ(api().fcntl(d, F_GETFD, 0), FD_CLOEXEC);
}

TEST_P(SocketDuplication, BadDescriptors) {
  const int fd = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(api().dup(-1), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(api().dup2(fd, -1), -1);
  EXPECT_EQ(errno, EBADF);
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  errno = 0;
  EXPECT_EQ(api().dup2(fd, static_cast<int>(rl.rlim_cur)), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(api().dup3(-1, 200, 0), -1);
  EXPECT_EQ(errno, EBADF);
}

// Closing one copy leaves the socket usable through the other.
TEST_P(SocketDuplication, ClosingOneCopyKeepsSocketOpen) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int d = api().dup(sv[0]);
  ASSERT_GE(d, 0);
  ASSERT_EQ(Close(sv[0]), 0);
  char buf[4];
  errno = 0;
  EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(api().send(d, "k", 1, 0), 1);
  EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), 0), 1);
  ASSERT_EQ(api().close(d), 0);
  EXPECT_EQ(api().recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
}

SHUNT_BOTH_BACKENDS(SocketDuplication);

// ---------------------------------------------------------------------------
class SocketCreationErrors : public OptionsTest {};

TEST_P(SocketCreationErrors, BadDomain) {
  for (int domain : {-1, AF_MAX, 12345}) {
    errno = 0;
    EXPECT_EQ(api().socket(domain, SOCK_STREAM, 0), -1) << domain;
    EXPECT_EQ(errno, EAFNOSUPPORT) << domain;
  }
}

// net/socket.c rejects unknown flag bits and types >= SOCK_MAX with EINVAL;
// unix_create rejects the remaining types with ESOCKTNOSUPPORT.
TEST_P(SocketCreationErrors, BadType) {
  for (int type : {SOCK_STREAM | 0x100, SOCK_DGRAM | O_APPEND, 11, 1000}) {
    errno = 0;
    EXPECT_EQ(api().socket(AF_UNIX, type, 0), -1) << type;
    EXPECT_EQ(errno, EINVAL) << type;
  }
  for (int type : {0, int{SOCK_RDM}, int{SOCK_DCCP}, int{SOCK_PACKET}}) {
    errno = 0;
    EXPECT_EQ(api().socket(AF_UNIX, type, 0), -1) << type;
    EXPECT_EQ(errno, ESOCKTNOSUPPORT) << type;
  }
}

TEST_P(SocketCreationErrors, BadProtocol) {
  for (int protocol : {2, -1, int{IPPROTO_TCP}}) {
    errno = 0;
    EXPECT_EQ(api().socket(AF_UNIX, SOCK_STREAM, protocol), -1) << protocol;
    EXPECT_EQ(errno, EPROTONOSUPPORT) << protocol;
  }
}

// The two lowest free descriptor numbers, as a new descriptor would get.
void LowestFreeFds(int out[2]) {
  out[0] = open("/dev/null", O_RDONLY);
  out[1] = open("/dev/null", O_RDONLY);
  close(out[0]);
  close(out[1]);
}

TEST_P(SocketCreationErrors, SocketpairErrors) {
  int sv[2] = {-1, -1};
  errno = 0;
  EXPECT_EQ(api().socketpair(12345, SOCK_STREAM, 0, sv), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  errno = 0;
  EXPECT_EQ(api().socketpair(AF_UNIX, 0, 0, sv), -1);
  EXPECT_EQ(errno, ESOCKTNOSUPPORT);
  errno = 0;
  EXPECT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 2, sv), -1);
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  errno = 0;
  EXPECT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
  // Unknown flag bits are rejected before anything else: sv is untouched.
  sv[0] = sv[1] = -1;
  errno = 0;
  EXPECT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(sv[0], -1);
  EXPECT_EQ(sv[1], -1);
}

// AF_INET sockets exist but have no socketpair: EOPNOTSUPP.
TEST_P(SocketCreationErrors, SocketpairUnsupportedFamily) {
  int sv[2] = {-1, -1};
  errno = 0;
  EXPECT_EQ(api().socketpair(AF_INET, SOCK_STREAM, 0, sv), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

// net/socket.c: __sys_socketpair reserves both descriptor numbers and
// copies them to sv before creating the sockets, so a failure after the
// flag check leaves sv holding two (now free again) descriptor numbers.
TEST_P(SocketCreationErrors, FailedSocketpairStillWritesSv) {
  int want[2];
  LowestFreeFds(want);
  int sv[2] = {-1, -1};
  ASSERT_EQ(api().socketpair(AF_UNIX, 0, 0, sv), -1);
  EXPECT_EQ(sv[0], want[0]);
  EXPECT_EQ(sv[1], want[1]);
  sv[0] = sv[1] = -1;
  ASSERT_EQ(api().socketpair(AF_INET, SOCK_STREAM, 0, sv), -1);
  EXPECT_EQ(sv[0], want[0]);
  EXPECT_EQ(sv[1], want[1]);
}

SHUNT_BOTH_BACKENDS(SocketCreationErrors);

// ---------------------------------------------------------------------------
// The generic SOL_SOCKET options (net/core/sock.c: sk_setsockopt,
// sk_getsockopt), as Linux 6.18 reports them on AF_UNIX sockets.

// Linux 6.18 option numbers newer than this system's headers.
constexpr int kSoDevmemDontneed = 80, kSoRcvPriority = 82, kSoPassRights = 83,
              kSoInq = 84;

class GenericOptions : public OptionsTest {
 protected:
  struct Got {
    int rc;
    int err;
    socklen_t len;
    std::string bytes;  // the first len bytes written
  };
  // getsockopt into a buffer of `len` bytes filled with 0xEE.
  Got Get(int fd, int name, socklen_t len) {
    unsigned char buf[512];
    memset(buf, 0xEE, sizeof(buf));
    Got g{};
    g.len = len;
    errno = 0;
    g.rc = api().getsockopt(fd, SOL_SOCKET, name, buf, &g.len);
    g.err = errno;
    if (g.rc == 0)
      g.bytes.assign(reinterpret_cast<char*>(buf),
                     std::min<size_t>(g.len, sizeof(buf)));
    return g;
  }
  // setsockopt of `len` bytes at p; -errno on failure.
  int Set(int fd, int name, const void* p, socklen_t len) {
    errno = 0;
    return api().setsockopt(fd, SOL_SOCKET, name, p, len) == 0 ? 0 : -errno;
  }
  int SetInt(int fd, int name, int v) { return Set(fd, name, &v, sizeof(v)); }
  // One socket of each type: a fresh stream, datagram and seqpacket socket.
  std::vector<int> EachType() {
    return {Socket(SOCK_STREAM), Socket(SOCK_DGRAM), Socket(SOCK_SEQPACKET)};
  }
  bool OnShunt() const { return &api() == &shunt_test::ShuntApi(); }
  // recvmsg (never blocking) of up to len bytes with a control buffer of
  // controllen bytes (none for 0): the result, msg_flags, msg_controllen
  // and the control messages.
  struct Read {
    ssize_t rc;
    int flags;
    size_t controllen;
    std::vector<std::pair<int, int>> cmsgs;  // type, first int of data
  };
  Read RecvWithControl(int fd, size_t len, int flags, size_t controllen = 64) {
    char buf[64];
    alignas(cmsghdr) char control[256];
    iovec iov{buf, len};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = controllen == 0 ? nullptr : control;
    mh.msg_controllen = controllen;
    Read r{};
    r.rc = api().recvmsg(fd, &mh, flags | MSG_DONTWAIT);
    r.flags = mh.msg_flags;
    r.controllen = mh.msg_controllen;
    if (r.rc < 0) return r;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr;
         c = CMSG_NXTHDR(&mh, c)) {
      int v = 0;
      if (c->cmsg_len >= CMSG_LEN(sizeof v)) memcpy(&v, CMSG_DATA(c), sizeof v);
      EXPECT_EQ(c->cmsg_level, SOL_SOCKET);
      r.cmsgs.emplace_back(c->cmsg_type, v);
    }
    return r;
  }
};

class OptionArgumentOrder : public GenericOptions {
 protected:
  void SetUp() override {
    GenericOptions::SetUp();
    // Two pages, the second inaccessible: a value can end at the boundary.
    mem_ = static_cast<unsigned char*>(
        mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem_, MAP_FAILED);
    ASSERT_EQ(mprotect(mem_ + kPage, kPage, PROT_NONE), 0);
  }
  void TearDown() override {
    munmap(mem_, 2 * kPage);
    GenericOptions::TearDown();
  }
  // n valid bytes holding `value`, right before the inaccessible page.
  void* AtPageEnd(const void* value, size_t n) {
    memcpy(mem_ + kPage - n, value, n);
    return mem_ + kPage - n;
  }
  static constexpr size_t kPage = 4096;
  unsigned char* mem_ = nullptr;
};

// net/socket.c: do_sock_getsockopt and do_sock_setsockopt refuse a level
// AF_UNIX does not have before they read optlen or optval.
TEST_P(OptionArgumentOrder, OtherLevelIsRefusedBeforeArgumentsAreRead) {
  const int fd = Socket(SOCK_STREAM);
  int v = 0;
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, IPPROTO_IP, 1, &v, nullptr), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  errno = 0;
  EXPECT_EQ(api().setsockopt(fd, IPPROTO_IP, 1, nullptr, 4), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  // A negative optlen comes first for setsockopt, not for getsockopt.
  errno = 0;
  EXPECT_EQ(api().setsockopt(fd, IPPROTO_IP, 1, &v, -1), -1);
  EXPECT_EQ(errno, EINVAL);
  socklen_t len = static_cast<socklen_t>(-1);
  errno = 0;
  EXPECT_EQ(api().getsockopt(fd, IPPROTO_IP, 1, &v, &len), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

// sk_setsockopt: an optlen shorter than an int is EINVAL before optval is
// read; SO_BINDTODEVICE reads a name instead, so 0 bytes unbind.
TEST_P(OptionArgumentOrder, ShortOptlenIsRefusedBeforeTheValueIsRead) {
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(Set(fd, SO_SNDBUF, nullptr, 2), -EINVAL);
  EXPECT_EQ(Set(fd, SO_SNDBUF, nullptr, 4), -EFAULT);
  EXPECT_EQ(Set(fd, SO_BINDTODEVICE, nullptr, 0), 0);
  EXPECT_EQ(Set(fd, SO_BINDTODEVICE, nullptr, 4), -EFAULT);
}

// Only the bytes an option uses are read: an int for most, a struct for
// SO_LINGER and the timeouts, 8 bytes for SO_MAX_PACING_RATE with room.
TEST_P(OptionArgumentOrder, OnlyTheBytesAnOptionUsesAreRead) {
  const int fd = Socket(SOCK_STREAM);
  const int prio = 5;
  EXPECT_EQ(Set(fd, SO_PRIORITY, AtPageEnd(&prio, sizeof prio), 64), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_PRIORITY), 5);
  const linger l{1, 3};
  EXPECT_EQ(Set(fd, SO_LINGER, AtPageEnd(&l, sizeof l), 64), 0);
  EXPECT_EQ(Set(fd, SO_LINGER, AtPageEnd(&l, 4), 8), -EFAULT);
  const timeval tv{1, 0};
  EXPECT_EQ(Set(fd, SO_RCVTIMEO, AtPageEnd(&tv, sizeof tv), 64), 0);
  EXPECT_EQ(Set(fd, SO_RCVTIMEO, AtPageEnd(&tv, 8), 16), -EFAULT);
  const int rate = 1000;
  EXPECT_EQ(Set(fd, SO_MAX_PACING_RATE, AtPageEnd(&rate, 4), 7), 0);
  EXPECT_EQ(Set(fd, SO_MAX_PACING_RATE, AtPageEnd(&rate, 4), 8), -EFAULT);
}

SHUNT_BOTH_BACKENDS(OptionArgumentOrder);

// ---------------------------------------------------------------------------
class FlagOptions : public GenericOptions {};

// The on/off options every socket keeps: 0 at first, 1 for any non-zero
// value, on every type, each on its own.
TEST_P(FlagOptions, StartOffAndReadBackAsBooleans) {
  for (const int fd : EachType()) {
    for (int opt : {SO_DEBUG, SO_NO_CHECK, SO_RXQ_OVFL, SO_WIFI_STATUS,
                    SO_NOFCS, SO_SELECT_ERR_QUEUE, SO_PREFER_BUSY_POLL,
                    SO_RCVMARK, kSoRcvPriority, SO_PASSSEC}) {
      SCOPED_TRACE(opt);
      ExpectBooleanOption(fd, opt);
    }
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_NOFCS, 1), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_RCVMARK), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_DEBUG), 0);
  }
}

// A flag read into a short buffer gets the first bytes; a long one is
// shortened to an int.
TEST_P(FlagOptions, OptlenIsAdjusted) {
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, SO_RXQ_OVFL, 1), 0);
  EXPECT_EQ(Get(fd, SO_RXQ_OVFL, 2).bytes, std::string("\x01\x00", 2));
  EXPECT_EQ(Get(fd, SO_RXQ_OVFL, 0).len, 0u);
  EXPECT_EQ(Get(fd, SO_RXQ_OVFL, 100).len, sizeof(int));
}

// kSoPassRights starts on.
TEST_P(FlagOptions, PassRightsStartsOn) {
  for (const int fd : EachType()) {
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, kSoPassRights), 1);
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, kSoPassRights, 0), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, kSoPassRights), 0);
    ASSERT_EQ(SetIntOption(fd, SOL_SOCKET, kSoPassRights, -3), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, kSoPassRights), 1);
  }
}

// SO_LOCK_FILTER cannot be switched off again; SO_DETACH_FILTER then
// refuses too (there is never a filter to detach).
TEST_P(FlagOptions, LockFilterLocksForGood) {
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(SetInt(fd, SO_DETACH_FILTER, 0), -ENOENT);
  ASSERT_EQ(SetInt(fd, SO_LOCK_FILTER, 1), 0);
  EXPECT_EQ(SetInt(fd, SO_LOCK_FILTER, 1), 0);
  EXPECT_EQ(SetInt(fd, SO_LOCK_FILTER, 0), -EPERM);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_LOCK_FILTER), 1);
  EXPECT_EQ(SetInt(fd, SO_DETACH_FILTER, 0), -EPERM);
}

// None of them is handed to an accepted socket but SO_PASSSEC (and
// kSoPassRights, SO_PASSCRED), as the listener had them at connect.
TEST_P(FlagOptions, AcceptedSocketTakesOnlyThePassOptions) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, a), 0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  for (int opt : {SO_DEBUG, SO_NO_CHECK, SO_RCVMARK, SO_PASSSEC, SO_MARK,
                  SO_TIMESTAMP, SO_LOCK_FILTER})
    ASSERT_EQ(SetIntOption(listener, SOL_SOCKET, opt, 1), 0) << opt;
  ASSERT_EQ(SetIntOption(listener, SOL_SOCKET, kSoPassRights, 0), 0);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(Connect(client, a), 0);
  ASSERT_EQ(SetIntOption(listener, SOL_SOCKET, SO_PASSSEC, 0), 0);
  ASSERT_EQ(SetIntOption(listener, SOL_SOCKET, kSoPassRights, 1), 0);
  const int server = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(server, 0);
  EXPECT_EQ(GetIntOption(server, SOL_SOCKET, SO_PASSSEC), 1);
  EXPECT_EQ(GetIntOption(server, SOL_SOCKET, kSoPassRights), 0);
  for (int opt : {SO_DEBUG, SO_NO_CHECK, SO_RCVMARK, SO_MARK, SO_TIMESTAMP,
                  SO_LOCK_FILTER})
    EXPECT_EQ(GetIntOption(server, SOL_SOCKET, opt), 0) << opt;
  EXPECT_EQ(GetIntOption(client, SOL_SOCKET, kSoPassRights), 1);
}

SHUNT_BOTH_BACKENDS(FlagOptions);

// ---------------------------------------------------------------------------
class FixedOptions : public GenericOptions {};

// Options for other families, or with nothing to set on AF_UNIX: what they
// read and what setting them answers.
TEST_P(FixedOptions, ReadsAndRefusals) {
  for (const int fd : EachType()) {
    for (int opt : {SO_BSDCOMPAT, SO_REUSEPORT, SO_ZEROCOPY, SO_RESERVE_MEM,
                    SO_INCOMING_NAPI_ID})
      EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, opt), 0) << opt;
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BPF_EXTENSIONS), SKF_AD_MAX);
    EXPECT_EQ(SetInt(fd, SO_BSDCOMPAT, 1), 0);
    EXPECT_EQ(SetInt(fd, SO_CNX_ADVICE, 1), 0);
    EXPECT_EQ(SetInt(fd, SO_REUSEPORT, 0), 0);
    EXPECT_EQ(SetInt(fd, SO_REUSEPORT, 1), -EOPNOTSUPP);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_REUSEPORT), 0);
    for (int v : {0, 1}) EXPECT_EQ(SetInt(fd, SO_ZEROCOPY, v), -EOPNOTSUPP);
    EXPECT_EQ(SetInt(fd, SO_RESERVE_MEM, -1), -EINVAL);
    EXPECT_EQ(SetInt(fd, SO_RESERVE_MEM, 0), -EOPNOTSUPP);
    EXPECT_EQ(SetInt(fd, SO_RESERVE_MEM, 4096), -EOPNOTSUPP);
    EXPECT_EQ(SetInt(fd, SO_TXREHASH, 0), -EOPNOTSUPP);
    EXPECT_EQ(Get(fd, SO_TXREHASH, 4).err, EOPNOTSUPP);
    EXPECT_EQ(SetInt(fd, kSoDevmemDontneed, 0), -EBADF);
    EXPECT_EQ(SetInt(fd, SO_DETACH_REUSEPORT_BPF, 0), -EINVAL);
    // Readable only, or settable only.
    EXPECT_EQ(SetInt(fd, SO_BPF_EXTENSIONS, 1), -ENOPROTOOPT);
    EXPECT_EQ(SetInt(fd, SO_INCOMING_NAPI_ID, 1), -ENOPROTOOPT);
    for (int opt : {SO_CNX_ADVICE, SO_BUSY_POLL_BUDGET, kSoInq})
      EXPECT_EQ(Get(fd, opt, 4).err, ENOPROTOOPT) << opt;
  }
}

// No filter is ever attached: SO_GET_FILTER reports none, and programs
// that Linux would reject are rejected alike.
TEST_P(FixedOptions, FilterArgumentsAreChecked) {
  const int fd = Socket(SOCK_DGRAM);
  const Got g = Get(fd, SO_GET_FILTER, 64);
  EXPECT_EQ(g.rc, 0);
  EXPECT_EQ(g.len, 0u);
  sock_fprog empty{0, nullptr};
  EXPECT_EQ(SetInt(fd, SO_ATTACH_FILTER, 0), -EINVAL);  // not an fprog
  EXPECT_EQ(Set(fd, SO_ATTACH_FILTER, &empty, sizeof empty), -EINVAL);
  EXPECT_EQ(Set(fd, SO_ATTACH_REUSEPORT_CBPF, &empty, sizeof empty), -EINVAL);
  sock_filter accept_all{BPF_RET | BPF_K, 0, 0, 0xffff};
  sock_fprog one{1, &accept_all};
  EXPECT_EQ(Set(fd, SO_ATTACH_REUSEPORT_CBPF, &one, sizeof one), -EINVAL);
  // Not a BPF program descriptor.
  EXPECT_EQ(SetInt(fd, SO_ATTACH_BPF, -1), -EBADF);
  EXPECT_EQ(SetInt(fd, SO_ATTACH_BPF, fd), -EINVAL);
  EXPECT_EQ(SetInt(fd, SO_ATTACH_REUSEPORT_EBPF, -1), -EBADF);
  EXPECT_EQ(SetInt(fd, SO_ATTACH_REUSEPORT_EBPF, fd), -EINVAL);
  int two[2] = {fd, 0};
  EXPECT_EQ(Set(fd, SO_ATTACH_BPF, two, sizeof two), -EINVAL);
  // A locked socket refuses every program.
  ASSERT_EQ(SetInt(fd, SO_LOCK_FILTER, 1), 0);
  EXPECT_EQ(Set(fd, SO_ATTACH_FILTER, &one, sizeof one), -EPERM);
  EXPECT_EQ(Set(fd, SO_ATTACH_FILTER, &empty, sizeof empty), -EPERM);
  EXPECT_EQ(SetInt(fd, SO_ATTACH_BPF, fd), -EPERM);
  EXPECT_EQ(SetInt(fd, SO_ATTACH_REUSEPORT_EBPF, -1), -EPERM);
}

// A valid classic program attaches in Linux; shunt has no socket filters
// (docs/DIFFERENCES.md 13).
TEST_P(FixedOptions, ValidFilterIsNotSupported) {
  const int fd = Socket(SOCK_DGRAM);
  sock_filter accept_all{BPF_RET | BPF_K, 0, 0, 0xffff};
  sock_fprog one{1, &accept_all};
  const int rc = Set(fd, SO_ATTACH_FILTER, &one, sizeof one);
  if (OnShunt()) {
    EXPECT_EQ(rc, -EOPNOTSUPP);
  } else {
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(SetInt(fd, SO_DETACH_FILTER, 0), 0);
  }
}

SHUNT_BOTH_BACKENDS(FixedOptions);

// ---------------------------------------------------------------------------
class ValueOptions : public GenericOptions {};

TEST_P(ValueOptions, MarkAndIncomingCpuHoldAnyInt) {
  for (const int fd : EachType()) {
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_MARK), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_INCOMING_CPU), -1);
    for (int v : {7, -1, 65537, 0}) {
      ASSERT_EQ(SetInt(fd, SO_MARK, v), 0);
      EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_MARK), v);
      ASSERT_EQ(SetInt(fd, SO_INCOMING_CPU, v), 0);
      EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_INCOMING_CPU), v);
    }
  }
}

// SO_BUSY_POLL takes any non-negative value; SO_BUSY_POLL_BUDGET 0..65535
// and cannot be read back.
TEST_P(ValueOptions, BusyPolling) {
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUSY_POLL), 0);
  ASSERT_EQ(SetInt(fd, SO_BUSY_POLL, 65537), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUSY_POLL), 65537);
  EXPECT_EQ(SetInt(fd, SO_BUSY_POLL, -1), -EINVAL);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUSY_POLL), 65537);
  for (int v : {0, 8, 65535}) EXPECT_EQ(SetInt(fd, SO_BUSY_POLL_BUDGET, v), 0);
  EXPECT_EQ(SetInt(fd, SO_BUSY_POLL_BUDGET, 65536), -EINVAL);
  EXPECT_EQ(SetInt(fd, SO_BUSY_POLL_BUDGET, -1), -EINVAL);
}

// An unsigned long when the buffer has room for one, else 32 bits (~0
// meaning unlimited either way).
TEST_P(ValueOptions, MaxPacingRateLengths) {
  const int fd = Socket(SOCK_DGRAM);
  Got g = Get(fd, SO_MAX_PACING_RATE, 16);
  EXPECT_EQ(g.len, 8u);
  EXPECT_EQ(g.bytes, std::string(8, '\xff'));
  EXPECT_EQ(Get(fd, SO_MAX_PACING_RATE, 7).bytes, std::string(4, '\xff'));
  const uint64_t big = 0x123456789ULL;
  ASSERT_EQ(Set(fd, SO_MAX_PACING_RATE, &big, sizeof big), 0);
  g = Get(fd, SO_MAX_PACING_RATE, 8);
  uint64_t got = 0;
  memcpy(&got, g.bytes.data(), sizeof got);
  EXPECT_EQ(got, big);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_MAX_PACING_RATE), -1);  // clamped
  ASSERT_EQ(SetInt(fd, SO_MAX_PACING_RATE, -2), 0);
  g = Get(fd, SO_MAX_PACING_RATE, 8);
  memcpy(&got, g.bytes.data(), sizeof got);
  EXPECT_EQ(got, 0xfffffffeULL);
  ASSERT_EQ(SetInt(fd, SO_MAX_PACING_RATE, -1), 0);
  g = Get(fd, SO_MAX_PACING_RATE, 8);
  memcpy(&got, g.bytes.data(), sizeof got);
  EXPECT_EQ(got, ~uint64_t{0});
}

// SO_SNDBUF and SO_RCVBUF (and their FORCE variants) set the lock bits
// SO_BUF_LOCK reports; SO_BUF_LOCK sets them directly.
TEST_P(ValueOptions, BufLockBits) {
  for (const int fd : EachType()) {
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUF_LOCK), 0);
    ASSERT_EQ(SetInt(fd, SO_SNDBUF, 100000), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUF_LOCK), SOCK_SNDBUF_LOCK);
    ASSERT_EQ(SetInt(fd, SO_RCVBUF, 100000), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUF_LOCK),
              SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK);
    ASSERT_EQ(SetInt(fd, SO_BUF_LOCK, 0), 0);
    ASSERT_EQ(SetInt(fd, SO_RCVBUFFORCE, 100000), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUF_LOCK), SOCK_RCVBUF_LOCK);
    for (int bad : {4, 7, -1}) EXPECT_EQ(SetInt(fd, SO_BUF_LOCK, bad), -EINVAL);
    ASSERT_EQ(SetInt(fd, SO_BUF_LOCK, 3), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BUF_LOCK), 3);
    // The lock does not stop a later size change.
    ASSERT_EQ(SetInt(fd, SO_SNDBUF, 0), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_SNDBUF), kMinSndbuf);
  }
}

// struct sock_txtime, exactly: a clock of REALTIME, MONOTONIC or TAI and
// the two flags.
TEST_P(ValueOptions, Txtime) {
  const int fd = Socket(SOCK_DGRAM);
  Got g = Get(fd, SO_TXTIME, 16);
  EXPECT_EQ(g.len, sizeof(sock_txtime));
  EXPECT_EQ(g.bytes, std::string(8, '\0'));
  sock_txtime t{CLOCK_MONOTONIC, SOF_TXTIME_DEADLINE_MODE};
  ASSERT_EQ(Set(fd, SO_TXTIME, &t, sizeof t), 0);
  g = Get(fd, SO_TXTIME, 8);
  sock_txtime back{};
  memcpy(&back, g.bytes.data(), sizeof back);
  EXPECT_EQ(back.clockid, CLOCK_MONOTONIC);
  EXPECT_EQ(back.flags, uint32_t{SOF_TXTIME_DEADLINE_MODE});
  EXPECT_EQ(Get(fd, SO_TXTIME, 4).len, 4u);
  t = {CLOCK_TAI, SOF_TXTIME_REPORT_ERRORS};
  EXPECT_EQ(Set(fd, SO_TXTIME, &t, sizeof t), 0);
  t = {CLOCK_BOOTTIME, 0};
  EXPECT_EQ(Set(fd, SO_TXTIME, &t, sizeof t), -EINVAL);
  t = {CLOCK_TAI, 4};
  EXPECT_EQ(Set(fd, SO_TXTIME, &t, sizeof t), -EINVAL);
  t = {CLOCK_REALTIME, 0};
  EXPECT_EQ(Set(fd, SO_TXTIME, &t, 12), -EINVAL);
  EXPECT_EQ(SetInt(fd, SO_TXTIME, CLOCK_MONOTONIC), -EINVAL);
  g = Get(fd, SO_TXTIME, 8);
  memcpy(&back, g.bytes.data(), sizeof back);
  EXPECT_EQ(back.clockid, CLOCK_TAI);
  EXPECT_EQ(back.flags, uint32_t{SOF_TXTIME_REPORT_ERRORS});
}

SHUNT_BOTH_BACKENDS(ValueOptions);

// ---------------------------------------------------------------------------
class TimestampOptions : public GenericOptions {
 protected:
  // SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW,
  // SO_TIMESTAMPNS_NEW as read back.
  std::vector<int> Flags(int fd) {
    std::vector<int> out;
    for (int opt : {SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW,
                    SO_TIMESTAMPNS_NEW})
      out.push_back(GetIntOption(fd, SOL_SOCKET, opt));
    return out;
  }
  int Tsflags(int fd, int name) {
    const Got g = Get(fd, name, 16);
    EXPECT_EQ(g.len, sizeof(so_timestamping));
    so_timestamping ts{};
    memcpy(&ts, g.bytes.data(), std::min(g.bytes.size(), sizeof ts));
    EXPECT_EQ(ts.bind_phc, 0);
    return ts.flags;
  }
};

// sock_set_timestamp: one receive timestamp at a time, in seconds or
// nanoseconds, old or new layout. The new names read 1 whenever the new
// layout is chosen; an old name switches the layout back.
TEST_P(TimestampOptions, OneKindAtATime) {
  const int fd = Socket(SOCK_DGRAM);
  using V = std::vector<int>;
  EXPECT_EQ(Flags(fd), (V{0, 0, 0, 0}));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMP_OLD, 1), 0);
  EXPECT_EQ(Flags(fd), (V{1, 0, 0, 0}));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPNS_OLD, 5), 0);
  EXPECT_EQ(Flags(fd), (V{0, 1, 0, 0}));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMP_NEW, 1), 0);
  EXPECT_EQ(Flags(fd), (V{0, 0, 1, 0}));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPNS_NEW, 1), 0);
  EXPECT_EQ(Flags(fd), (V{0, 0, 1, 1}));
  // Switching off keeps the layout; SO_TIMESTAMPING_OLD picks the old one.
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMP_OLD, 0), 0);
  EXPECT_EQ(Flags(fd), (V{0, 0, 0, 0}));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPNS_NEW, 1), 0);
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPING_OLD, 0), 0);
  EXPECT_EQ(Flags(fd), (V{0, 1, 0, 0}));
}

// sock_set_timestamping: the flags (an int, or struct so_timestamping when
// optlen is exactly its size), checked; the new name reads back only what
// was set through it.
TEST_P(TimestampOptions, TimestampingFlags) {
  const int fd = Socket(SOCK_SEQPACKET);
  const int sw = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE;
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_OLD), 0);
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPING_OLD, sw), 0);
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_OLD), sw);
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_NEW), 0);
  EXPECT_EQ(Get(fd, SO_TIMESTAMPING_OLD, 3).bytes,
            std::string("\x18\x00\x00", 3));
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMPING_NEW, SOF_TIMESTAMPING_SOFTWARE), 0);
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_NEW), SOF_TIMESTAMPING_SOFTWARE);
  // SO_TIMESTAMP with 0 leaves the layout alone, with 1 picks the old one.
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMP_OLD, 0), 0);
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_NEW), SOF_TIMESTAMPING_SOFTWARE);
  ASSERT_EQ(SetInt(fd, SO_TIMESTAMP_OLD, 1), 0);
  EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_NEW), 0);
  // The struct with a clock index but no SOF_TIMESTAMPING_BIND_PHC, and
  // lengths that are not the struct's, use the flags only.
  so_timestamping ts{SOF_TIMESTAMPING_SOFTWARE, 3};
  for (socklen_t len : {8u, 6u, 12u}) {
    ASSERT_EQ(Set(fd, SO_TIMESTAMPING_OLD, &ts, len), 0);
    EXPECT_EQ(Tsflags(fd, SO_TIMESTAMPING_OLD), SOF_TIMESTAMPING_SOFTWARE);
  }
  const int opt_id = SOF_TIMESTAMPING_OPT_ID;
  for (int bad :
       {1 << 19, -1, 1 << 16 /* OPT_ID_TCP */, int{SOF_TIMESTAMPING_OPT_STATS}})
    EXPECT_EQ(SetInt(fd, SO_TIMESTAMPING_OLD, bad), -EINVAL) << bad;
  for (int good :
       {(1 << 16) | opt_id, 1 << 17, 1 << 18,
        int{SOF_TIMESTAMPING_OPT_STATS | SOF_TIMESTAMPING_OPT_TSONLY}})
    EXPECT_EQ(SetInt(fd, SO_TIMESTAMPING_OLD, good), 0) << good;
  // A clock to bind needs a device bound.
  EXPECT_EQ(SetInt(fd, SO_TIMESTAMPING_OLD, SOF_TIMESTAMPING_BIND_PHC),
            -EOPNOTSUPP);
}

// Linux stamps a datagram or seqpacket receive when the receiver asked;
// shunt does not (docs/DIFFERENCES.md 13). Stream receives get none in
// either.
TEST_P(TimestampOptions, ReceiveTimestampsDifferAsDocumented) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetInt(sv[1], SO_TIMESTAMP, 1), 0);
    SendAll(sv[0], "t");
    const Read r = RecvWithControl(sv[1], 1, 0, 256);
    ASSERT_EQ(r.rc, 1);
    const bool stamped = type != SOCK_STREAM && !OnShunt();
    EXPECT_EQ(r.controllen, stamped ? CMSG_SPACE(sizeof(timeval)) : 0u);
  }
}

SHUNT_BOTH_BACKENDS(TimestampOptions);

// ---------------------------------------------------------------------------
class DeviceBindingOptions : public GenericOptions {};

// sock_bindtoindex: any index, not checked; negative is EINVAL.
TEST_P(DeviceBindingOptions, BindToIndex) {
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BINDTOIFINDEX), 0);
  ASSERT_EQ(SetInt(fd, SO_BINDTOIFINDEX, 9999), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BINDTOIFINDEX), 9999);
  // No such device to name.
  EXPECT_EQ(Get(fd, SO_BINDTODEVICE, IFNAMSIZ).err, ENODEV);
  EXPECT_EQ(SetInt(fd, SO_BINDTOIFINDEX, -1), -EINVAL);
  ASSERT_EQ(SetInt(fd, SO_BINDTOIFINDEX, 0), 0);
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BINDTOIFINDEX), 0);
}

// sock_setbindtodevice / sock_getbindtodevice: a name (up to 15 bytes
// read), "" to unbind; the name and its NUL come back in a buffer of at
// least IFNAMSIZ, nothing at all for an unbound socket.
TEST_P(DeviceBindingOptions, BindToDeviceByName) {
  for (const int fd : EachType()) {
    Got g = Get(fd, SO_BINDTODEVICE, IFNAMSIZ);
    EXPECT_EQ(g.rc, 0);
    EXPECT_EQ(g.len, 0u);
    EXPECT_EQ(Set(fd, SO_BINDTODEVICE, "nosuchdev", 9), -ENODEV);
    EXPECT_EQ(Set(fd, SO_BINDTODEVICE, "loXXXXXXXXXXXXXXXXX", 20), -ENODEV);
    ASSERT_EQ(Set(fd, SO_BINDTODEVICE, "lo", 2), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BINDTOIFINDEX),
              static_cast<int>(if_nametoindex("lo")));
    g = Get(fd, SO_BINDTODEVICE, 100);
    EXPECT_EQ(g.rc, 0);
    EXPECT_EQ(g.bytes, std::string("lo", 3));
    EXPECT_EQ(Get(fd, SO_BINDTODEVICE, IFNAMSIZ - 1).err, EINVAL);
    ASSERT_EQ(Set(fd, SO_BINDTODEVICE, "lo\0ignored-after-15", 20), 0);
    ASSERT_EQ(Set(fd, SO_BINDTODEVICE, "", 1), 0);
    EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_BINDTOIFINDEX), 0);
    EXPECT_EQ(Set(fd, SO_BINDTODEVICE, "lo", -1), -EINVAL);
  }
}

SHUNT_BOTH_BACKENDS(DeviceBindingOptions);

// ---------------------------------------------------------------------------
class PrivilegedOptions : public GenericOptions {};

// What an unprivileged process may not do (here: uid 65534 without
// capabilities; shunt checks uid 0, DIFFERENCES.md 2).
TEST_P(PrivilegedOptions, RefusedWithoutPrivilege) {
  int sv[2];
  Pair(SOCK_DGRAM, sv);
  ASSERT_EQ(SetInt(sv[0], SO_BUSY_POLL_BUDGET, 8), 0);
  ASSERT_EQ(SetInt(sv[1], SO_BINDTOIFINDEX, 1), 0);
  const int status = RunAsNobody([&] {
    const int fd = sv[0];
    if (SetInt(fd, SO_DEBUG, 1) != -EACCES || SetInt(fd, SO_DEBUG, 0) != 0)
      return 1;
    if (SetInt(fd, SO_MARK, 0) != -EPERM) return 2;
    if (SetInt(fd, SO_PREFER_BUSY_POLL, 1) != -EPERM ||
        SetInt(fd, SO_PREFER_BUSY_POLL, 0) != 0)
      return 3;
    // The budget may only go down.
    if (SetInt(fd, SO_BUSY_POLL_BUDGET, 9) != -EPERM ||
        SetInt(fd, SO_BUSY_POLL_BUDGET, 7) != 0 ||
        SetInt(fd, SO_BUSY_POLL_BUDGET, 8) != -EPERM ||
        SetInt(fd, SO_BUSY_POLL_BUDGET, -1) != -EINVAL)
      return 4;
    if (SetInt(fd, SO_BUSY_POLL, 100) != 0) return 5;
    sock_txtime t{CLOCK_MONOTONIC, 0};
    if (Set(fd, SO_TXTIME, &t, sizeof t) != 0) return 6;
    t.clockid = CLOCK_TAI;
    if (Set(fd, SO_TXTIME, &t, sizeof t) != -EPERM) return 7;
    t.flags = 4;
    if (Set(fd, SO_TXTIME, &t, sizeof t) != -EINVAL) return 8;
    // Binding an unbound socket is allowed, changing a binding is not.
    if (SetInt(fd, SO_BINDTOIFINDEX, 1) != 0 ||
        SetInt(fd, SO_BINDTOIFINDEX, 0) != -EPERM ||
        SetInt(fd, SO_BINDTOIFINDEX, -1) != -EPERM)
      return 9;
    if (Set(sv[1], SO_BINDTODEVICE, "nosuchdev", 9) != -ENODEV ||
        Set(sv[1], SO_BINDTODEVICE, "", 1) != -EPERM)
      return 10;
    // The rest needs nothing.
    for (int opt : {SO_NO_CHECK, SO_RXQ_OVFL, SO_RCVMARK, SO_PASSSEC,
                    SO_INCOMING_CPU, SO_MAX_PACING_RATE, SO_LOCK_FILTER})
      if (SetInt(fd, opt, 1) != 0) return 11;
    return 0;
  });
  EXPECT_EQ(status, 0);
}

SHUNT_BOTH_BACKENDS(PrivilegedOptions);

// ---------------------------------------------------------------------------
class IdentityOptions : public GenericOptions {
 protected:
  uint64_t Cookie(int fd, int name = SO_COOKIE) {
    const Got g = Get(fd, name, 8);
    EXPECT_EQ(g.rc, 0) << strerror(g.err);
    uint64_t c = 0;
    memcpy(&c, g.bytes.data(), std::min(g.bytes.size(), sizeof c));
    return c;
  }
};

// A 64-bit number of its own per socket, the same every time; at least 8
// bytes to hold it.
TEST_P(IdentityOptions, CookieIsUniqueAndStable) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  const int fd = Socket(SOCK_DGRAM);
  const uint64_t a = Cookie(sv[0]), b = Cookie(sv[1]), c = Cookie(fd);
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(b, c);
  EXPECT_EQ(Cookie(sv[0]), a);
  const int dup = Track(api().dup(sv[0]));
  EXPECT_EQ(Cookie(dup), a);
  EXPECT_EQ(Get(fd, SO_COOKIE, 7).err, EINVAL);
  EXPECT_EQ(Get(fd, SO_COOKIE, 0).err, EINVAL);
  EXPECT_EQ(Get(fd, SO_COOKIE, 9).len, 8u);
  EXPECT_EQ(SetInt(fd, SO_COOKIE, 1), -ENOPROTOOPT);
}

// The network namespace's cookie: the same for every socket of the
// process, and only into exactly 8 bytes.
TEST_P(IdentityOptions, NetnsCookie) {
  const int a = Socket(SOCK_STREAM);
  const int b = Socket(SOCK_DGRAM);
  EXPECT_EQ(Cookie(a, SO_NETNS_COOKIE), Cookie(b, SO_NETNS_COOKIE));
  for (socklen_t len : {0u, 4u, 9u})
    EXPECT_EQ(Get(a, SO_NETNS_COOKIE, len).err, EINVAL) << len;
}

// sk_getsockopt's SO_PEERNAME: the peer's name as getpeername gives it,
// but a buffer longer than the name is refused and a shorter one gets its
// start; ENOTCONN without a peer.
TEST_P(IdentityOptions, PeerName) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  EXPECT_EQ(Get(sv[0], SO_PEERNAME, 2).bytes, std::string("\x01\x00", 2));
  EXPECT_EQ(Get(sv[0], SO_PEERNAME, 1).bytes, std::string("\x01", 1));
  EXPECT_EQ(Get(sv[0], SO_PEERNAME, 0).len, 0u);
  EXPECT_EQ(Get(sv[0], SO_PEERNAME, 3).err, EINVAL);
  EXPECT_EQ(Get(sv[0], SO_PEERNAME, 200).err, EINVAL);
  // A connected datagram socket and a path name.
  const sockaddr_un path = TempAddr("peer");
  const int named = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(named, path), 0);
  const int client = Socket(SOCK_DGRAM);
  ASSERT_EQ(Connect(client, path), 0);
  const socklen_t full =
      offsetof(sockaddr_un, sun_path) + strlen(path.sun_path) + 1;
  Got g = Get(client, SO_PEERNAME, full);
  EXPECT_EQ(g.rc, 0);
  EXPECT_EQ(g.bytes, Bytes(&path, full));
  EXPECT_EQ(Get(client, SO_PEERNAME, full - 1).bytes, Bytes(&path, full - 1));
  EXPECT_EQ(Get(client, SO_PEERNAME, full + 1).err, EINVAL);
  EXPECT_EQ(Get(named, SO_PEERNAME, 2).err, ENOTCONN);
  // A listener has no peer; its client has the listener's name.
  const sockaddr_un lpath = TempAddr("listener");
  const int listener = Socket(SOCK_SEQPACKET);
  ASSERT_EQ(Bind(listener, lpath), 0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  const int conn = Socket(SOCK_SEQPACKET);
  ASSERT_EQ(Connect(conn, lpath), 0);
  EXPECT_EQ(Get(listener, SO_PEERNAME, 2).err, ENOTCONN);
  EXPECT_EQ(Get(conn, SO_PEERNAME, 4).bytes, Bytes(&lpath, 4));
  const int server = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(server, 0);
  EXPECT_EQ(Get(server, SO_PEERNAME, 2).bytes, std::string("\x01\x00", 2));
  EXPECT_EQ(Get(server, SO_PEERNAME, 3).err, EINVAL);
}

SHUNT_BOTH_BACKENDS(IdentityOptions);

// ---------------------------------------------------------------------------
class MemInfoOption : public GenericOptions {
 protected:
  std::vector<uint32_t> MemInfo(int fd) {
    const Got g = Get(fd, SO_MEMINFO, 64);
    EXPECT_EQ(g.len, SK_MEMINFO_VARS * sizeof(uint32_t));
    std::vector<uint32_t> m(SK_MEMINFO_VARS);
    memcpy(m.data(), g.bytes.data(),
           std::min(g.bytes.size(), m.size() * sizeof(uint32_t)));
    return m;
  }
};

// sk_get_meminfo: nine counters. AF_UNIX charges queued data to the
// sender, whose allocation is what SIOCOUTQ reports (for a stream socket
// both count payload in shunt, DIFFERENCES.md 1); the receiver has none.
TEST_P(MemInfoOption, BuffersAndSendAllocation) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetInt(sv[0], SO_SNDBUF, 50000), 0);
    std::vector<uint32_t> m = MemInfo(sv[0]);
    EXPECT_EQ(m[SK_MEMINFO_RCVBUF], static_cast<uint32_t>(GetIntOption(
                                        sv[0], SOL_SOCKET, SO_RCVBUF)));
    EXPECT_EQ(m[SK_MEMINFO_SNDBUF], 100000u);
    EXPECT_EQ(m[SK_MEMINFO_WMEM_ALLOC], 0u);
    SendAll(sv[0], "hello");
    m = MemInfo(sv[0]);
    int outq = -1;
    ASSERT_EQ(api().ioctl(sv[0], SIOCOUTQ, &outq), 0);
    EXPECT_GT(m[SK_MEMINFO_WMEM_ALLOC], 0u);
    EXPECT_EQ(m[SK_MEMINFO_WMEM_ALLOC], static_cast<uint32_t>(outq));
    for (int i :
         {SK_MEMINFO_RMEM_ALLOC, SK_MEMINFO_FWD_ALLOC, SK_MEMINFO_WMEM_QUEUED,
          SK_MEMINFO_OPTMEM, SK_MEMINFO_BACKLOG, SK_MEMINFO_DROPS})
      EXPECT_EQ(m[i], 0u) << i;
    EXPECT_EQ(MemInfo(sv[1])[SK_MEMINFO_WMEM_ALLOC], 0u);
    EXPECT_EQ(MemInfo(sv[1])[SK_MEMINFO_RMEM_ALLOC], 0u);
  }
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(Get(fd, SO_MEMINFO, 35).len, 35u);
  EXPECT_EQ(Get(fd, SO_MEMINFO, 0).len, 0u);
}

SHUNT_BOTH_BACKENDS(MemInfoOption);

// ---------------------------------------------------------------------------
class PeerGroupsOption : public GenericOptions {};

// The peer's supplementary groups as SO_PEERCRED's credentials were
// captured (socketpair, connect, listen), ascending; ERANGE and the
// length needed when they do not fit; ENODATA without a peer.
TEST_P(PeerGroupsOption, CapturedWithTheCredentials) {
  int before[2];
  Pair(SOCK_STREAM, before);
  EXPECT_EQ(Get(Socket(SOCK_DGRAM), SO_PEERGROUPS, 64).err, ENODATA);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);
    const gid_t groups[] = {30, 10, 20};
    if (setgroups(3, groups) != 0) _exit(100);
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      int sv[2];
      if (api().socketpair(AF_UNIX, type, 0, sv) != 0) _exit(101);
      gid_t got[8] = {};
      socklen_t len = 11;
      if (api().getsockopt(sv[0], SOL_SOCKET, SO_PEERGROUPS, got, &len) != -1 ||
          errno != ERANGE || len != 12 || got[0] != 0)
        _exit(1);
      len = sizeof got;
      if (api().getsockopt(sv[1], SOL_SOCKET, SO_PEERGROUPS, got, &len) != 0 ||
          len != 12 || got[0] != 10 || got[1] != 20 || got[2] != 30)
        _exit(2);
      api().close(sv[0]);
      api().close(sv[1]);
    }
    // A pair made before keeps the groups it was made with (none).
    gid_t got[8];
    socklen_t len = sizeof got;
    if (api().getsockopt(before[0], SOL_SOCKET, SO_PEERGROUPS, got, &len) !=
            0 ||
        len != 0)
      _exit(3);
    exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_P(PeerGroupsOption, ListenerAndConnection) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, a), 0);
  EXPECT_EQ(Get(listener, SO_PEERGROUPS, 64).err, ENODATA);
  ASSERT_EQ(api().listen(listener, 4), 0);
  // This process has no supplementary groups.
  Got g = Get(listener, SO_PEERGROUPS, 64);
  EXPECT_EQ(g.rc, 0);
  EXPECT_EQ(g.len, 0u);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(Connect(client, a), 0);
  g = Get(client, SO_PEERGROUPS, 0);
  EXPECT_EQ(g.rc, 0);
  EXPECT_EQ(g.len, 0u);
  socklen_t len = static_cast<socklen_t>(-1);
  gid_t got;
  errno = 0;
  EXPECT_EQ(api().getsockopt(client, SOL_SOCKET, SO_PEERGROUPS, &got, &len),
            -1);
  EXPECT_EQ(errno, EINVAL);
}

SHUNT_BOTH_BACKENDS(PeerGroupsOption);

// ---------------------------------------------------------------------------
class PassRightsOption : public GenericOptions {};

// Linux 6.16+: a receiver with kSoPassRights off refuses descriptors with
// EPERM (the sender's own setting does not matter); plain data passes.
TEST_P(PassRightsOption, ReceiverRefusesDescriptors) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetInt(sv[1], kSoPassRights, 0), 0);
    errno = 0;
    EXPECT_EQ(
        shunt_test::SendRights(api().sendmsg, sv[0], {sv[0]}, MSG_DONTWAIT),
        -1);
    EXPECT_EQ(errno, EPERM);
    char c;
    errno = 0;
    EXPECT_EQ(api().recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EAGAIN);
    SendAll(sv[0], "x");
    EXPECT_EQ(RecvString(sv[1], 1), "x");
    ASSERT_EQ(SetInt(sv[0], kSoPassRights, 0), 0);
    ASSERT_EQ(SetInt(sv[1], kSoPassRights, 1), 0);
    EXPECT_EQ(
        shunt_test::SendRights(api().sendmsg, sv[1], {sv[0]}, MSG_DONTWAIT),
        -1);
    EXPECT_EQ(shunt_test::SendRights(api().sendmsg, sv[0], {sv[0]}), 1);
    const std::vector<int> passed =
        shunt_test::RecvRights(api().recvmsg, sv[1], 1);
    ASSERT_EQ(passed.size(), 1u);
    Track(passed[0]);
  }
}

// The receiver's shutdown comes first (EPIPE), and the descriptors are
// not the cause of it.
TEST_P(PassRightsOption, ShutdownComesFirst) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetInt(sv[1], kSoPassRights, 0), 0);
    ASSERT_EQ(api().shutdown(sv[1], SHUT_RD), 0);
    errno = 0;
    EXPECT_EQ(shunt_test::SendRights(api().sendmsg, sv[0], {sv[0]},
                                     MSG_NOSIGNAL | MSG_DONTWAIT),
              -1);
    EXPECT_EQ(errno, EPIPE);
  }
}

// A connection takes the listener's setting as of its connect: sending
// to the embryo is refused before it is accepted.
TEST_P(PassRightsOption, ConnectionTakesTheListenersSetting) {
  const sockaddr_un a = TempAddr("l");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, a), 0);
  ASSERT_EQ(api().listen(listener, 4), 0);
  ASSERT_EQ(SetInt(listener, kSoPassRights, 0), 0);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(Connect(client, a), 0);
  ASSERT_EQ(SetInt(listener, kSoPassRights, 1), 0);
  errno = 0;
  EXPECT_EQ(
      shunt_test::SendRights(api().sendmsg, client, {client}, MSG_DONTWAIT),
      -1);
  EXPECT_EQ(errno, EPERM);
  const int server = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(server, 0);
  EXPECT_EQ(GetIntOption(server, SOL_SOCKET, kSoPassRights), 0);
}

SHUNT_BOTH_BACKENDS(PassRightsOption);

// ---------------------------------------------------------------------------
class InqOption : public GenericOptions {};

// net/unix/af_unix.c: unix_setsockopt: stream sockets only, 0 or 1, and
// it cannot be read back.
TEST_P(InqOption, StreamOnly) {
  const int stream = Socket(SOCK_STREAM);
  EXPECT_EQ(SetInt(stream, kSoInq, 1), 0);
  EXPECT_EQ(SetInt(stream, kSoInq, 0), 0);
  for (int bad : {2, -1}) EXPECT_EQ(SetInt(stream, kSoInq, bad), -EINVAL);
  EXPECT_EQ(Set(stream, kSoInq, "\1\0\0", 3), -EINVAL);
  EXPECT_EQ(Get(stream, kSoInq, 4).err, ENOPROTOOPT);
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET})
    EXPECT_EQ(SetInt(Socket(type), kSoInq, 1), -ENOPROTOOPT);
}

// unix_stream_read_generic: after each read, the bytes left to read
// (SCM_INQ), after any credentials; a peek leaves them all; an urgent read
// reports none; a read with no room for it is MSG_CTRUNC.
TEST_P(InqOption, EachReadReportsWhatIsLeft) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetInt(sv[1], kSoInq, 1), 0);
  using C = std::vector<std::pair<int, int>>;
  SendAll(sv[0], "hello");
  SendAll(sv[0], "world");
  Read r = RecvWithControl(sv[1], 2, MSG_PEEK);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.cmsgs, (C{{kSoInq, 10}}));
  r = RecvWithControl(sv[1], 3, 0);
  EXPECT_EQ(r.cmsgs, (C{{kSoInq, 7}}));
  r = RecvWithControl(sv[1], 2, 0, 0);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.flags & MSG_CTRUNC, MSG_CTRUNC);
  r = RecvWithControl(sv[1], 64, 0);
  EXPECT_EQ(r.rc, 5);
  EXPECT_EQ(r.cmsgs, (C{{kSoInq, 0}}));
  ASSERT_EQ(SetInt(sv[1], SO_PASSCRED, 1), 0);
  SendAll(sv[0], "ab");
  r = RecvWithControl(sv[1], 1, 0);
  ASSERT_EQ(r.cmsgs.size(), 2u);
  EXPECT_EQ(r.cmsgs[0].first, SCM_CREDENTIALS);
  EXPECT_EQ(r.cmsgs[1], std::make_pair(kSoInq, 1));
  ASSERT_EQ(SetInt(sv[1], SO_PASSCRED, 0), 0);
  ASSERT_EQ(api().send(sv[0], "xyz", 3, MSG_OOB), 3);
  r = RecvWithControl(sv[1], 1, MSG_OOB);
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.cmsgs.empty());
  r = RecvWithControl(sv[1], 64, 0);
  EXPECT_EQ(r.rc, 3);  // "b" and "xy"
  EXPECT_EQ(r.cmsgs, (C{{kSoInq, 0}}));
  // End of file is a read too.
  ASSERT_EQ(api().shutdown(sv[0], SHUT_WR), 0);
  r = RecvWithControl(sv[1], 64, 0);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.cmsgs, (C{{kSoInq, 0}}));
  // Switched off, nothing.
  ASSERT_EQ(SetInt(sv[1], kSoInq, 0), 0);
  r = RecvWithControl(sv[1], 64, 0);
  EXPECT_TRUE(r.cmsgs.empty());
}

// put_cmsg: no control buffer is truncation, whatever msg_controllen says.
TEST_P(InqOption, NullBufferWithALengthIsTruncation) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  ASSERT_EQ(SetInt(sv[1], kSoInq, 1), 0);
  SendAll(sv[0], "abc");
  char buf[8];
  iovec iov{buf, sizeof buf};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_controllen = 64;  // and msg_control null
  EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_DONTWAIT), 3);
  EXPECT_EQ(mh.msg_flags, MSG_CTRUNC);
  EXPECT_EQ(mh.msg_controllen, 0u);
}

// A read whose wait a handled signal ends returns what it copied with no
// control data at all: unix_stream_read_generic destroys its scm_cookie
// there, skipping the SO_INQ report too. With SA_RESTART as without.
TEST_P(InqOption, ReadEndedBySignalReportsNothing) {
  for (int sa_flags : {0, SA_RESTART}) {
    SCOPED_TRACE(sa_flags);
    shunt_test::ScopedUsr1Counter handler(sa_flags);
    int sv[2];
    Pair(SOCK_STREAM, sv);
    ASSERT_EQ(SetInt(sv[1], kSoInq, 1), 0);
    SendAll(sv[0], "abc");
    const pthread_t self = pthread_self();
    std::atomic<bool> done{false};
    shunt_test::Later killer(100, [&] {
      pthread_kill(self, SIGUSR1);
      for (int i = 0; i < 200 && !done; ++i) shunt_test::SleepMs(10);
      if (!done) SendAll(sv[0], "0123456");  // a missed signal: finish
    });
    char buf[10];
    alignas(cmsghdr) char control[64];
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    EXPECT_EQ(api().recvmsg(sv[1], &mh, MSG_WAITALL), 3);
    done = true;
    EXPECT_EQ(handler.count(), 1);
    EXPECT_EQ(mh.msg_controllen, 0u);
  }
}

SHUNT_BOTH_BACKENDS(InqOption);

// ---------------------------------------------------------------------------
class PassSecOption : public GenericOptions {};

// With no security module that labels sockets, SO_PASSSEC is a flag that
// brings no SCM_SECURITY message.
TEST_P(PassSecOption, NoSecurityContextIsDelivered) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    int sv[2];
    Pair(type, sv);
    ASSERT_EQ(SetInt(sv[1], SO_PASSSEC, 1), 0);
    SendAll(sv[0], "q");
    const Read r = RecvWithControl(sv[1], 1, 0, 256);
    ASSERT_EQ(r.rc, 1);
    EXPECT_EQ(r.controllen, 0u);
    EXPECT_EQ(Get(sv[1], SO_PEERSEC, 64).err, ENOPROTOOPT);
  }
}

// __scm_recv_common: with no control buffer, a receiver that passes
// security data gets MSG_CTRUNC on every read, as one that passes
// credentials does; so does one with a buffer length but no buffer.
TEST_P(PassSecOption, NoControlBufferIsTruncation) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    Pair(type, sv);
    SendAll(sv[0], "q");
    EXPECT_EQ(RecvWithControl(sv[1], 1, 0, 0).flags, 0);
    ASSERT_EQ(SetInt(sv[1], SO_PASSSEC, 1), 0);
    SendAll(sv[0], "r");
    const Read r = RecvWithControl(sv[1], 1, 0, 0);
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.flags, MSG_CTRUNC);
  }
}

SHUNT_BOTH_BACKENDS(PassSecOption);

// ---------------------------------------------------------------------------
class SelectErrQueueOption : public GenericOptions {};

// unix_dgram_poll reports a pending error as POLLERR and, with
// SO_SELECT_ERR_QUEUE, POLLPRI too (select's exception set); unix_poll,
// the stream one, never adds POLLPRI for it.
TEST_P(SelectErrQueueOption, PendingErrorPollsPriOnMessageSockets) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM}) {
    for (int on : {0, 1}) {
      SCOPED_TRACE(std::to_string(type) + (on ? " on" : " off"));
      int sv[2];
      Pair(type, sv);
      ASSERT_EQ(SetInt(sv[1], SO_SELECT_ERR_QUEUE, on), 0);
      // Unread data of sv[1]'s at sv[0] when sv[0] goes: ECONNRESET.
      SendAll(sv[1], "x");
      if (type == SOCK_DGRAM) {
        sockaddr unspec{};
        unspec.sa_family = AF_UNSPEC;
        ASSERT_EQ(api().connect(sv[0], &unspec, sizeof unspec), 0);
      } else {
        ASSERT_EQ(Close(sv[0]), 0);
      }
      pollfd p{sv[1], POLLIN | POLLPRI | POLLOUT, 0};
      ASSERT_EQ(api().poll(&p, 1, 0), 1);
      EXPECT_TRUE(p.revents & POLLERR);
      EXPECT_EQ((p.revents & POLLPRI) != 0, on && type != SOCK_STREAM);
    }
  }
}

SHUNT_BOTH_BACKENDS(SelectErrQueueOption);

}  // namespace

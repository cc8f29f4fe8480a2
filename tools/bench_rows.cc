// The rows of `shunt bench` (issue "shunt bench: shunt against the kernel,
// side by side"). Every batch function is a template over the backend so
// that kernel and shunt run the same loop; see bench.h.

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench.h"
#include "bench_api.h"

namespace shunt_tool {
namespace {

using Clock = std::chrono::steady_clock;

double NsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

std::string Errno(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// ---- CPU placement ---------------------------------------------------------

Placement ComputePlacement() {
  Placement p{0, 0, false};
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return p;
  int found = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    (found == 0 ? p.cpu_a : p.cpu_b) = cpu;
    ++found;
  }
  if (found < 2) p.cpu_b = p.cpu_a;
  p.pinned = found == 2;
  return p;
}

// Pins the calling thread to one CPU; a no-op when pinning is unavailable.
void PinTo(int cpu) {
  if (!CpuPlacement().pinned) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Pins the calling thread for one batch and restores its affinity after.
class ScopedPin {
 public:
  explicit ScopedPin(int cpu) {
    saved_ok_ =
        pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
    PinTo(cpu);
  }
  ~ScopedPin() {
    if (saved_ok_)
      pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
  }
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  cpu_set_t saved_;
  bool saved_ok_;
};

// ---- Helpers ---------------------------------------------------------------

template <typename Api>
bool MakePair(int type, int sv[2], std::string* error) {
  if (Api::socketpair(AF_UNIX, type, 0, sv) < 0) {
    *error = Errno("socketpair");
    return false;
  }
  // A shunt row that silently measured kernel sockets would be worthless.
  if (Api::kIsShunt && !shunt_is_socket(sv[0])) {
    *error = "shunt_socketpair returned a non-shunt descriptor";
    Api::close(sv[0]);
    Api::close(sv[1]);
    return false;
  }
  return true;
}

// Sends or receives exactly n bytes on a blocking stream socket.
template <typename Api>
bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t k = Api::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
template <typename Api>
bool RecvAll(int fd, char* p, size_t n) {
  while (n > 0) {
    const ssize_t k = Api::recv(fd, p, n, 0);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// Runs `one` 64 times untimed (caches, lazily created buffers), then
// `iterations` times timed. Returns ns per iteration, or < 0 on failure.
template <typename One>
double TimeLoop(long iterations, One one) {
  for (int i = 0; i < 64; ++i)
    if (!one()) return -1;
  const Clock::time_point start = Clock::now();
  for (long i = 0; i < iterations; ++i)
    if (!one()) return -1;
  return NsBetween(start, Clock::now()) / static_cast<double>(iterations);
}

// ---- Row 1: same-thread non-blocking send+recv of 64 bytes ----------------

constexpr size_t kSmall = 64;

// How row 1 receives: recv into one buffer, or recvmsg into two halves.
enum class Receive { kRecv, kRecvmsgTwoIovecs };

template <typename Api, int kType, Receive kHow = Receive::kRecv>
bool SameThread64(long iterations, Batch* out, std::string* error) {
  int sv[2];
  if (!MakePair<Api>(kType, sv, error)) return false;
  char msg[kSmall], in[kSmall];
  std::memset(msg, 'x', sizeof msg);
  iovec iov[2] = {{in, kSmall / 2}, {in + kSmall / 2, kSmall / 2}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  const double ns = TimeLoop(iterations, [&] {
    if (Api::send(sv[0], msg, kSmall, MSG_DONTWAIT) != ssize_t{kSmall}) {
      *error = Errno("send");
      return false;
    }
    const ssize_t got = kHow == Receive::kRecv
                            ? Api::recv(sv[1], in, kSmall, MSG_DONTWAIT)
                            : Api::recvmsg(sv[1], &mh, MSG_DONTWAIT);
    if (got != ssize_t{kSmall}) {
      *error = Errno("receive");
      return false;
    }
    return true;
  });
  Api::close(sv[0]);
  Api::close(sv[1]);
  if (ns < 0) return false;
  if (std::memcmp(in, msg, kSmall) != 0) {
    *error = "received bytes differ from sent bytes";
    return false;
  }
  out->value = ns;
  return true;
}

// ---- Rows 2 and 3: ping-pong round trips -----------------------------------

enum class Peer { kThreadOtherCpu, kProcessOtherCpu, kThreadSameCpu };
enum class Wait { kDefault, kBusyPoll };

// The spin budget of the busy-poll rows: long enough to cover a round trip
// on the other CPU, short enough that a lost peer costs little.
constexpr int kBusySpinNs = 200000;

// The echo side: `rounds` times, read 64 bytes and send them back.
template <typename Api>
bool Echo(int fd, long rounds) {
  char buf[kSmall];
  for (long i = 0; i < rounds; ++i) {
    if (!RecvAll<Api>(fd, buf, kSmall) || !SendAll<Api>(fd, buf, kSmall))
      return false;
  }
  return true;
}

template <typename Api, Peer kPeer, Wait kWait>
bool PingPong(long iterations, Batch* out, std::string* error) {
  constexpr long kWarm = 64;
  const Placement& place = CpuPlacement();
  const int echo_cpu =
      kPeer == Peer::kThreadSameCpu ? place.cpu_a : place.cpu_b;
  int sv[2];
  if (!MakePair<Api>(SOCK_STREAM, sv, error)) return false;
  if (kWait == Wait::kBusyPoll && Api::kIsShunt) {
    // The kernel has no busy-poll for AF_UNIX: its side stays blocking.
    for (int fd : sv) {
      if (Api::setsockopt(fd, SOL_SHUNT, SHUNT_SO_SPIN_NS, &kBusySpinNs,
                          sizeof kBusySpinNs) != 0) {
        *error = Errno("setsockopt(SHUNT_SO_SPIN_NS)");
        Api::close(sv[0]);
        Api::close(sv[1]);
        return false;
      }
    }
  }
  const long rounds = kWarm + iterations;
  std::thread echo_thread;
  pid_t child = -1;
  std::atomic<bool> echo_ok{true};
  if (kPeer == Peer::kProcessOtherCpu) {
    std::fflush(nullptr);
    child = fork();
    if (child < 0) {
      *error = Errno("fork");
      Api::close(sv[0]);
      Api::close(sv[1]);
      return false;
    }
    if (child == 0) {
      PinTo(echo_cpu);
      Api::close(sv[0]);
      const bool ok = Echo<Api>(sv[1], rounds);
      Api::close(sv[1]);
      std::exit(ok ? 0 : 1);  // exit, not _exit: shunt closes at exit
    }
    Api::close(sv[1]);
    sv[1] = -1;
  } else {
    echo_thread = std::thread([&] {
      PinTo(echo_cpu);
      echo_ok = Echo<Api>(sv[1], rounds);
    });
  }

  bool ok = true;
  {
    ScopedPin pin(place.cpu_a);
    char msg[kSmall], in[kSmall];
    std::memset(msg, 'p', sizeof msg);
    out->latencies_ns.reserve(static_cast<size_t>(iterations));
    Clock::time_point start{};
    for (long i = 0; i < rounds && ok; ++i) {
      const Clock::time_point t0 = Clock::now();
      if (i == kWarm) start = t0;
      ok = SendAll<Api>(sv[0], msg, kSmall) && RecvAll<Api>(sv[0], in, kSmall);
      if (i >= kWarm) out->latencies_ns.push_back(NsBetween(t0, Clock::now()));
    }
    if (ok)
      out->value = NsBetween(start, Clock::now()) / 1000.0 /
                   static_cast<double>(iterations);
    if (!ok) *error = Errno("ping-pong send/recv");
  }
  // Closing our end first ends a peer stuck after a failure.
  Api::close(sv[0]);
  if (child > 0) {
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      if (ok) *error = "echo process failed";
      ok = false;
    }
  } else {
    echo_thread.join();
    Api::close(sv[1]);
    if (!echo_ok) {
      if (ok) *error = "echo thread failed";
      ok = false;
    }
  }
  return ok;
}

// ---- Row 4: bulk stream throughput ------------------------------------------

// Sender on one CPU writes `iterations` writes of kWrite bytes; the receiver
// on the other reads them in 256 KiB reads. Result in GB/s.
template <typename Api, size_t kWrite>
bool Bulk(long iterations, Batch* out, std::string* error) {
  const Placement& place = CpuPlacement();
  int sv[2];
  if (!MakePair<Api>(SOCK_STREAM, sv, error)) return false;
  const size_t total = kWrite * static_cast<size_t>(iterations);
  std::vector<char> src(kWrite, 'b');
  std::atomic<bool> recv_ok{true};
  std::thread receiver([&] {
    PinTo(place.cpu_b);
    std::vector<char> buf(256 * 1024);
    size_t got = 0;
    while (got < total) {
      const ssize_t k = Api::recv(sv[1], buf.data(), buf.size(), 0);
      if (k <= 0) {
        recv_ok = false;
        return;
      }
      got += static_cast<size_t>(k);
    }
  });
  bool ok = true;
  Clock::time_point start, end;
  {
    ScopedPin pin(place.cpu_a);
    start = Clock::now();
    for (long i = 0; i < iterations && ok; ++i)
      ok = SendAll<Api>(sv[0], src.data(), kWrite);
    if (!ok) *error = Errno("send");
  }
  if (!ok) Api::close(sv[0]);  // frees a receiver waiting for the rest
  receiver.join();
  end = Clock::now();
  if (ok) Api::close(sv[0]);
  Api::close(sv[1]);
  if (ok && !recv_ok) {
    *error = "receiver failed";
    ok = false;
  }
  if (ok) out->value = static_cast<double>(total) / NsBetween(start, end);
  return ok;
}

// ---- Row 5: datagram message rate ------------------------------------------

// One thread sends a burst of 8 datagrams (below this machine's
// net.unix.max_dgram_qlen of 10, so neither side waits) and receives them.
// Result in millions of messages per second.
template <typename Api, size_t kSize>
bool DgramRate(long iterations, Batch* out, std::string* error) {
  constexpr int kBurst = 8;
  int sv[2];
  if (!MakePair<Api>(SOCK_DGRAM, sv, error)) return false;
  std::vector<char> msg(kSize, 'd'), in(kSize);
  const double ns = TimeLoop(iterations, [&] {
    for (int i = 0; i < kBurst; ++i) {
      if (Api::send(sv[0], msg.data(), kSize, MSG_DONTWAIT) !=
          static_cast<ssize_t>(kSize)) {
        *error = Errno("send");
        return false;
      }
    }
    for (int i = 0; i < kBurst; ++i) {
      if (Api::recv(sv[1], in.data(), kSize, MSG_DONTWAIT) !=
          static_cast<ssize_t>(kSize)) {
        *error = Errno("recv");
        return false;
      }
    }
    return true;
  });
  Api::close(sv[0]);
  Api::close(sv[1]);
  if (ns < 0) return false;
  out->value = kBurst * 1000.0 / ns;  // per ns * 1e3 = millions per second
  return true;
}

// ---- Row 6: descriptor passing ----------------------------------------------

enum class Passed { kSocket, kPipe };

// One thread sends a 1-byte message carrying one descriptor (SCM_RIGHTS)
// and receives it; the received copy is closed each time. The descriptor
// passed is a socket of the side's own kind, or a kernel pipe on both
// sides. Result in ns per message.
template <typename Api, Passed kWhat>
bool PassDescriptor(long iterations, Batch* out, std::string* error) {
  int sv[2], payload[2];
  if (!MakePair<Api>(SOCK_STREAM, sv, error)) return false;
  const bool made = kWhat == Passed::kSocket
                        ? Api::socketpair(AF_UNIX, SOCK_STREAM, 0, payload) == 0
                        : pipe(payload) == 0;
  if (!made) {
    *error = Errno("payload descriptor");
    Api::close(sv[0]);
    Api::close(sv[1]);
    return false;
  }
  char byte = 'f';
  iovec send_iov{&byte, 1};
  alignas(cmsghdr) char send_ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr send_mh{};
  send_mh.msg_iov = &send_iov;
  send_mh.msg_iovlen = 1;
  send_mh.msg_control = send_ctl;
  send_mh.msg_controllen = sizeof send_ctl;
  cmsghdr* h = CMSG_FIRSTHDR(&send_mh);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(h), &payload[0], sizeof(int));
  char in;
  iovec recv_iov{&in, 1};
  alignas(cmsghdr) char recv_ctl[CMSG_SPACE(sizeof(int))];
  msghdr recv_mh{};
  recv_mh.msg_iov = &recv_iov;
  recv_mh.msg_iovlen = 1;
  const double ns = TimeLoop(iterations, [&] {
    if (Api::sendmsg(sv[0], &send_mh, MSG_DONTWAIT) != 1) {
      *error = Errno("sendmsg");
      return false;
    }
    recv_mh.msg_control = recv_ctl;
    recv_mh.msg_controllen = sizeof recv_ctl;
    if (Api::recvmsg(sv[1], &recv_mh, MSG_DONTWAIT) != 1) {
      *error = Errno("recvmsg");
      return false;
    }
    const cmsghdr* got = CMSG_FIRSTHDR(&recv_mh);
    if (got == nullptr || got->cmsg_type != SCM_RIGHTS) {
      *error = "no descriptor received";
      return false;
    }
    int fd;
    std::memcpy(&fd, CMSG_DATA(got), sizeof fd);
    return Api::close(fd) == 0;
  });
  Api::close(sv[0]);
  Api::close(sv[1]);
  if (kWhat == Passed::kSocket) {
    Api::close(payload[0]);
    Api::close(payload[1]);
  } else {
    close(payload[0]);
    close(payload[1]);
  }
  if (ns < 0) return false;
  out->value = ns;
  return true;
}

// ---- Row 7: connection set-up
// ------------------------------------------------

// connect + accept + close of both ends on a path-bound listener. Result in
// thousands of connections per second.
template <typename Api>
bool ConnectAccept(long iterations, Batch* out, std::string* error) {
  char dir[] = "/tmp/shunt-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    *error = Errno("mkdtemp");
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/listener", dir);
  const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
  const int listener = Api::socket(AF_UNIX, SOCK_STREAM, 0);
  bool ok = listener >= 0 && Api::bind(listener, sa, sizeof addr) == 0 &&
            Api::listen(listener, 128) == 0;
  if (!ok) *error = Errno("listener");
  if (ok) {
    const double ns = TimeLoop(iterations, [&] {
      const int c = Api::socket(AF_UNIX, SOCK_STREAM, 0);
      if (c < 0 || Api::connect(c, sa, sizeof addr) != 0) {
        *error = Errno("connect");
        if (c >= 0) Api::close(c);
        return false;
      }
      const int s = Api::accept4(listener, nullptr, nullptr, 0);
      if (s < 0) {
        *error = Errno("accept4");
        Api::close(c);
        return false;
      }
      Api::close(c);
      Api::close(s);
      return true;
    });
    ok = ns >= 0;
    if (ok) out->value = 1e6 / ns;  // thousands per second
  }
  if (listener >= 0) Api::close(listener);
  unlink(addr.sun_path);
  rmdir(dir);
  return ok;
}

}  // namespace

const Placement& CpuPlacement() {
  static const Placement placement = ComputePlacement();
  return placement;
}

const std::vector<Row>& Rows() {
  constexpr bool kRate = true, kCost = false;
  constexpr bool kLatency = true, kMean = false;
  static const std::vector<Row> rows = {
      {"1 send+recv 64B same thread: stream", "ns/op", kCost, kMean, 20000,
       &SameThread64<KernelApi, SOCK_STREAM>,
       &SameThread64<ShuntApi, SOCK_STREAM>},
      {"1 send+recv 64B same thread: dgram", "ns/op", kCost, kMean, 20000,
       &SameThread64<KernelApi, SOCK_DGRAM>,
       &SameThread64<ShuntApi, SOCK_DGRAM>},
      {"1 send+recv 64B same thread: seqpacket", "ns/op", kCost, kMean, 20000,
       &SameThread64<KernelApi, SOCK_SEQPACKET>,
       &SameThread64<ShuntApi, SOCK_SEQPACKET>},
      {"1 send+recvmsg 64B same thread: 2-entry iovec", "ns/op", kCost, kMean,
       20000, &SameThread64<KernelApi, SOCK_STREAM, Receive::kRecvmsgTwoIovecs>,
       &SameThread64<ShuntApi, SOCK_STREAM, Receive::kRecvmsgTwoIovecs>},
      {"2a ping-pong 64B 2 CPUs, threads: default wait", "us/rtt", kCost,
       kLatency, 1000,
       &PingPong<KernelApi, Peer::kThreadOtherCpu, Wait::kDefault>,
       &PingPong<ShuntApi, Peer::kThreadOtherCpu, Wait::kDefault>},
      {"2a ping-pong 64B 2 CPUs, processes: default wait", "us/rtt", kCost,
       kLatency, 1000,
       &PingPong<KernelApi, Peer::kProcessOtherCpu, Wait::kDefault>,
       &PingPong<ShuntApi, Peer::kProcessOtherCpu, Wait::kDefault>},
      {"2b ping-pong 64B 2 CPUs, threads: busy-poll (kernel: default)",
       "us/rtt", kCost, kLatency, 1000,
       &PingPong<KernelApi, Peer::kThreadOtherCpu, Wait::kBusyPoll>,
       &PingPong<ShuntApi, Peer::kThreadOtherCpu, Wait::kBusyPoll>},
      {"2b ping-pong 64B 2 CPUs, processes: busy-poll (kernel: default)",
       "us/rtt", kCost, kLatency, 1000,
       &PingPong<KernelApi, Peer::kProcessOtherCpu, Wait::kBusyPoll>,
       &PingPong<ShuntApi, Peer::kProcessOtherCpu, Wait::kBusyPoll>},
      {"3 ping-pong 64B 1 CPU, threads: default wait", "us/rtt", kCost,
       kLatency, 1000,
       &PingPong<KernelApi, Peer::kThreadSameCpu, Wait::kDefault>,
       &PingPong<ShuntApi, Peer::kThreadSameCpu, Wait::kDefault>},
      {"4 bulk stream, 4KiB writes, 2 CPUs", "GB/s", kRate, kMean, 8192,
       &Bulk<KernelApi, 4096>, &Bulk<ShuntApi, 4096>},
      {"4 bulk stream, 64KiB writes, 2 CPUs", "GB/s", kRate, kMean, 512,
       &Bulk<KernelApi, 65536>, &Bulk<ShuntApi, 65536>},
      {"4 bulk stream, 1MiB writes, 2 CPUs", "GB/s", kRate, kMean, 32,
       &Bulk<KernelApi, 1048576>, &Bulk<ShuntApi, 1048576>},
      {"5 dgram rate 64B, bursts of 8", "Mmsg/s", kRate, kMean, 2000,
       &DgramRate<KernelApi, 64>, &DgramRate<ShuntApi, 64>},
      {"5 dgram rate 1KiB, bursts of 8", "Mmsg/s", kRate, kMean, 2000,
       &DgramRate<KernelApi, 1024>, &DgramRate<ShuntApi, 1024>},
      {"6 pass 1 descriptor per message: a socket", "ns/msg", kCost, kMean,
       5000, &PassDescriptor<KernelApi, Passed::kSocket>,
       &PassDescriptor<ShuntApi, Passed::kSocket>},
      {"6 pass 1 descriptor per message: a kernel pipe", "ns/msg", kCost, kMean,
       5000, &PassDescriptor<KernelApi, Passed::kPipe>,
       &PassDescriptor<ShuntApi, Passed::kPipe>},
      {"7 connect+accept+close, path listener", "kconn/s", kRate, kMean, 1000,
       &ConnectAccept<KernelApi>, &ConnectAccept<ShuntApi>},
  };
  return rows;
}

}  // namespace shunt_tool

#include "concurrent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>

#include "rng.h"

namespace shunt_diff {
namespace {

// A bound on every blocking call, so that a wake-up that never comes ends
// as a (compared) EAGAIN instead of a hang.
constexpr int kSafetySeconds = 5;

long NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

// True once task `tid` of process `pid` sleeps (state 'S'), false if it did
// not within two seconds (it may have returned without blocking).
bool WaitUntilSleeping(pid_t pid, pid_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
  const long until = NowUs() + 2000000;
  while (NowUs() < until) {
    char buf[512];
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    const char* paren = strrchr(buf, ')');
    if (paren != nullptr && paren[1] == ' ' && paren[2] == 'S') return true;
    usleep(200);
  }
  return false;
}

void SetTimeout(const Api& api, int fd, int opt, long us) {
  const timeval tv = {us / 1000000, us % 1000000};
  api.setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

std::string Payload(uint64_t seed, int len) {
  std::string s(static_cast<size_t>(len), '\0');
  Rng rng(seed);
  for (char& c : s) c = static_cast<char>(rng.Next() >> 56);
  return s;
}

Outcome Result(long ret) {
  Outcome o;
  o.ret = ret;
  o.err = ret < 0 ? errno : 0;
  return o;
}

// Outcome <-> bytes, to bring a child's result home through a pipe.
std::string Serialize(const Outcome& o) {
  std::string s;
  auto put = [&](const std::string& v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    s.append(reinterpret_cast<const char*>(&n), sizeof n);
    s += v;
  };
  put(std::to_string(o.ret));
  put(std::to_string(o.err));
  for (const Field& f : o.fields) {
    put(f.name);
    put(f.value);
  }
  return s;
}

Outcome Deserialize(const std::string& s) {
  Outcome o;
  size_t at = 0;
  auto get = [&](std::string* v) {
    uint32_t n;
    if (at + sizeof n > s.size()) return false;
    memcpy(&n, s.data() + at, sizeof n);
    at += sizeof n;
    if (at + n > s.size()) return false;
    *v = s.substr(at, n);
    at += n;
    return true;
  };
  std::string ret, err, name, value;
  if (!get(&ret) || !get(&err)) {
    o.ret = -1;
    o.err = EIO;
    o.Add("child", "no result");
    return o;
  }
  o.ret = atol(ret.c_str());
  o.err = atoi(err.c_str());
  while (get(&name) && get(&value)) o.Add(name, value);
  return o;
}

// Runs `sleeper` in a second thread or a child process, waits until it is
// asleep, runs `waker`, and returns the sleeper's outcome with a field
// saying whether it was seen asleep. A child first closes `child_close`.
Outcome RunPair(const Api& api, bool process,
                const std::function<Outcome()>& sleeper,
                const std::function<void()>& waker,
                const std::vector<int>& child_close) {
  Outcome out;
  bool slept = false;
  if (!process) {
    std::atomic<pid_t> tid{0};
    std::thread t([&] {
      tid.store(gettid());
      out = sleeper();
    });
    while (tid.load() == 0) std::this_thread::yield();
    slept = WaitUntilSleeping(getpid(), tid.load());
    waker();
    t.join();
  } else {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) abort();
    fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
      close(p[0]);
      for (int fd : child_close) api.close(fd);
      char c = 'r';
      (void)!write(p[1], &c, 1);
      const std::string bytes = Serialize(sleeper());
      (void)!write(p[1], bytes.data(), bytes.size());
      close(p[1]);
      exit(0);  // not _exit: shunt releases descriptors at exit
    }
    close(p[1]);
    char c;
    const bool started = read(p[0], &c, 1) == 1;
    slept = started && WaitUntilSleeping(pid, pid);
    waker();
    std::string bytes;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(p[0], buf, sizeof buf);
      if (n > 0) {
        bytes.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    out = Deserialize(bytes);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      out.Add("child", "status " + std::to_string(status));
  }
  out.fields.insert(out.fields.begin(), {"slept", slept ? "yes" : "no"});
  return out;
}

Outcome Recv(const Api& api, int fd, int buf, int flags) {
  std::string b(static_cast<size_t>(buf), '\xa5');
  Outcome o = Result(api.recv(fd, b.data(), b.size(), flags));
  o.Add("data", b);
  return o;
}

// Receives until EAGAIN; returns all bytes.
std::string Drain(const Api& api, int fd) {
  std::string all;
  char buf[65536];
  for (;;) {
    const ssize_t n = api.recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return all;
    all.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Scenario MakeScenario(uint64_t seed) {
  Rng rng(seed);
  Scenario sc;
  sc.seed = rng.Next();
  sc.kind = ScenarioKind(rng.Below(6));
  static const int kTypes[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  sc.type = kTypes[rng.Below(3)];
  sc.process = rng.Percent(40);
  sc.len = rng.Range(1, rng.Percent(80) ? 64 : 5000);
  sc.buf = rng.Range(0, rng.Percent(80) ? 100 : 8000);
  if (sc.buf == 0 && sc.kind == ScenarioKind::kRecvWokenBySend)
    sc.buf = 1;  // a zero-byte stream receive need not wait
  if (rng.Percent(20)) sc.flags |= MSG_PEEK;
  if (rng.Percent(20)) sc.flags |= MSG_TRUNC;
  // MSG_WAITALL only where the wake-up brings enough to finish it.
  if (sc.type == SOCK_STREAM && sc.buf <= sc.len && rng.Percent(30))
    sc.flags |= MSG_WAITALL;
  sc.timeout_us = rng.Range(10000, 40000);
  sc.how = rng.Range(0, 2);
  // Datagram peers never end a receiver's wait by closing (no EOF).
  if (sc.type == SOCK_DGRAM && sc.how != 2) sc.how = 2;
  // A stream fills by truesize in Linux and by payload in shunt
  // (DIFFERENCES.md #1): with tiny sends shunt's buffer would take a
  // hundred times more sends to fill; a few KiB per send fills both.
  if (sc.kind == ScenarioKind::kSendFreedByRecv && sc.type == SOCK_STREAM)
    sc.len = 2048 + sc.len % 4096;
  if (sc.kind == ScenarioKind::kAcceptWokenByConnect && sc.type == SOCK_DGRAM)
    sc.type = SOCK_STREAM;
  return sc;
}

std::string DescribeScenario(const Scenario& sc) {
  static const char* kKinds[] = {
      "recv woken by send",           "recv times out",
      "send freed by recv",           "accept woken by connect",
      "recv woken by close/shutdown", "MSG_WAITALL recv woken by two sends"};
  const char* type = sc.type == SOCK_STREAM  ? "SOCK_STREAM"
                     : sc.type == SOCK_DGRAM ? "SOCK_DGRAM"
                                             : "SOCK_SEQPACKET";
  char buf[256];
  snprintf(buf, sizeof buf,
           "%s, %s, sleeper in a %s: len %d, buf %d, flags %s, "
           "SO_RCVTIMEO %d us, how %d",
           kKinds[static_cast<int>(sc.kind)], type,
           sc.process ? "child process" : "thread", sc.len, sc.buf,
           MsgFlagsText(sc.flags).c_str(), sc.timeout_us, sc.how);
  return buf;
}

std::vector<Outcome> RunScenario(const Api& api, const WorldConfig& world,
                                 const Scenario& sc) {
  std::vector<Outcome> steps;
  const std::string payload = Payload(sc.seed, sc.len);
  if (sc.kind == ScenarioKind::kAcceptWokenByConnect) {
    sockaddr_un name{};
    name.sun_family = AF_UNIX;
    const std::string a = world.abstract_prefix + "accept";
    memcpy(name.sun_path + 1, a.data(), a.size());
    const socklen_t len =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + a.size());
    const int l = api.socket(AF_UNIX, sc.type, 0);
    steps.push_back(
        Result(api.bind(l, reinterpret_cast<sockaddr*>(&name), len)));
    steps.push_back(Result(api.listen(l, 4)));
    SetTimeout(api, l, SO_RCVTIMEO, kSafetySeconds * 1000000L);
    int client = -1;
    steps.push_back(RunPair(
        api, sc.process,
        [&] {
          const int fd = api.accept4(l, nullptr, nullptr, 0);
          Outcome o = Result(fd < 0 ? -1 : 0);
          if (fd >= 0) {
            char b[8] = {};
            o.Add("first byte",
                  Result(api.recv(fd, b, 1, 0)).Result() + std::string(b, 1));
            api.close(fd);
          }
          return o;
        },
        [&] {
          client = api.socket(AF_UNIX, sc.type, 0);
          steps.push_back(Result(
              api.connect(client, reinterpret_cast<sockaddr*>(&name), len)));
          steps.push_back(Result(api.send(client, "!", 1, MSG_NOSIGNAL)));
        },
        {}));
    api.close(client);
    api.close(l);
    return steps;
  }
  int sv[2] = {-1, -1};
  steps.push_back(Result(api.socketpair(AF_UNIX, sc.type, 0, sv)));
  if (steps.back().ret != 0) return steps;
  SetTimeout(api, sv[1], SO_RCVTIMEO, kSafetySeconds * 1000000L);
  switch (sc.kind) {
    case ScenarioKind::kRecvWokenBySend:
      steps.push_back(RunPair(
          api, sc.process, [&] { return Recv(api, sv[1], sc.buf, sc.flags); },
          [&] {
            steps.push_back(Result(
                api.send(sv[0], payload.data(), payload.size(), MSG_NOSIGNAL)));
          },
          {sv[0]}));
      steps.push_back(Recv(api, sv[1], 65536, MSG_DONTWAIT));
      break;
    case ScenarioKind::kRecvTimesOut: {
      SetTimeout(api, sv[1], SO_RCVTIMEO, sc.timeout_us);
      const long start = NowUs();
      Outcome o = Recv(api, sv[1], sc.buf, sc.flags);
      // Linux rounds the timeout up to whole jiffies, but measured on
      // CLOCK_MONOTONIC its wait may end early: by a jiffy when the first
      // one is partly over, by more on a virtual machine whose jiffies
      // catch up after stolen time (it missed a 1 ms allowance at HZ 250).
      // What is compared is whether the call waited at all: half the
      // timeout.
      o.Add("waited the timeout",
            2 * (NowUs() - start) >= sc.timeout_us ? "yes" : "no");
      steps.push_back(o);
      break;
    }
    case ScenarioKind::kSendFreedByRecv: {
      // Fill sv[0]'s send buffer, then a blocking send of len waits.
      SetTimeout(api, sv[0], SO_SNDTIMEO, kSafetySeconds * 1000000L);
      long filled = 0;
      for (int i = 0; i < 100000; ++i) {
        const ssize_t n = api.send(sv[0], payload.data(), payload.size(),
                                   MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) break;
        filled += n;
      }
      // How much fits is truesize accounting for a stream (DIFFERENCES.md
      // #1), so only datagram and seqpacket fills are compared.
      Outcome fill = Result(0);
      if (sc.type != SOCK_STREAM) fill.Add("filled", filled);
      steps.push_back(fill);
      std::string drained;
      steps.push_back(RunPair(
          api, sc.process,
          [&] {
            return Result(
                api.send(sv[0], payload.data(), payload.size(), MSG_NOSIGNAL));
          },
          [&] { drained = Drain(api, sv[1]); }, {sv[1]}));
      // Whatever the sleeper sent arrives after what was drained.
      const long sent = steps.back().ret > 0 ? steps.back().ret : 0;
      for (int i = 0;
           i < 200 && static_cast<long>(drained.size()) < filled + sent; ++i) {
        drained += Drain(api, sv[1]);
        if (static_cast<long>(drained.size()) < filled + sent) usleep(1000);
      }
      Outcome total = Result(0);
      total.Add(
          "received all bytes",
          static_cast<long>(drained.size()) == filled + sent ? "yes" : "no");
      steps.push_back(total);
      break;
    }
    case ScenarioKind::kRecvWokenByClose:
      steps.push_back(RunPair(
          api, sc.process, [&] { return Recv(api, sv[1], sc.buf, sc.flags); },
          [&] {
            if (sc.how == 0) {
              steps.push_back(Result(api.close(sv[0])));
              sv[0] = -1;
            } else if (sc.how == 1) {
              steps.push_back(Result(api.shutdown(sv[0], SHUT_WR)));
            } else {
              steps.push_back(Result(api.shutdown(sv[1], SHUT_RD)));
            }
          },
          {sv[0]}));
      break;
    case ScenarioKind::kWaitallWokenByTwoSends:
      // Stream: one receive of both halves; datagram kinds: the first
      // message (MSG_WAITALL does not join messages).
      steps.push_back(RunPair(
          api, sc.process,
          [&] {
            return Recv(api, sv[1], 2 * sc.len,
                        MSG_WAITALL | (sc.flags & MSG_TRUNC));
          },
          [&] {
            for (int half = 0; half < 2; ++half) {
              steps.push_back(Result(api.send(sv[0], payload.data(),
                                              payload.size(), MSG_NOSIGNAL)));
              if (half == 0) usleep(2000);  // the sleeper takes the first
            }
          },
          {sv[0]}));
      steps.push_back(Recv(api, sv[1], 65536, MSG_DONTWAIT));
      break;
    case ScenarioKind::kAcceptWokenByConnect:
      break;
  }
  if (sv[0] >= 0) api.close(sv[0]);
  api.close(sv[1]);
  return steps;
}

long CompareScenario(const std::vector<Outcome>& a,
                     const std::vector<Outcome>& b, std::string* what) {
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= a.size() || i >= b.size()) {
      *what = "step count: kernel " + std::to_string(a.size()) + ", shunt " +
              std::to_string(b.size());
      return static_cast<long>(i);
    }
    if (a[i].ret != b[i].ret || a[i].err != b[i].err) {
      *what = "result: kernel " + a[i].Result() + ", shunt " + b[i].Result();
      return static_cast<long>(i);
    }
    if (a[i].fields != b[i].fields) {
      for (size_t f = 0; f < std::min(a[i].fields.size(), b[i].fields.size());
           ++f) {
        if (a[i].fields[f] == b[i].fields[f]) continue;
        *what = a[i].fields[f].name + ": kernel " +
                BytesText(a[i].fields[f].value) + ", shunt " +
                BytesText(b[i].fields[f].value);
        return static_cast<long>(i);
      }
      *what = "fields differ";
      return static_cast<long>(i);
    }
  }
  return -1;
}

}  // namespace shunt_diff

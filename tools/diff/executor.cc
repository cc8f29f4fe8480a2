#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "rng.h"

namespace shunt_diff {
namespace {

constexpr unsigned char kCanary = 0xa5;
constexpr int kBadClosedFd = 1 << 20;  // above any descriptor in use

std::atomic<int> g_sigpipes{0};
void CountSigpipe(int) { g_sigpipes.fetch_add(1, std::memory_order_relaxed); }

// SIGPIPE is counted, not fatal, so that a send raising it is an outcome.
void InstallSigpipeCounter() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = CountSigpipe;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPIPE, &sa, nullptr);
    return true;
  }();
  (void)installed;
}

std::string Payload(uint64_t seed, int len) {
  std::string s(static_cast<size_t>(len), '\0');
  Rng rng(seed);
  for (int i = 0; i < len; ++i) s[i] = static_cast<char>(rng.Next() >> 56);
  return s;
}

// Splits [0, len) into n iovecs over base at seeded points (some may be
// empty).
std::vector<iovec> Split(char* base, int len, int n, uint64_t seed) {
  Rng rng(seed ^ 0x5bd1e995);
  std::vector<size_t> cuts;
  for (int i = 1; i < n; ++i)
    cuts.push_back(len == 0 ? 0 : rng.Below(static_cast<uint32_t>(len) + 1));
  std::sort(cuts.begin(), cuts.end());
  std::vector<iovec> iov;
  size_t at = 0;
  for (size_t c : cuts) {
    iov.push_back({base + at, c - at});
    at = c;
  }
  iov.push_back({base + at, static_cast<size_t>(len) - at});
  return iov;
}

void Record(long ret, Outcome* out) {
  out->ret = ret;
  out->err = ret < 0 ? errno : 0;
}

}  // namespace

Executor::Executor(const Api& api, const WorldConfig& config)
    : api_(api), config_(config) {
  for (int s = 0; s < kSlots; ++s) slot_fd_[s] = -1;
  InstallSigpipeCounter();
}

void CleanDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    unlink((dir + "/" + e->d_name).c_str());
  }
  closedir(d);
}

int Executor::Fd(int target) const {
  if (target >= 0 && target < kSlots) return slot_fd_[target];
  if (target == kPipeRead) return pipe_[0];
  if (target == kPipeWrite) return pipe_[1];
  if (target == kBadNegative) return -1;
  return kBadClosedFd;
}

void Executor::Begin() {
  autobind_.clear();
  for (int s = 0; s < kSlots; ++s) {
    slot_fd_[s] = -1;
    slot_type_[s] = 0;
  }
  if (pipe2(pipe_, O_NONBLOCK) != 0) {
    perror("shunt diff: pipe2");
    abort();
  }
}

void Executor::End() {
  for (int s = 0; s < kSlots; ++s)
    if (slot_fd_[s] >= 0) api_.close(slot_fd_[s]);
  if (pipe_[0] >= 0) ::close(pipe_[0]);
  if (pipe_[1] >= 0) ::close(pipe_[1]);
  CleanDir(config_.dir);
}

std::vector<Outcome> Executor::Run(const Sequence& seq) {
  Begin();
  std::vector<Outcome> outcomes;
  outcomes.reserve(seq.size());
  for (const Op& op : seq) outcomes.push_back(Step(op));
  End();
  return outcomes;
}

Executor::Name Executor::BuildName(uint32_t spec) const {
  Name n{};
  n.sun.sun_family = AF_UNIX;
  const int id = NameIdOf(spec);
  const socklen_t base = offsetof(sockaddr_un, sun_path);
  auto path = [&](const std::string& p) {
    memcpy(n.sun.sun_path, p.data(), std::min(p.size(), sizeof n.sun.sun_path));
    return static_cast<socklen_t>(p.size());
  };
  switch (NameKindOf(spec)) {
    case kNameNone:
      n.null = true;
      n.len = 0;
      break;
    case kNamePath: {
      const socklen_t l = path(config_.dir + "/n" + std::to_string(id));
      n.len = NameFormOf(spec) == kFormFull    ? sizeof(sockaddr_un)
              : NameFormOf(spec) == kFormNoNul ? base + l
                                               : base + l + 1;
      break;
    }
    case kNameAbstract: {
      const std::string a = config_.abstract_prefix + "n" + std::to_string(id);
      memcpy(n.sun.sun_path + 1, a.data(), a.size());
      n.len = NameFormOf(spec) == kFormFull
                  ? sizeof(sockaddr_un)
                  : static_cast<socklen_t>(base + 1 + a.size());
      break;
    }
    case kNameAutobind:
      n.len = base;
      break;
    case kNameShort:
      n.len = 1;
      break;
    case kNameInet:
      n.sun.sun_family = AF_INET;
      n.len = 16;
      break;
    case kNameOversize:
      n.len = sizeof(sockaddr_un) + 1;
      break;
    case kNameNoDir:
      n.len = base + path(config_.dir + "/missing/n0") + 1;
      break;
    case kNameUnspec:
      n.sun.sun_family = AF_UNSPEC;
      n.len = base;
      break;
    case kNameLongPath: {
      std::string p = config_.dir + "/";
      p.resize(sizeof n.sun.sun_path, 'L');
      path(p);
      n.len = sizeof(sockaddr_un);
      break;
    }
  }
  return n;
}

std::string Executor::NameBytes(const char* buf, socklen_t cap, socklen_t len) {
  std::string bytes(buf, cap);
  // An autobound name is "\0" and five hex digits (8 bytes with the
  // family); every name this oracle binds is longer, so the length says
  // which names the system chose. Each world numbers its own in order of
  // appearance; a truncated one shows only that it was one.
  const socklen_t base = offsetof(sockaddr_un, sun_path);
  if (len != base + 6 || cap <= base || buf[base] != '\0') return bytes;
  if (cap >= base + 6) {
    const std::string key(buf + base + 1, 5);
    auto it = autobind_.emplace(key, static_cast<int>(autobind_.size())).first;
    char canon[8];
    snprintf(canon, sizeof canon, "%05d", it->second);
    bytes.replace(base + 1, 5, canon, 5);
  } else {
    for (socklen_t i = base + 1; i < cap; ++i) bytes[i] = 'x';
  }
  return bytes;
}

void Executor::SetSlot(int slot, int fd, int type, Outcome* out) {
  if (slot < 0 || slot >= kSlots) return;
  if (slot_fd_[slot] >= 0) {
    // The world is full: the slot's old descriptor goes first.
    const int rc = api_.close(slot_fd_[slot]);
    out->Add("closed_old", rc < 0 ? -errno : rc);
  }
  slot_fd_[slot] = fd;
  slot_type_[slot] = type;
}

bool Executor::Blocking(int fd) const {
  const int fl = api_.fcntl(fd, F_GETFL, 0);
  return fl >= 0 && (fl & O_NONBLOCK) == 0;
}

bool Executor::NonBlockingFlags(int fd, bool plain, int op_flags, int* flags,
                                Outcome* out) const {
  *flags = plain ? 0 : op_flags;  // read, write, readv, writev: no flags
  if ((*flags & MSG_DONTWAIT) || !Blocking(fd)) return true;
  if (plain) {
    out->skipped = true;
    out->Add("guard", "blocking descriptor: call skipped");
    return false;
  }
  *flags |= MSG_DONTWAIT;
  out->Add("guard", "blocking descriptor: MSG_DONTWAIT added");
  return true;
}

Outcome Executor::Step(const Op& op) {
  Outcome out;
  const int fd = Fd(op.fd);
  if (op.fd >= 0 && op.fd < kSlots && fd >= 0) out.type = slot_type_[op.fd];
  const int sigpipes = g_sigpipes.load(std::memory_order_relaxed);
  errno = 0;
  switch (op.kind) {
    case OpKind::kSocket:
      DoSocket(op, &out);
      break;
    case OpKind::kSocketpair:
      DoSocketpair(op, &out);
      break;
    case OpKind::kBind: {
      const Name n = BuildName(op.name);
      Record(api_.bind(fd, n.sa(), n.len), &out);
      break;
    }
    case OpKind::kListen:
      Record(api_.listen(fd, op.a), &out);
      break;
    case OpKind::kConnect: {
      if (out.type != SOCK_DGRAM && out.type != 0 && Blocking(fd)) {
        out.skipped = true;
        out.Add("guard", "blocking socket: connect skipped");
        break;
      }
      const Name n = BuildName(op.name);
      Record(api_.connect(fd, n.sa(), n.len), &out);
      break;
    }
    case OpKind::kAccept:
      DoAccept(op, &out);
      break;
    case OpKind::kSend:
      DoSend(op, &out);
      break;
    case OpKind::kRecv:
      DoRecv(op, &out);
      break;
    case OpKind::kShutdown:
      Record(api_.shutdown(fd, op.a), &out);
      break;
    case OpKind::kClose:
      Record(api_.close(fd), &out);
      // The number is free now and may come back for another descriptor.
      if (op.fd >= 0 && op.fd < kSlots) slot_fd_[op.fd] = -1;
      if (op.fd == kPipeRead) pipe_[0] = -1;
      if (op.fd == kPipeWrite) pipe_[1] = -1;
      break;
    case OpKind::kDup: {
      const int nfd = api_.dup(fd);
      Record(nfd < 0 ? -1 : 0, &out);
      const int type = op.fd >= 0 && op.fd < kSlots ? slot_type_[op.fd] : 0;
      if (nfd >= 0) SetSlot(op.dst, nfd, type, &out);
      break;
    }
    case OpKind::kSetsockopt:
    case OpKind::kGetsockopt:
      DoSockopt(op, &out);
      break;
    case OpKind::kIoctl:
      DoIoctl(op, &out);
      break;
    case OpKind::kFcntl:
      Record(api_.fcntl(fd, op.a, op.b), &out);
      break;
    case OpKind::kPoll:
      DoPoll(op, &out);
      break;
    case OpKind::kGetname:
      DoGetname(op, &out);
      break;
  }
  const int raised = g_sigpipes.load(std::memory_order_relaxed) - sigpipes;
  if (raised != 0) out.Add("SIGPIPE", raised);
  return out;
}

void Executor::DoSocket(const Op& op, Outcome* out) {
  const int fd = api_.socket(op.a, op.b, op.c);
  Record(fd < 0 ? -1 : 0, out);
  if (fd >= 0) SetSlot(op.dst, fd, op.b & 0xf, out);
}

void Executor::DoSocketpair(const Op& op, Outcome* out) {
  int sv[2] = {-7, -7};
  const int rc = api_.socketpair(op.a, op.b, op.c, sv);
  Record(rc, out);
  if (rc == 0) {
    SetSlot(op.dst, sv[0], op.b & 0xf, out);
    SetSlot(op.dst2, sv[1], op.b & 0xf, out);
  } else {
    // socketpair leaves sv alone on failure (or writes both numbers).
    out->Add("sv_written", (sv[0] != -7) + (sv[1] != -7));
  }
}

void Executor::DoAccept(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  if (Blocking(fd)) {
    pollfd p = {fd, POLLIN, 0};
    if (api_.poll(&p, 1, 0) != 1 || (p.revents & POLLIN) == 0) {
      out->skipped = true;
      out->Add("guard", "blocking listener, nothing pending: skipped");
      return;
    }
    out->Add("guard", "blocking listener with a connection pending");
  }
  char buf[sizeof(sockaddr_un) + 16];
  memset(buf, kCanary, sizeof buf);
  socklen_t len = op.a < 0 ? 0 : static_cast<socklen_t>(op.a);
  sockaddr* sa = op.a < 0 ? nullptr : reinterpret_cast<sockaddr*>(buf);
  const int nfd = api_.accept4(fd, sa, op.a < 0 ? nullptr : &len, op.flags);
  Record(nfd < 0 ? -1 : 0, out);
  if (nfd >= 0) {
    if (sa != nullptr) {
      out->Add("addrlen", len);
      out->Add("addr", NameBytes(buf, static_cast<socklen_t>(op.a), len));
    }
    const int type = op.fd >= 0 && op.fd < kSlots ? slot_type_[op.fd] : 0;
    SetSlot(op.dst, nfd, type, out);
  }
}

void Executor::DoSend(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  int flags;
  if (!NonBlockingFlags(fd, op.call == kWrite || op.call == kWritev, op.flags,
                        &flags, out))
    return;
  const Name name = BuildName(op.name);
  const int nmsgs = op.call == kSendMmsg ? op.c : 1;
  std::vector<std::string> payloads;
  std::vector<std::vector<iovec>> iovs;
  for (int m = 0; m < nmsgs; ++m) {
    payloads.push_back(Payload(op.seed + static_cast<uint64_t>(m), op.a));
  }
  for (int m = 0; m < nmsgs; ++m)
    iovs.push_back(Split(payloads[m].data(), op.a, op.b, op.seed));
  // Control message (only with GeneratorOptions::ancillary).
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr mh{};
  mh.msg_name = name.null ? nullptr : const_cast<sockaddr_un*>(&name.sun);
  mh.msg_namelen = name.len;
  mh.msg_iov = iovs[0].data();
  mh.msg_iovlen = iovs[0].size();
  if (op.e != 0) {
    mh.msg_control = control;
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
    c->cmsg_level = SOL_SOCKET;
    if (op.e == 1) {
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &pipe_[0], sizeof(int));
      mh.msg_controllen = CMSG_SPACE(sizeof(int));
    } else {
      const ucred cred = {getpid(), getuid(), getgid()};
      c->cmsg_type = SCM_CREDENTIALS;
      c->cmsg_len = CMSG_LEN(sizeof cred);
      memcpy(CMSG_DATA(c), &cred, sizeof cred);
      mh.msg_controllen = CMSG_SPACE(sizeof cred);
    }
  }
  switch (op.call) {
    case kSendPlain:
      Record(api_.send(fd, payloads[0].data(), payloads[0].size(), flags), out);
      break;
    case kSendTo:
      Record(api_.sendto(fd, payloads[0].data(), payloads[0].size(), flags,
                         name.sa(), name.len),
             out);
      break;
    case kSendMsg:
      Record(api_.sendmsg(fd, &mh, flags), out);
      break;
    case kSendMmsg: {
      std::vector<mmsghdr> v(static_cast<size_t>(nmsgs));
      for (int m = 0; m < nmsgs; ++m) {
        v[m].msg_hdr = mh;
        v[m].msg_hdr.msg_iov = iovs[m].data();
        v[m].msg_hdr.msg_iovlen = iovs[m].size();
        v[m].msg_len = 0xdead;
      }
      Record(api_.sendmmsg(fd, v.data(), static_cast<unsigned>(nmsgs), flags),
             out);
      for (int m = 0; m < nmsgs; ++m)
        out->Add("msg_len[" + std::to_string(m) + "]", v[m].msg_len);
      break;
    }
    case kWrite:
      Record(api_.write(fd, payloads[0].data(), payloads[0].size()), out);
      break;
    case kWritev:
      Record(api_.writev(fd, iovs[0].data(), static_cast<int>(iovs[0].size())),
             out);
      break;
  }
}

void Executor::RecordControl(const msghdr& mh, const std::string& prefix,
                             Outcome* out) {
  out->Add(prefix + "controllen", static_cast<long>(mh.msg_controllen));
  if (mh.msg_control == nullptr) return;
  int i = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&mh), c), ++i) {
    const std::string p = prefix + "cmsg[" + std::to_string(i) + "].";
    out->Add(p + "level/type/len", std::to_string(c->cmsg_level) + "/" +
                                       std::to_string(c->cmsg_type) + "/" +
                                       std::to_string(c->cmsg_len));
    const size_t data_len = c->cmsg_len - CMSG_LEN(0);
    const size_t avail = static_cast<size_t>(
        static_cast<char*>(mh.msg_control) + mh.msg_controllen -
        reinterpret_cast<char*>(CMSG_DATA(c)));
    const size_t n = std::min(data_len, avail);
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      // Received descriptors: what they are, never their numbers.
      for (size_t k = 0; k + sizeof(int) <= n; k += sizeof(int)) {
        int rfd;
        memcpy(&rfd, CMSG_DATA(c) + k, sizeof rfd);
        struct stat st {
        }, pst{};
        std::string what = "fd:";
        if (fstat(rfd, &st) != 0) {
          what += "bad";
        } else {
          fstat(pipe_[0], &pst);
          what += st.st_ino == pst.st_ino && st.st_dev == pst.st_dev
                      ? "pipe-read-end"
                      : "type-" + std::to_string(st.st_mode & S_IFMT);
          what += (::fcntl(rfd, F_GETFD) & FD_CLOEXEC) ? ",cloexec" : "";
          api_.close(rfd);
        }
        out->Add(p + "fd", what);
      }
    } else {
      out->Add(p + "data",
               std::string(reinterpret_cast<char*>(CMSG_DATA(c)), n));
    }
  }
}

void Executor::DoRecv(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  int flags;
  if (!NonBlockingFlags(fd, op.call == kRead || op.call == kReadv, op.flags,
                        &flags, out))
    return;
  const int nmsgs = op.call == kRecvMmsg ? op.e : 1;
  const size_t name_cap = op.c < 0 ? 0 : static_cast<size_t>(op.c);
  const size_t ctl_cap = op.d < 0 ? 0 : static_cast<size_t>(op.d);
  std::vector<std::string> bufs(nmsgs, std::string(op.a, char(kCanary)));
  // The call may report a longer name than fits (msg_namelen is the full
  // length); the buffers have room for any, so that a checker reading
  // msg_namelen bytes (ASan's recvmsg interceptor) stays inside them.
  std::vector<std::string> names(
      nmsgs, std::string(std::max(name_cap + 1, sizeof(sockaddr_un) + 16),
                         char(kCanary)));
  struct alignas(cmsghdr) Ctl {
    char bytes[128];
  };
  std::vector<Ctl> ctls(nmsgs);
  std::vector<std::vector<iovec>> iovs;
  std::vector<msghdr> mhs(nmsgs);
  for (int m = 0; m < nmsgs; ++m) {
    memset(ctls[m].bytes, kCanary, sizeof ctls[m].bytes);
    iovs.push_back(Split(bufs[m].data(), op.a, op.b, op.seed));
    msghdr& mh = mhs[m];
    mh.msg_name = op.c < 0 ? nullptr : names[m].data();
    mh.msg_namelen = static_cast<socklen_t>(name_cap);
    mh.msg_iov = iovs[m].data();
    mh.msg_iovlen = iovs[m].size();
    mh.msg_control = op.d < 0 ? nullptr : ctls[m].bytes;
    mh.msg_controllen = ctl_cap;
    mh.msg_flags = 0x5a5a;  // recvmsg must overwrite it
  }
  socklen_t fromlen = static_cast<socklen_t>(name_cap);
  switch (op.call) {
    case kRecvPlain:
      Record(api_.recv(fd, bufs[0].data(), bufs[0].size(), flags), out);
      break;
    case kRecvFrom:
      Record(
          api_.recvfrom(
              fd, bufs[0].data(), bufs[0].size(), flags,
              op.c < 0 ? nullptr : reinterpret_cast<sockaddr*>(names[0].data()),
              op.c < 0 ? nullptr : &fromlen),
          out);
      if (op.c >= 0) {
        out->Add("addrlen", fromlen);
        out->Add("addr",
                 NameBytes(names[0].data(),
                           static_cast<socklen_t>(name_cap + 1), fromlen));
      }
      break;
    case kRecvMsg:
      Record(api_.recvmsg(fd, &mhs[0], flags), out);
      break;
    case kRecvMmsg: {
      std::vector<mmsghdr> v(nmsgs);
      for (int m = 0; m < nmsgs; ++m) {
        v[m].msg_hdr = mhs[m];
        v[m].msg_len = 0xdead;
      }
      Record(api_.recvmmsg(fd, v.data(), static_cast<unsigned>(nmsgs), flags,
                           nullptr),
             out);
      for (int m = 0; m < nmsgs; ++m) {
        mhs[m] = v[m].msg_hdr;
        out->Add("msg_len[" + std::to_string(m) + "]", v[m].msg_len);
      }
      break;
    }
    case kRead:
      Record(api_.read(fd, bufs[0].data(), bufs[0].size()), out);
      break;
    case kReadv:
      Record(api_.readv(fd, iovs[0].data(), static_cast<int>(iovs[0].size())),
             out);
      break;
  }
  for (int m = 0; m < nmsgs; ++m) {
    const std::string p = nmsgs > 1 ? "[" + std::to_string(m) + "]." : "";
    out->Add(p + "data", bufs[m]);
    if (op.call != kRecvMsg && op.call != kRecvMmsg) continue;
    const msghdr& mh = mhs[m];
    out->Add(p + "msg_flags", MsgFlagsText(mh.msg_flags));
    out->Add(p + "msg_namelen", mh.msg_namelen);
    if (op.c >= 0)
      out->Add(p + "name",
               NameBytes(names[m].data(), static_cast<socklen_t>(name_cap + 1),
                         mh.msg_namelen));
    RecordControl(mh, p, out);
  }
}

void Executor::DoSockopt(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  alignas(16) char buf[64];
  memset(buf, kCanary, sizeof buf);
  const bool timeval_opt =
      op.a == SOL_SOCKET && (op.b == SO_RCVTIMEO || op.b == SO_SNDTIMEO);
  if (op.kind == OpKind::kSetsockopt) {
    if (timeval_opt) {
      const timeval tv = {op.c, op.e};
      memcpy(buf, &tv, sizeof tv);
    } else if (op.a == SOL_SOCKET && op.b == SO_LINGER) {
      const linger l = {op.c, op.e};
      memcpy(buf, &l, sizeof l);
    } else {
      memcpy(buf, &op.c, sizeof op.c);
    }
    Record(api_.setsockopt(fd, op.a, op.b, buf, static_cast<socklen_t>(op.d)),
           out);
    return;
  }
  socklen_t len = static_cast<socklen_t>(op.d);
  Record(api_.getsockopt(fd, op.a, op.b, buf, &len), out);
  out->Add("optlen", static_cast<long>(static_cast<int>(len)));
  out->Add("optval", std::string(buf, sizeof buf));
}

void Executor::DoIoctl(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  int v[16];  // room for whatever a request writes (TCGETS: a termios)
  for (int& w : v) w = 0x5a5a5a5a;
  if (op.a == FIONBIO) v[0] = op.b;
  Record(api_.ioctl(fd, static_cast<unsigned long>(op.a), v), out);
  out->Add("value", v[0]);
}

void Executor::DoPoll(const Op& op, Outcome* out) {
  pollfd p[3];
  const int8_t targets[3] = {op.fd, op.fd2, op.dst};
  const int events[3] = {op.a, op.b, op.c};
  nfds_t n = 0;
  for (int i = 0; i < 3; ++i) {
    if (targets[i] == kNoTarget) continue;
    p[n] = {Fd(targets[i]), static_cast<short>(events[i]), 0x5a};
    if (targets[i] >= 0 && targets[i] < kSlots && p[n].fd >= 0)
      out->types[n] = slot_type_[targets[i]];
    ++n;
  }
  Record(api_.poll(p, n, 0), out);
  for (nfds_t i = 0; i < n; ++i)
    out->Add("revents[" + std::to_string(i) + "]", p[i].revents);
}

void Executor::DoGetname(const Op& op, Outcome* out) {
  const int fd = Fd(op.fd);
  char buf[sizeof(sockaddr_un) + 16];
  memset(buf, kCanary, sizeof buf);
  socklen_t len = static_cast<socklen_t>(op.a);
  auto* sa = reinterpret_cast<sockaddr*>(buf);
  Record(op.call == 0 ? api_.getsockname(fd, sa, &len)
                      : api_.getpeername(fd, sa, &len),
         out);
  out->Add("addrlen", len);
  out->Add("addr", NameBytes(buf, static_cast<socklen_t>(op.a + 1), len));
}

}  // namespace shunt_diff

// What all AF_UNIX socket types share: creation, lifetime and release,
// listen/accept, shutdown, names, options, ioctls and readiness
// (net/unix/af_unix.c, net/core/sock.c).
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <shunt/shunt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "base/user_copy.h"
#include "fd/mailbox.h"
#include "net/poll.h"
#include "net/sock.h"

namespace shunt {
namespace {

constexpr int kMinRcvbuf = 2304;  // SOCK_MIN_RCVBUF

bool IsConnectionType(const SockState* sk) {
  return sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET;
}

}  // namespace

Off SockAlloc(Arena* a, int type) {
  const Off off = a->AllocObject(Pool::kSocket);
  SockState* sk = a->Ptr<SockState>(off);
  if (sk == nullptr) return 0;
  const ArenaLimits& lim = a->limits();
  sk->refs.store(1, std::memory_order_relaxed);
  sk->type = static_cast<uint8_t>(type);
  sk->phase = SockPhase::kClose;
  sk->inode = a->NewInode();
  sk->sndbuf.store(static_cast<int32_t>(lim.wmem_default));
  sk->rcvbuf.store(static_cast<int32_t>(lim.rmem_default));
  sk->rcvlowat.store(1);
  sk->peek_off.store(-1);
  sk->spin_ns.store(DefaultSpinNs());
  sk->personality.store(static_cast<uint8_t>(a->header()->default_personality));
  // For datagram sockets the backlog is the receive queue limit
  // (net/unix/af_unix.c: unix_create1 uses max_dgram_qlen).
  sk->backlog = lim.max_dgram_qlen;
  return off;
}

namespace {

// unix_release_sock: called once, when the last open file on sk goes.
// `embryo` is true for a never-accepted connection dropped with its
// listener: its peer then sees ECONNRESET.
void ReleaseSock(Arena* a, SockState* sk, bool embryo) {
  NameRemove(a, sk);
  sk->lock.Lock();
  // Linux 6.x: unread data resets the peer, except when all that is left
  // is a single empty skb: an empty seqpacket record, or an urgent byte
  // already taken with MSG_OOB (a segment of length 0 whose byte is still
  // in the ring).
  const Segment* front = sk->rq.Front(a);
  const bool unread =
      sk->rq.count() > 1 || (front != nullptr && front->len != 0);
  sk->phase = SockPhase::kClose;
  sk->shutdown.store(kShutdownMask);
  sk->dead = 1;
  SockState* peer = a->Ptr<SockState>(sk->peer);
  sk->peer = 0;
  // Detach the queue and the accept queue; they are dropped unlocked.
  RecvQueue rq = DetachQueue(sk);
  Off pending = sk->acceptq_head;
  __atomic_store_n(&sk->acceptq_head, Off{0}, __ATOMIC_RELAXED);
  sk->acceptq_tail = 0;
  sk->acceptq_len = 0;
  sk->lock.Unlock();

  if (peer != nullptr) {
    if (IsConnectionType(sk)) {
      peer->lock.Lock();
      peer->shutdown.store(kShutdownMask);
      if (unread || embryo) peer->err.store(ECONNRESET);
      SockChanged(a, peer);
      peer->lock.Unlock();
    } else {
      // A datagram peer's pollers watch our queue for room (peer_wait).
      MutexLock lock(&peer->lock);
      SockChanged(a, peer);
    }
    SockPut(a, peer);
  }
  // Our sleepers and pollers (a writer waiting for room here, above all)
  // are woken only now, with the peer's error and shutdown in place, as
  // unix_release_sock wakes them through the peer's state change.
  sk->lock.Lock();
  SockChanged(a, sk);
  sk->lock.Unlock();
  DropQueue(a, &rq);
  for (int guard = 0; pending != 0 && guard < (1 << 20); ++guard) {
    SockState* e = a->Ptr<SockState>(pending);
    if (e == nullptr) break;
    pending = e->accept_next;
    ReleaseSock(a, e, true);
    SockPut(a, e);
  }
}

}  // namespace

Arena* AttachArena(int* err) {
  if (Arena* a = Arena::IfAttached()) return a;
  InstallUserCopyFaultHandler();
  return Arena::Get(err);
}

int64_t DefaultSpinNs() {
  static const int64_t ns = [] {
    const char* env = getenv("SHUNT_SPIN_NS");
    const long long v = env == nullptr ? 0 : strtoll(env, nullptr, 10);
    // The same bound as the socket option, which takes an int.
    return static_cast<int64_t>(v < 0 ? 0 : v > INT32_MAX ? INT32_MAX : v);
  }();
  return ns;
}

PeerCred CurrentCred() {
  return PeerCred{static_cast<int32_t>(getpid()), geteuid(), getegid(), 1};
}

void SockHold(SockState* sk) {
  sk->refs.fetch_add(1, std::memory_order_relaxed);
}

void SockPut(Arena* a, SockState* sk) {
  if (sk->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  sk->rq.Free(a);
  a->FreeObject(Pool::kSocket, a->OffsetOf(sk));
}

void FileGet(OpenFile* f) { f->refs.fetch_add(1, std::memory_order_relaxed); }

void FilePut(Arena* a, OpenFile* f) {
  if (f == nullptr) return;  // a corrupt offset: nothing we may touch
  NoteSockChange();          // net/pair_view.h
  const uint32_t left = f->refs.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left != 0) {
    if (left == f->inflight.load(std::memory_order_acquire))
      CollectCycles(a, f);
    return;
  }
  if (SockState* sk = a->Ptr<SockState>(f->sock)) {
    FileShared(sk);  // no file any more
    sk->file.store(0, std::memory_order_relaxed);
    ReleaseSock(a, sk, false);
    SockPut(a, sk);
  }
  a->FreeObject(Pool::kOpenFile, a->OffsetOf(f));
}

int NewOpenFile(Arena* a, SockState* sk, bool nonblock, Off* file) {
  if (sk->mailbox == 0) {
    int err = 0;
    sk->mailbox = OwnMailbox(a, &err);
    if (sk->mailbox == 0) return err;
  }
  const Off off = a->AllocObject(Pool::kOpenFile);
  OpenFile* f = a->Ptr<OpenFile>(off);
  if (f == nullptr) return -ENFILE;
  f->refs.store(1, std::memory_order_relaxed);
  f->status.store(O_RDWR | (nonblock ? O_NONBLOCK : 0));
  f->sock = a->OffsetOf(sk);
  sk->sole_pid.store(ProcessId(), std::memory_order_relaxed);
  sk->file.store(off, std::memory_order_relaxed);
  *file = off;
  return 0;
}

int SockCreate(Arena* a, int family, int type, int protocol, Off* file) {
  if (family != AF_UNIX) return -EAFNOSUPPORT;
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) return -EINVAL;
  if (base >= 11) return -EINVAL;  // SOCK_MAX, checked by __sock_create
  if (protocol != 0 && protocol != PF_UNIX) return -EPROTONOSUPPORT;
  int kind;
  switch (base) {
    case SOCK_STREAM:
    case SOCK_DGRAM:
    case SOCK_SEQPACKET:
      kind = base;
      break;
    case SOCK_RAW:  // unix_create: SOCK_RAW is quietly a datagram socket
      kind = SOCK_DGRAM;
      break;
    default:
      return -ESOCKTNOSUPPORT;
  }
  const Off off = SockAlloc(a, kind);
  SockState* sk = a->Ptr<SockState>(off);
  if (sk == nullptr) return -ENOBUFS;
  if (const int rc = NewOpenFile(a, sk, type & SOCK_NONBLOCK, file); rc != 0) {
    SockPut(a, sk);
    return rc;
  }
  return 0;
}

int SockPair(Arena* a, int family, int type, int protocol, Off files[2]) {
  if (const int rc = SockCreate(a, family, type, protocol, &files[0]); rc != 0)
    return rc;
  if (const int rc = SockCreate(a, family, type, protocol, &files[1]);
      rc != 0) {
    FilePut(a, a->Ptr<OpenFile>(files[0]));
    return rc;
  }
  Sock s0{}, s1{};
  if (!SockFromFile(a, files[0], &s0) || !SockFromFile(a, files[1], &s1)) {
    FilePut(a, a->Ptr<OpenFile>(files[0]));
    FilePut(a, a->Ptr<OpenFile>(files[1]));
    return -EIO;
  }
  // net/unix/af_unix.c: unix_socketpair: each end is the other's peer and
  // carries the creator's credentials.
  SockHold(s0.sk);
  SockHold(s1.sk);
  s0.sk->peer = a->OffsetOf(s1.sk);
  s1.sk->peer = a->OffsetOf(s0.sk);
  s0.sk->peercred = s1.sk->peercred = CurrentCred();
  if (s0.sk->type != SOCK_DGRAM)
    s0.sk->phase = s1.sk->phase = SockPhase::kEstablished;
  return 0;
}

void LockPair(SockState* x, SockState* y) {
  if (x == y) {
    x->lock.Lock();
  } else if (x < y) {
    x->lock.Lock();
    y->lock.Lock();
  } else {
    y->lock.Lock();
    x->lock.Lock();
  }
}

void UnlockPair(SockState* x, SockState* y) {
  x->lock.Unlock();
  if (x != y) y->lock.Unlock();
}

void RaiseSigpipe(int flags) {
  if (!(flags & MSG_NOSIGNAL)) pthread_kill(pthread_self(), SIGPIPE);
}

int SockTakeError(SockState* sk) {
  if (sk->err.load(std::memory_order_relaxed) == 0) return 0;
  return -sk->err.exchange(0);
}

// ---- connect / listen / accept -------------------------------------------

int SockConnect(const Sock& s, const sockaddr* addr, socklen_t len) {
  if (s.sk->type == SOCK_DGRAM) return DgramConnect(s, addr, len);
  return StreamConnect(s, addr, len);
}

int SockListen(const Sock& s, int backlog) {
  SockState* sk = s.sk;
  // net/unix/af_unix.c: unix_listen
  if (sk->type == SOCK_DGRAM) return -EOPNOTSUPP;
  if (sk->addr.len == 0) return -EINVAL;  // no autobind for listen
  MutexLock lock(&sk->lock);
  if (sk->phase != SockPhase::kClose && sk->phase != SockPhase::kListen)
    return -EINVAL;
  // __sys_listen clamps to somaxconn; a negative backlog counts as huge.
  const uint32_t somax = s.arena->limits().somaxconn;
  const uint32_t b = static_cast<uint32_t>(backlog);
  sk->backlog = b > somax ? somax : b;
  sk->phase = SockPhase::kListen;
  // init_peercred on every listen: the credentials of whoever listened
  // last, which connect copies to its client.
  sk->peercred = CurrentCred();
  SockChanged(s.arena, sk);  // senders blocked on a full backlog re-check
  return 0;
}

int SockAccept(const Sock& s, bool new_nonblock, Off* file,
               UnixAddress* peer_name) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  // net/unix/af_unix.c: unix_accept
  if (sk->type == SOCK_DGRAM) return -EOPNOTSUPP;
  WaitBudget budget = BudgetFor(s, false, sk->rcvtimeo.load());
  SockState* e = nullptr;
  const long err = WaitLoop(sk, &budget, [&]() -> long {
    if (sk->phase != SockPhase::kListen) return -EINVAL;
    if (sk->acceptq_head == 0) {
      // __skb_wait_for_more_packets gives up without an error on a
      // shut-down queue, and unix_accept turns "nothing" into EINVAL.
      if (!budget.nonblocking && (sk->shutdown.load() & kRcvShutdown))
        return -EINVAL;
      return kWouldBlock;
    }
    e = a->Ptr<SockState>(sk->acceptq_head);
    if (e == nullptr) return -EIO;
    __atomic_store_n(&sk->acceptq_head, e->accept_next, __ATOMIC_RELAXED);
    if (sk->acceptq_head == 0) sk->acceptq_tail = 0;
    e->accept_next = 0;
    --sk->acceptq_len;
    SockChanged(a, sk);  // a connector waiting on a full backlog
    return 0;
  });
  if (err != 0) return static_cast<int>(err);
  // The accept queue's reference becomes the new file's.
  if (const int rc = NewOpenFile(a, e, new_nonblock, file); rc != 0) {
    ReleaseSock(a, e, true);
    SockPut(a, e);
    return rc;
  }
  if (peer_name != nullptr) {
    const Sock ns{a, a->Ptr<OpenFile>(*file), e};
    SockGetName(ns, true, peer_name);
  }
  return 0;
}

int SockShutdown(const Sock& s, int how) {
  // net/unix/af_unix.c: unix_shutdown
  if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
  const uint32_t mode = static_cast<uint32_t>(how) + 1;
  Arena* a = s.arena;
  SockState* sk = s.sk;
  sk->lock.Lock();
  sk->shutdown.fetch_or(mode);
  SockState* peer = a->Ptr<SockState>(sk->peer);
  if (peer != nullptr) SockHold(peer);
  SockChanged(a, sk);
  sk->lock.Unlock();
  if (peer == nullptr) return 0;
  if (IsConnectionType(sk)) {
    uint32_t peer_mode = 0;
    if (mode & kRcvShutdown) peer_mode |= kSendShutdown;
    if (mode & kSendShutdown) peer_mode |= kRcvShutdown;
    MutexLock lock(&peer->lock);
    peer->shutdown.fetch_or(peer_mode);
    SockChanged(a, peer);
  } else {
    MutexLock lock(&peer->lock);
    SockChanged(a, peer);
  }
  SockPut(a, peer);
  return 0;
}

int SockGetName(const Sock& s, bool want_peer, UnixAddress* out) {
  SockState* sk = s.sk;
  SockState* target = sk;
  SockState* held = nullptr;
  if (want_peer) {
    MutexLock lock(&sk->lock);
    target = s.arena->Ptr<SockState>(sk->peer);
    if (target == nullptr) return -ENOTCONN;
    SockHold(target);
    held = target;
  }
  {
    MutexLock lock(&s.arena->header()->names_lock);
    if (target->addr.len == 0) {
      *out = UnixAddress{};
      out->len = offsetof(sockaddr_un, sun_path);
      reinterpret_cast<sockaddr_un*>(out->bytes)->sun_family = AF_UNIX;
    } else {
      *out = target->addr;
    }
  }
  if (held != nullptr) SockPut(s.arena, held);
  return 0;
}

// ---- options --------------------------------------------------------------

namespace {

// net/core/sock.c: sock_set_timeout. Stored in jiffies with the kernel's
// rounding; getsockopt converts back as sock_get_timeout does.
int SetTimeout(Arena* a, std::atomic<int64_t>* slot, const void* val,
               socklen_t len) {
  timeval tv;
  if (len < sizeof tv) return -EINVAL;
  memcpy(&tv, val, sizeof tv);
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EDOM;
  if (tv.tv_sec < 0) {
    slot->store(-1);
    return 0;
  }
  const int64_t hz = a->limits().hz;
  if ((tv.tv_sec == 0 && tv.tv_usec == 0) || tv.tv_sec >= INT64_MAX / hz - 1) {
    slot->store(0);  // MAX_SCHEDULE_TIMEOUT
    return 0;
  }
  const int64_t usec_per_jiffy = 1000000 / hz;
  slot->store(tv.tv_sec * hz +
              (tv.tv_usec + usec_per_jiffy - 1) / usec_per_jiffy);
  return 0;
}

void GetTimeout(Arena* a, int64_t jiffies, timeval* tv) {
  const int64_t hz = a->limits().hz;
  if (jiffies <= 0) {
    *tv = timeval{0, 0};
    return;
  }
  tv->tv_sec = jiffies / hz;
  tv->tv_usec = (jiffies % hz) * 1000000 / hz;
}

}  // namespace

namespace {

// Boolean options every socket keeps (sk_setsockopt's sock_valbool_flag
// and sk_reuse), which AF_UNIX never looks at: a bit each in flag_opts.
int FlagOptionBit(int name) {
  switch (name) {
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_DONTROUTE:
    case SO_BROADCAST:
    case SO_LINGER:
      return 1 << name;
    default:
      return 0;
  }
}

}  // namespace

int SockGetOpt(const Sock& s, int level, int name, void* val, socklen_t* len) {
  SockState* sk = s.sk;
  if (level == SOL_SHUNT) {
    int v;
    if (name == SHUNT_SO_SPIN_NS)
      v = static_cast<int>(sk->spin_ns.load());
    else if (name == SHUNT_SO_PERSONALITY)
      v = sk->personality.load();
    else
      return -ENOPROTOOPT;
    const socklen_t n = *len < sizeof v ? *len : sizeof v;
    memcpy(val, &v, n);
    *len = n;
    return 0;
  }
  if (level != SOL_SOCKET) return -EOPNOTSUPP;
  if (static_cast<int>(*len) < 0) return -EINVAL;
  union {
    int i;
    timeval tv;
    ucred cred;
    linger ling;
  } v;
  memset(&v, 0, sizeof v);
  socklen_t lv = sizeof(int);
  switch (name) {
    case SO_TYPE:
      v.i = sk->type;
      break;
    case SO_DOMAIN:
      v.i = AF_UNIX;
      break;
    case SO_PROTOCOL:
      v.i = 0;
      break;
    case SO_ERROR:
      v.i = -SockTakeError(sk);
      break;
    case SO_ACCEPTCONN:
      v.i = sk->phase == SockPhase::kListen;
      break;
    case SO_SNDBUF:
      v.i = sk->sndbuf.load();
      break;
    case SO_RCVBUF:
      v.i = sk->rcvbuf.load();
      break;
    case SO_RCVLOWAT:
      v.i = sk->rcvlowat.load();
      break;
    case SO_SNDLOWAT:
      v.i = 1;
      break;
    case SO_PEEK_OFF:
      v.i = sk->peek_off.load();
      break;
    case SO_PRIORITY:
      v.i = sk->priority.load();
      break;
    case SO_LINGER:
      v.ling.l_onoff = (sk->flag_opts.load() & FlagOptionBit(SO_LINGER)) != 0;
      v.ling.l_linger =
          static_cast<int>(sk->linger_jiffies.load() / s.arena->limits().hz);
      lv = sizeof(linger);
      break;
    case SO_PASSCRED:
      v.i = sk->passcred;
      break;
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_DONTROUTE:
    case SO_BROADCAST:
      v.i = (sk->flag_opts.load() & FlagOptionBit(name)) != 0;
      break;
    case SO_OOBINLINE:
      v.i = sk->oobinline;
      break;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
      // On x86-64 the old timeval and the new __kernel_sock_timeval have
      // the same layout.
      GetTimeout(
          s.arena,
          (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW ? sk->rcvtimeo
                                                              : sk->sndtimeo)
              .load(),
          &v.tv);
      lv = sizeof(timeval);
      break;
    case SO_PEERCRED: {
      MutexLock lock(&sk->lock);
      if (sk->peercred.valid) {
        v.cred.pid = sk->peercred.pid;
        v.cred.uid = sk->peercred.uid;
        v.cred.gid = sk->peercred.gid;
      } else {
        v.cred.pid = 0;
        v.cred.uid = static_cast<uid_t>(-1);
        v.cred.gid = static_cast<gid_t>(-1);
      }
      lv = sizeof(ucred);
      break;
    }
    default:
      return -ENOPROTOOPT;
  }
  if (*len > lv) *len = lv;
  memcpy(val, &v, *len);
  return 0;
}

int SockSetOpt(const Sock& s, int level, int name, const void* val,
               socklen_t len) {
  SockState* sk = s.sk;
  if (level == SOL_SHUNT) {
    if (name != SHUNT_SO_SPIN_NS && name != SHUNT_SO_PERSONALITY)
      return -ENOPROTOOPT;
    if (len < sizeof(int)) return -EINVAL;
    int v;
    memcpy(&v, val, sizeof v);
    if (name == SHUNT_SO_PERSONALITY) {
      if (v != SHUNT_PERSONALITY_LINUX && v != SHUNT_PERSONALITY_NONSTOP)
        return -EINVAL;
      sk->personality.store(static_cast<uint8_t>(v));
      return 0;
    }
    if (v < 0) return -EINVAL;
    sk->spin_ns.store(v);
    return 0;
  }
  if (level != SOL_SOCKET) return -EOPNOTSUPP;
  // net/core/sock.c: sk_setsockopt reads an int for every option first.
  if (len < sizeof(int)) return -EINVAL;
  int v;
  memcpy(&v, val, sizeof v);
  const ArenaLimits& lim = s.arena->limits();
  // sk_setsockopt: the value is doubled (for bookkeeping overhead) and
  // floored; the plain options are capped by the sysctl, the FORCE ones
  // need privilege (CAP_NET_ADMIN; here: effective uid 0).
  const auto set_buf = [](std::atomic<int32_t>* slot, uint32_t u, int min) {
    if (u > INT32_MAX / 2) u = INT32_MAX / 2;
    const int nb = static_cast<int>(u) * 2;
    slot->store(nb < min ? min : nb);
  };
  switch (name) {
    case SO_SNDBUF:
      set_buf(&sk->sndbuf, std::min(static_cast<uint32_t>(v), lim.wmem_max),
              kMinSndbuf);
      break;
    case SO_RCVBUF:
      set_buf(&sk->rcvbuf, std::min(static_cast<uint32_t>(v), lim.rmem_max),
              kMinRcvbuf);
      break;
    case SO_SNDBUFFORCE:
    case SO_RCVBUFFORCE:
      if (geteuid() != 0) return -EPERM;
      if (name == SO_SNDBUFFORCE)
        set_buf(&sk->sndbuf, static_cast<uint32_t>(v < 0 ? 0 : v), kMinSndbuf);
      else
        set_buf(&sk->rcvbuf, static_cast<uint32_t>(v < 0 ? 0 : v), kMinRcvbuf);
      break;
    case SO_RCVLOWAT:
      sk->rcvlowat.store(v < 0 ? INT32_MAX : (v == 0 ? 1 : v));
      break;
    case SO_PEEK_OFF:
      sk->peek_off.store(v);
      break;
    case SO_LINGER: {
      if (len < sizeof(linger)) return -EINVAL;
      linger l;
      memcpy(&l, val, sizeof l);
      if (l.l_onoff == 0) {
        sk->flag_opts.fetch_and(
            static_cast<uint16_t>(~FlagOptionBit(SO_LINGER)));
        break;
      }
      // sk_setsockopt: seconds (an int widened to unsigned long, so a
      // negative one is huge) to jiffies, capped at MAX_SCHEDULE_TIMEOUT.
      const uint64_t hz = s.arena->limits().hz;
      const uint64_t secs =
          static_cast<uint64_t>(static_cast<int64_t>(l.l_linger));
      sk->linger_jiffies.store(
          secs >= INT64_MAX / hz ? INT64_MAX : static_cast<int64_t>(secs * hz));
      sk->flag_opts.fetch_or(static_cast<uint16_t>(FlagOptionBit(SO_LINGER)));
      break;
    }
    case SO_PRIORITY:
      // sk_setsockopt: 0..6 for anyone, any value with CAP_NET_ADMIN or
      // CAP_NET_RAW (here: effective uid 0, DIFFERENCES.md 2).
      if ((v < 0 || v > 6) && geteuid() != 0) return -EPERM;
      sk->priority.store(v);
      break;
    case SO_PASSCRED:
      sk->passcred = v != 0;
      break;
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_DONTROUTE:
    case SO_BROADCAST:
      if (v != 0)
        sk->flag_opts.fetch_or(static_cast<uint16_t>(FlagOptionBit(name)));
      else
        sk->flag_opts.fetch_and(static_cast<uint16_t>(~FlagOptionBit(name)));
      break;
    case SO_OOBINLINE:
      sk->oobinline = v != 0;
      break;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
      return SetTimeout(s.arena, &sk->rcvtimeo, val, len);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
      return SetTimeout(s.arena, &sk->sndtimeo, val, len);
    default:  // read-only (SO_TYPE, SO_PEERCRED, ...) or unknown
      return -ENOPROTOOPT;
  }
  // A larger send buffer may free blocked senders and pollers.
  MutexLock lock(&sk->lock);
  SockChanged(s.arena, sk);
  return 0;
}

// ---- ioctl and poll -------------------------------------------------------

namespace {

// In-flight bytes a sender has queued (SIOCOUTQ, unix_writable): payload
// at the peer for stream (DIFFERENCES.md 1), truesize charge otherwise.
uint32_t OutqLen(const Sock& s) {
  SockState* sk = s.sk;
  if (sk->type != SOCK_STREAM) return sk->wmem.load();
  SockState* peer = s.arena->Ptr<SockState>(sk->peer);
  return peer == nullptr ? 0
                         : __atomic_load_n(&peer->rq.bytes, __ATOMIC_RELAXED);
}

}  // namespace

int SockIoctl(const Sock& s, unsigned long req, void* arg, bool* handled) {
  SockState* sk = s.sk;
  *handled = true;
  int v = 0;
  switch (req) {
    case SIOCINQ: {  // == FIONREAD; net/unix/af_unix.c: unix_inq_len
      MutexLock lock(&sk->lock);
      if (sk->phase == SockPhase::kListen) return -EINVAL;
      if (sk->type == SOCK_DGRAM) {
        const Segment* f = sk->rq.Front(s.arena);
        v = f == nullptr ? 0 : static_cast<int>(f->len);
      } else {
        // Linux 6.18 reads a stream socket's count from u->inq_len, which
        // queue_oob and unix_stream_sendmsg raise, and unix_stream_recv_urg
        // and unix_stream_read_generic lower by what they take; manage_oob
        // never lowers it for an urgent byte a read passes over (not
        // inline), so every such byte is still counted, forever.
        v = static_cast<int>(sk->rq.bytes + sk->inq_skipped_urgent);
        // A taken urgent byte still in the ring is not data any more.
        for (uint32_t i = sk->rq.seg_head;
             sk->rq.urgent != 0 && i != sk->rq.seg_tail; ++i) {
          const Segment* seg = sk->rq.At(s.arena, i);
          if (seg != nullptr && seg->len == 0) --v;
        }
      }
      break;
    }
    case SIOCOUTQ:
      v = static_cast<int>(OutqLen(s));
      break;
    case SIOCATMARK: {
      // unix_ioctl: a stream question only. At the mark when the next byte
      // is the urgent one, or the next segment is a taken urgent byte with
      // no other urgent byte or the urgent byte right after it; with an
      // empty queue, only a listener's pending connection (an empty skb in
      // Linux) counts.
      if (sk->type != SOCK_STREAM) return -EOPNOTSUPP;
      MutexLock lock(&sk->lock);
      const Segment* f = sk->rq.Front(s.arena);
      if (f == nullptr) {
        v = sk->phase == SockPhase::kListen && sk->acceptq_head != 0;
        break;
      }
      const bool pending = sk->oob_pending.load(std::memory_order_relaxed);
      const uint32_t head = sk->rq.seg_head;
      const bool next_is_oob =
          pending && head + 1 != sk->rq.seg_tail && sk->oob_index == head + 1;
      v = (pending && sk->oob_index == head) ||
          (f->len == 0 && (!pending || next_is_oob));
      break;
    }
    default:
      *handled = false;
      return 0;
  }
  memcpy(arg, &v, sizeof v);
  return 0;
}

uint32_t SockPoll(const Sock& s) {
  SockState* sk = s.sk;
  const uint32_t shut = sk->shutdown.load(std::memory_order_acquire);
  uint32_t mask = 0;
  if (sk->err.load(std::memory_order_relaxed) != 0) mask |= POLLERR;
  if (shut == kShutdownMask) mask |= POLLHUP;
  if (shut & kRcvShutdown) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
  if (sk->oob_pending.load(std::memory_order_relaxed)) mask |= POLLPRI;
  const bool listening = sk->phase == SockPhase::kListen;
  if (listening ? __atomic_load_n(&sk->acceptq_head, __ATOMIC_RELAXED) != 0
                : __atomic_load_n(&sk->rq.seg_tail, __ATOMIC_RELAXED) !=
                      __atomic_load_n(&sk->rq.seg_head, __ATOMIC_RELAXED))
    mask |= POLLIN | POLLRDNORM;
  if (sk->type == SOCK_STREAM) {
    if (sk->phase == SockPhase::kClose) mask |= POLLHUP;
    // unix_writable: in-flight bytes at most a quarter of the send buffer,
    // counted as refcount_read(&sk_wmem_alloc), which is one more than the
    // charge (the allocation holds a reference of its own).
    if (!listening &&
        (uint64_t{OutqLen(s)} + 1) * 4 <= uint64_t(sk->sndbuf.load()))
      mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
  }
  // net/unix/af_unix.c: unix_dgram_poll (also for seqpacket)
  if (sk->type == SOCK_SEQPACKET) {
    if (sk->phase == SockPhase::kClose) mask |= POLLHUP;
    if (listening) return mask;
  }
  bool writable =
      (uint64_t{sk->wmem.load()} + 1) * 4 <= uint64_t(sk->sndbuf.load());
  if (writable) {
    MutexLock lock(&sk->lock);
    SockState* other = s.arena->Ptr<SockState>(sk->peer);
    if (other != nullptr && other->peer != s.arena->OffsetOf(sk) &&
        DgramQueueFull(s.arena, other))
      writable = false;
  }
  if (writable) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
  return mask;
}

ssize_t SockSendmsg(const Sock& s, MsgArgs* m, int flags) {
  if (s.sk->type == SOCK_STREAM) return StreamSendmsg(s, m, flags);
  return DgramSendmsg(s, m, flags);
}

ssize_t SockRecvmsg(const Sock& s, MsgArgs* m, int flags) {
  // The protocols take descriptors into `scm`; they reach the caller here
  // (net/unix/af_unix.c: scm_recv_unix after the copy).
  ScmReceived scm(s.arena);
  m->scm = &scm;
  const bool stream = s.sk->type == SOCK_STREAM;
  const ssize_t r =
      stream ? StreamRecvmsg(s, m, flags) : DgramRecvmsg(s, m, flags);
  // unix_stream_read_generic hands its scm to scm_recv_unix whatever the
  // read's outcome, so credentials reach the control buffer even when it
  // fails (the caller then reports no msg_controllen);
  // unix_dgram_recvmsg only with a datagram in hand.
  if (stream ? scm.reading() : scm.has_message())
    ScmDeliver(&scm, m, s.sk->passcred.load());
  m->scm = nullptr;
  return r;
}

}  // namespace shunt

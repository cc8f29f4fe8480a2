// What all AF_UNIX socket types share: creation, lifetime and release,
// listen/accept, shutdown, names, options, ioctls and readiness
// (net/unix/af_unix.c, net/core/sock.c).
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#include <linux/socket.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <shunt/shunt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

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
  sk->flags.store(kSockPassRights);
  sk->incoming_cpu.store(-1);
  sk->max_pacing_rate.store(UINT64_MAX);
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
  PeerCred c{static_cast<int32_t>(getpid()), geteuid(), getegid(), 1, 0, {}};
  // The supplementary groups, ascending as the kernel keeps them; only the
  // first kPeerGroupsMax of a longer list.
  int n = getgroups(kPeerGroupsMax, c.groups);
  if (n < 0 && errno == EINVAL) {
    std::vector<gid_t> all(static_cast<size_t>(getgroups(0, nullptr)));
    n = getgroups(static_cast<int>(all.size()), all.data());
    if (n > kPeerGroupsMax) n = kPeerGroupsMax;
    if (n > 0) std::copy_n(all.begin(), n, c.groups);
  }
  c.ngroups = n < 0 ? 0 : static_cast<uint32_t>(n);
  return c;
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
    {
      MutexLock lock(&peer->lock);
      peer->shutdown.fetch_or(peer_mode);
      SockChanged(a, peer);
    }
    // The peer's stream senders wait on our queue (for room there) and
    // decide on their own shutdown, set just now: a sender woken by the
    // first bump may have looked too early.
    MutexLock lock(&sk->lock);
    SockChanged(a, sk);
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

// Bytes a stream or seqpacket socket has to read (SIOCINQ, SO_INQ), lock
// held. Linux 6.18 reads them from u->inq_len, which queue_oob and
// unix_stream_sendmsg raise, and unix_stream_recv_urg and
// unix_stream_read_generic lower by what they take; manage_oob never
// lowers it for an urgent byte a read passes over (not inline), so every
// such byte is still counted, forever.
int InqLen(Arena* a, SockState* sk) {
  int v = static_cast<int>(sk->rq.bytes + sk->inq_skipped_urgent);
  // A taken urgent byte still in the ring is not data any more.
  for (uint32_t i = sk->rq.seg_head; sk->rq.urgent != 0 && i != sk->rq.seg_tail;
       ++i) {
    const Segment* seg = sk->rq.At(a, i);
    if (seg != nullptr && seg->len == 0) --v;
  }
  return v;
}

}  // namespace

// ---- options --------------------------------------------------------------

namespace {

// net/core/sock.c: sock_set_timeout. Stored in jiffies with the kernel's
// rounding; getsockopt converts back as sock_get_timeout does.
int SetTimeout(Arena* a, std::atomic<int64_t>* slot, const void* optval,
               socklen_t optlen) {
  timeval tv;
  if (optlen < sizeof tv) return -EINVAL;
  if (!CopyUser(&tv, optval, sizeof tv)) return -EFAULT;
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

// The on/off options kept as a SockFlag (sk_setsockopt's
// sock_valbool_flag and one-bit fields); 0 for the others.
uint32_t FlagOf(int name) {
  switch (name) {
    case SO_REUSEADDR:
      return kSockReuseAddr;
    case SO_KEEPALIVE:
      return kSockKeepalive;
    case SO_DONTROUTE:
      return kSockDontRoute;
    case SO_BROADCAST:
      return kSockBroadcast;
    case SO_DEBUG:
      return kSockDebug;
    case SO_NO_CHECK:
      return kSockNoCheck;
    case SO_RXQ_OVFL:
      return kSockRxqOvfl;
    case SO_WIFI_STATUS:
      return kSockWifiStatus;
    case SO_NOFCS:
      return kSockNoFcs;
    case SO_LOCK_FILTER:
      return kSockFilterLocked;
    case SO_SELECT_ERR_QUEUE:
      return kSockSelectErrQueue;
    case SO_PREFER_BUSY_POLL:
      return kSockPreferBusyPoll;
    case SO_RCVMARK:
      return kSockRcvMark;
    case SO_RCVPRIORITY:
      return kSockRcvPriority;
    case SO_PASSSEC:
      return kSockPassSec;
    case SO_PASSRIGHTS:
      return kSockPassRights;
    default:
      return 0;
  }
}

void SetFlag(SockState* sk, uint32_t flag, bool on) {
  if (on)
    sk->flags.fetch_or(flag);
  else
    sk->flags.fetch_and(~flag);
}

// Privilege as shunt models it (docs/DIFFERENCES.md 2): the kernel's
// sockopt_capable / sockopt_ns_capable of CAP_NET_ADMIN or CAP_NET_RAW.
bool Privileged() { return geteuid() == 0; }

// SOF_TIMESTAMPING_MASK of Linux 6.18 (flags up to
// SOF_TIMESTAMPING_TX_COMPLETION), and the flags sock_set_timestamping
// checks by name.
constexpr uint32_t kTimestampingMask = (1u << 19) - 1;
constexpr uint32_t kTimestampingOptIdTcp = 1u << 16;

// net/core/sock.c: sock_set_timestamp (SO_TIMESTAMP{,NS}_{OLD,NEW}).
void SetTimestamp(SockState* sk, int name, bool on) {
  if (!on) {
    SetFlag(sk, kSockRcvTstamp | kSockRcvTstampNs, false);
    return;
  }
  SetFlag(sk, kSockTstampNew,
          name == SO_TIMESTAMP_NEW || name == SO_TIMESTAMPNS_NEW);
  SetFlag(sk, kSockRcvTstampNs,
          name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPNS_NEW);
  SetFlag(sk, kSockRcvTstamp, true);
}

// net/core/sock.c: sock_set_timestamping. The struct so_timestamping is
// read when optlen is exactly its size, otherwise the int is the flags.
int SetTimestamping(SockState* sk, int name, int v, const void* optval,
                    socklen_t optlen) {
  so_timestamping ts{v, 0};
  if (optlen == sizeof ts && !CopyUser(&ts, optval, sizeof ts)) return -EFAULT;
  const auto flags = static_cast<uint32_t>(ts.flags);
  if (flags & ~kTimestampingMask) return -EINVAL;
  if ((flags & kTimestampingOptIdTcp) && !(flags & SOF_TIMESTAMPING_OPT_ID))
    return -EINVAL;
  if ((flags & SOF_TIMESTAMPING_OPT_STATS) &&
      !(flags & SOF_TIMESTAMPING_OPT_TSONLY))
    return -EINVAL;
  // sock_timestamping_bind_phc: a socket bound to no device has no clock
  // to bind; a device has none of the PHC virtual clocks it asks for
  // (docs/DIFFERENCES.md).
  if (flags & SOF_TIMESTAMPING_BIND_PHC)
    return sk->bound_dev_if.load() == 0 ? -EOPNOTSUPP : -EINVAL;
  sk->tsflags.store(flags);
  SetFlag(sk, kSockTstampNew, name == SO_TIMESTAMPING_NEW);
  return 0;
}

// sk_setsockopt's SO_TXTIME: struct sock_txtime, exactly.
int SetTxtime(SockState* sk, const void* optval, socklen_t optlen) {
  sock_txtime t;
  if (optlen != sizeof t) return -EINVAL;
  if (!CopyUser(&t, optval, sizeof t)) return -EFAULT;
  if (t.flags & ~SOF_TXTIME_FLAGS_MASK) return -EINVAL;
  if (t.clockid != CLOCK_MONOTONIC && !Privileged()) return -EPERM;
  // sockopt_validate_clockid
  if (t.clockid != CLOCK_REALTIME && t.clockid != CLOCK_MONOTONIC &&
      t.clockid != CLOCK_TAI)
    return -EINVAL;
  sk->txtime_clockid.store(t.clockid);
  SetFlag(sk, kSockTxtimeDeadline, t.flags & SOF_TXTIME_DEADLINE_MODE);
  SetFlag(sk, kSockTxtimeReportErrors, t.flags & SOF_TXTIME_REPORT_ERRORS);
  return 0;
}

// net/core/sock.c: sock_bindtoindex_locked. No check that the device
// exists; changing a binding needs CAP_NET_RAW.
int BindToIndex(SockState* sk, int ifindex) {
  if (sk->bound_dev_if.load() != 0 && !Privileged()) return -EPERM;
  if (ifindex < 0) return -EINVAL;
  sk->bound_dev_if.store(ifindex);
  return 0;
}

// net/core/sock.c: sock_setbindtodevice: up to IFNAMSIZ-1 bytes of a
// name, read before anything is checked; an empty name unbinds.
int SetBindToDevice(SockState* sk, const void* optval, socklen_t optlen) {
  char name[IFNAMSIZ] = {};
  const size_t n = std::min<size_t>(optlen, IFNAMSIZ - 1);
  if (n != 0 && !CopyUser(name, optval, n)) return -EFAULT;
  int ifindex = 0;
  if (name[0] != '\0') {
    ifindex = static_cast<int>(if_nametoindex(name));
    if (ifindex == 0) return -ENODEV;
  }
  return BindToIndex(sk, ifindex);
}

// A classic BPF program as SO_ATTACH_FILTER and SO_ATTACH_REUSEPORT_CBPF
// take it (net/core/filter.c: copy_bpf_fprog_from_user, then __get_filter:
// a locked socket refuses it, then bpf_check_basics_ok); 0 for a program
// the kernel would go on to load.
int CheckFprog(const SockState* sk, const void* optval, socklen_t optlen) {
  sock_fprog fprog;
  if (optlen != sizeof fprog) return -EINVAL;
  if (!CopyUser(&fprog, optval, sizeof fprog)) return -EFAULT;
  if (SockHasFlag(sk, kSockFilterLocked)) return -EPERM;
  if (fprog.filter == nullptr || fprog.len == 0 || fprog.len > BPF_MAXINSNS)
    return -EINVAL;
  return 0;
}

// An eBPF program descriptor as SO_ATTACH_BPF and SO_ATTACH_REUSEPORT_EBPF
// take it (sk_attach_bpf, sk_reuseport_attach_bpf: a u32, a locked socket
// refuses it, then bpf_prog_get: EBADF for no descriptor, EINVAL for one
// that is not a BPF program); 0 for a BPF program.
int CheckBpfProg(const SockState* sk, int fd, socklen_t optlen) {
  if (optlen != sizeof(uint32_t)) return -EINVAL;
  if (SockHasFlag(sk, kSockFilterLocked)) return -EPERM;
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return -EBADF;
  char link[64];
  char target[32] = {};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  return n > 0 && strcmp(target, "anon_inode:bpf-prog") == 0 ? 0 : -EINVAL;
}

// sk_setsockopt for SOL_SOCKET; `v` is the int every option but
// SO_BINDTODEVICE reads first.
int SetSocketOption(const Sock& s, int name, int v, const void* optval,
                    socklen_t optlen) {
  SockState* sk = s.sk;
  const ArenaLimits& lim = s.arena->limits();
  // sk_setsockopt: the value is doubled (for bookkeeping overhead) and
  // floored; the plain options are capped by the sysctl, the FORCE ones
  // need privilege (CAP_NET_ADMIN; here: effective uid 0). Each sets the
  // lock bit SO_BUF_LOCK reports.
  const auto set_buf = [sk](std::atomic<int32_t>* slot, uint32_t u, int min,
                            uint8_t lock) {
    if (u > INT32_MAX / 2) u = INT32_MAX / 2;
    const int nb = static_cast<int>(u) * 2;
    slot->store(nb < min ? min : nb);
    sk->userlocks.fetch_or(lock);
  };
  switch (name) {
    case SO_SNDBUF:
      set_buf(&sk->sndbuf, std::min(static_cast<uint32_t>(v), lim.wmem_max),
              kMinSndbuf, SOCK_SNDBUF_LOCK);
      return 0;
    case SO_RCVBUF:
      set_buf(&sk->rcvbuf, std::min(static_cast<uint32_t>(v), lim.rmem_max),
              kMinRcvbuf, SOCK_RCVBUF_LOCK);
      return 0;
    case SO_SNDBUFFORCE:
    case SO_RCVBUFFORCE:
      if (!Privileged()) return -EPERM;
      if (name == SO_SNDBUFFORCE)
        set_buf(&sk->sndbuf, static_cast<uint32_t>(v < 0 ? 0 : v), kMinSndbuf,
                SOCK_SNDBUF_LOCK);
      else
        set_buf(&sk->rcvbuf, static_cast<uint32_t>(v < 0 ? 0 : v), kMinRcvbuf,
                SOCK_RCVBUF_LOCK);
      return 0;
    case SO_BUF_LOCK:
      if (v & ~SOCK_BUF_LOCK_MASK) return -EINVAL;
      sk->userlocks.store(static_cast<uint8_t>(v));
      return 0;
    case SO_RCVLOWAT:
      sk->rcvlowat.store(v < 0 ? INT32_MAX : (v == 0 ? 1 : v));
      return 0;
    case SO_PEEK_OFF:
      sk->peek_off.store(v);
      return 0;
    case SO_LINGER: {
      if (optlen < sizeof(linger)) return -EINVAL;
      linger l;
      if (!CopyUser(&l, optval, sizeof l)) return -EFAULT;
      if (l.l_onoff == 0) {
        SetFlag(sk, kSockLinger, false);
        return 0;
      }
      // sk_setsockopt: seconds (an int widened to unsigned long, so a
      // negative one is huge) to jiffies, capped at MAX_SCHEDULE_TIMEOUT.
      const uint64_t hz = lim.hz;
      const uint64_t secs =
          static_cast<uint64_t>(static_cast<int64_t>(l.l_linger));
      sk->linger_jiffies.store(
          secs >= INT64_MAX / hz ? INT64_MAX : static_cast<int64_t>(secs * hz));
      SetFlag(sk, kSockLinger, true);
      return 0;
    }
    case SO_PRIORITY:
      // sk_setsockopt: 0..6 for anyone, any value with CAP_NET_ADMIN or
      // CAP_NET_RAW (here: effective uid 0, DIFFERENCES.md 2).
      if ((v < 0 || v > 6) && !Privileged()) return -EPERM;
      sk->priority.store(v);
      return 0;
    case SO_PASSCRED:
      sk->passcred = v != 0;
      return 0;
    case SO_OOBINLINE:
      sk->oobinline = v != 0;
      return 0;
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
      return SetTimeout(s.arena, &sk->rcvtimeo, optval, optlen);
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
      return SetTimeout(s.arena, &sk->sndtimeo, optval, optlen);
    case SO_DEBUG:
      if (v != 0 && !Privileged()) return -EACCES;
      break;
    case SO_PREFER_BUSY_POLL:
      if (v != 0 && !Privileged()) return -EPERM;
      break;
    case SO_LOCK_FILTER:
      if (SockHasFlag(sk, kSockFilterLocked) && v == 0) return -EPERM;
      break;
    case SO_BSDCOMPAT:   // obsolete, accepted and forgotten
    case SO_CNX_ADVICE:  // dst_negative_advice: AF_UNIX has no route
      return 0;
    case SO_REUSEPORT:  // for inet sockets only
      return v != 0 ? -EOPNOTSUPP : 0;
    case SO_MARK:
      if (!Privileged()) return -EPERM;
      sk->mark.store(static_cast<uint32_t>(v));
      return 0;
    case SO_BUSY_POLL:
      if (v < 0) return -EINVAL;
      sk->busy_poll_usec.store(static_cast<uint32_t>(v));
      return 0;
    case SO_BUSY_POLL_BUDGET:
      if (v > static_cast<int>(sk->busy_poll_budget.load()) && !Privileged())
        return -EPERM;
      if (v < 0 || v > UINT16_MAX) return -EINVAL;
      sk->busy_poll_budget.store(static_cast<uint32_t>(v));
      return 0;
    case SO_INCOMING_CPU:
      sk->incoming_cpu.store(v);
      return 0;
    case SO_MAX_PACING_RATE: {
      // An int (~0U meaning ~0UL), or an unsigned long when there is room.
      uint64_t rate = v == -1 ? UINT64_MAX : static_cast<uint32_t>(v);
      if (optlen >= sizeof rate && !CopyUser(&rate, optval, sizeof rate))
        return -EFAULT;
      sk->max_pacing_rate.store(rate);
      return 0;
    }
    case SO_TIMESTAMP_OLD:
    case SO_TIMESTAMP_NEW:
    case SO_TIMESTAMPNS_OLD:
    case SO_TIMESTAMPNS_NEW:
      SetTimestamp(sk, name, v != 0);
      return 0;
    case SO_TIMESTAMPING_OLD:
    case SO_TIMESTAMPING_NEW:
      return SetTimestamping(sk, name, v, optval, optlen);
    case SO_TXTIME:
      return SetTxtime(sk, optval, optlen);
    case SO_BINDTOIFINDEX:
      return BindToIndex(sk, v);
    case SO_INQ:  // net/unix/af_unix.c: unix_setsockopt, stream only
      if (sk->type != SOCK_STREAM) return -ENOPROTOOPT;
      if (v != 0 && v != 1) return -EINVAL;
      SetFlag(sk, kSockRecvInq, v != 0);
      return 0;
    case SO_ZEROCOPY:  // for inet and RDS sockets only
    case SO_TXREHASH:  // for TCP only
      return -EOPNOTSUPP;
    case SO_RESERVE_MEM:  // AF_UNIX has no memory accounting to reserve in
      return v < 0 ? -EINVAL : -EOPNOTSUPP;
    case SO_DEVMEM_DONTNEED:  // sock_devmem_dontneed: TCP only
      return -EBADF;
    case SO_DETACH_FILTER:  // sk_detach_filter: no filter is ever attached
      return SockHasFlag(sk, kSockFilterLocked) ? -EPERM : -ENOENT;
    case SO_ATTACH_FILTER:
      if (const int rc = CheckFprog(sk, optval, optlen); rc != 0) return rc;
      return -EOPNOTSUPP;  // no socket filters (docs/DIFFERENCES.md)
    case SO_ATTACH_BPF:
      if (const int rc = CheckBpfProg(sk, v, optlen); rc != 0) return rc;
      return -EOPNOTSUPP;  // no socket filters (docs/DIFFERENCES.md)
    // sk_reuseport_attach_filter / _bpf: a socket without SO_REUSEPORT
    // (never set on AF_UNIX) has no group to attach a program to.
    case SO_ATTACH_REUSEPORT_CBPF:
      if (const int rc = CheckFprog(sk, optval, optlen); rc != 0) return rc;
      return -EINVAL;
    case SO_ATTACH_REUSEPORT_EBPF:
      if (const int rc = CheckBpfProg(sk, v, optlen); rc != 0) return rc;
      return -EINVAL;
    case SO_DETACH_REUSEPORT_BPF:
      return -EINVAL;
    default:  // read-only (SO_TYPE, SO_PEERCRED, ...) or unknown
      if (FlagOf(name) == 0) return -ENOPROTOOPT;
      break;
  }
  // The on/off options, their checks passed.
  SetFlag(sk, FlagOf(name), v != 0);
  return 0;
}

}  // namespace

int SockSetOpt(const Sock& s, int level, int name, const void* optval,
               socklen_t optlen) {
  SockState* sk = s.sk;
  if (level == SOL_SHUNT) {
    if (name != SHUNT_SO_SPIN_NS && name != SHUNT_SO_PERSONALITY)
      return -ENOPROTOOPT;
    if (optlen < sizeof(int)) return -EINVAL;
    int v;
    if (!CopyUser(&v, optval, sizeof v)) return -EFAULT;
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
  // net/socket.c: do_sock_setsockopt: AF_UNIX has no other level, and
  // says so before it reads anything.
  if (level != SOL_SOCKET) return -EOPNOTSUPP;
  // net/core/sock.c: sk_setsockopt: SO_BINDTODEVICE reads a name; every
  // other option reads an int first, and more only if it needs more.
  int rc;
  if (name == SO_BINDTODEVICE) {
    rc = SetBindToDevice(sk, optval, optlen);
  } else {
    // A stream socket's SO_INQ is unix_setsockopt's, which wants exactly
    // an int before it reads.
    if (name == SO_INQ && sk->type == SOCK_STREAM && optlen != sizeof(int))
      return -EINVAL;
    if (optlen < sizeof(int)) return -EINVAL;
    int v;
    if (!CopyUser(&v, optval, sizeof v)) return -EFAULT;
    rc = SetSocketOption(s, name, v, optval, optlen);
  }
  if (rc != 0) return rc;
  // A larger send buffer may free blocked senders and pollers.
  MutexLock lock(&sk->lock);
  SockChanged(s.arena, sk);
  return 0;
}

namespace {

// What getsockopt can report, at most (SO_PEERGROUPS, SO_PEERNAME).
union OptValue {
  int i;
  uint64_t u64;
  timeval tv;
  ucred cred;
  linger ling;
  so_timestamping ts;
  sock_txtime txtime;
  uint32_t meminfo[SK_MEMINFO_VARS];
  gid_t groups[kPeerGroupsMax];
  uint8_t bytes[sizeof(UnixAddress::bytes)];
  char name[IFNAMSIZ];
};

// SO_COOKIE: the socket's inode number in the arena, which no other
// socket of the arena ever has, with a bit set that the kernel's cookies
// (a counter from 1) never reach, so it equals no kernel socket's.
constexpr uint64_t kCookieBit = uint64_t{1} << 62;

// sk_getsockopt for SOL_SOCKET: the value in *v and its size in *lv
// (getsockopt then copies min(len, *lv) bytes). -ERANGE asks for *lv to
// be reported as the length needed.
int GetSocketOption(const Sock& s, int name, int len, OptValue* v, int* lv) {
  SockState* sk = s.sk;
  *lv = sizeof(int);
  if (const uint32_t flag = FlagOf(name); flag != 0) {
    v->i = SockHasFlag(sk, flag);
    return 0;
  }
  switch (name) {
    case SO_TYPE:
      v->i = sk->type;
      return 0;
    case SO_DOMAIN:
      v->i = AF_UNIX;
      return 0;
    case SO_PROTOCOL:
    case SO_BSDCOMPAT:
    case SO_REUSEPORT:
    case SO_ZEROCOPY:
    case SO_RESERVE_MEM:
    case SO_INCOMING_NAPI_ID:
      v->i = 0;
      return 0;
    case SO_ERROR:
      v->i = -SockTakeError(sk);
      return 0;
    case SO_ACCEPTCONN:
      v->i = sk->phase == SockPhase::kListen;
      return 0;
    case SO_SNDBUF:
      v->i = sk->sndbuf.load();
      return 0;
    case SO_RCVBUF:
      v->i = sk->rcvbuf.load();
      return 0;
    case SO_BUF_LOCK:
      v->i = sk->userlocks.load();
      return 0;
    case SO_RCVLOWAT:
      v->i = sk->rcvlowat.load();
      return 0;
    case SO_SNDLOWAT:
      v->i = 1;
      return 0;
    case SO_PEEK_OFF:
      v->i = sk->peek_off.load();
      return 0;
    case SO_PRIORITY:
      v->i = sk->priority.load();
      return 0;
    case SO_LINGER:
      v->ling.l_onoff = SockHasFlag(sk, kSockLinger);
      v->ling.l_linger =
          static_cast<int>(sk->linger_jiffies.load() / s.arena->limits().hz);
      *lv = sizeof(linger);
      return 0;
    case SO_PASSCRED:
      v->i = sk->passcred;
      return 0;
    case SO_OOBINLINE:
      v->i = sk->oobinline;
      return 0;
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
          &v->tv);
      *lv = sizeof(timeval);
      return 0;
    case SO_PEERCRED: {
      MutexLock lock(&sk->lock);
      if (sk->peercred.valid) {
        v->cred.pid = sk->peercred.pid;
        v->cred.uid = sk->peercred.uid;
        v->cred.gid = sk->peercred.gid;
      } else {
        v->cred.pid = 0;
        v->cred.uid = static_cast<uid_t>(-1);
        v->cred.gid = static_cast<gid_t>(-1);
      }
      *lv = sizeof(ucred);
      return 0;
    }
    case SO_PEERGROUPS: {
      // The whole list or, when it does not fit, the length it needs.
      MutexLock lock(&sk->lock);
      if (!sk->peercred.valid) return -ENODATA;
      // Bounded: the count is arena data.
      const uint32_t n =
          std::min<uint32_t>(sk->peercred.ngroups, kPeerGroupsMax);
      *lv = static_cast<int>(n * sizeof(gid_t));
      if (len < *lv) return -ERANGE;
      memcpy(v->groups, sk->peercred.groups, n * sizeof(gid_t));
      return 0;
    }
    case SO_PEERNAME: {
      // As getpeername reports it, but never more than there is: a longer
      // buffer is refused and a shorter one gets the start.
      UnixAddress peer;
      if (SockGetName(s, true, &peer) != 0) return -ENOTCONN;
      const uint32_t plen =
          std::min<uint32_t>(peer.len, sizeof peer.bytes);  // arena data
      if (static_cast<uint32_t>(len) > plen) return -EINVAL;
      memcpy(v->bytes, peer.bytes, plen);
      *lv = static_cast<int>(plen);
      return 0;
    }
    case SO_MARK:
      v->i = static_cast<int>(sk->mark.load());
      return 0;
    case SO_BUSY_POLL:
      v->i = static_cast<int>(sk->busy_poll_usec.load());
      return 0;
    case SO_INCOMING_CPU:
      v->i = sk->incoming_cpu.load();
      return 0;
    case SO_MAX_PACING_RATE:
      // An unsigned long when there is room for one, else clamped to 32 bits.
      if (len >= static_cast<int>(sizeof(uint64_t))) {
        v->u64 = sk->max_pacing_rate.load();
        *lv = sizeof(uint64_t);
      } else {
        v->i = static_cast<int>(
            std::min<uint64_t>(sk->max_pacing_rate.load(), UINT32_MAX));
      }
      return 0;
    case SO_TIMESTAMP_OLD:
      v->i = SockHasFlag(sk, kSockRcvTstamp) &&
             !SockHasFlag(sk, kSockTstampNew) &&
             !SockHasFlag(sk, kSockRcvTstampNs);
      return 0;
    case SO_TIMESTAMPNS_OLD:
      v->i =
          SockHasFlag(sk, kSockRcvTstampNs) && !SockHasFlag(sk, kSockTstampNew);
      return 0;
    case SO_TIMESTAMP_NEW:
      v->i = SockHasFlag(sk, kSockRcvTstamp) && SockHasFlag(sk, kSockTstampNew);
      return 0;
    case SO_TIMESTAMPNS_NEW:
      v->i =
          SockHasFlag(sk, kSockRcvTstampNs) && SockHasFlag(sk, kSockTstampNew);
      return 0;
    case SO_TIMESTAMPING_OLD:
    case SO_TIMESTAMPING_NEW:
      // The new name reports only flags set through it.
      if (name == SO_TIMESTAMPING_OLD || SockHasFlag(sk, kSockTstampNew))
        v->ts.flags = static_cast<int>(sk->tsflags.load());
      *lv = sizeof(so_timestamping);
      return 0;
    case SO_TXTIME:
      v->txtime.clockid = sk->txtime_clockid.load();
      v->txtime.flags =
          (SockHasFlag(sk, kSockTxtimeDeadline) ? SOF_TXTIME_DEADLINE_MODE
                                                : 0) |
          (SockHasFlag(sk, kSockTxtimeReportErrors) ? SOF_TXTIME_REPORT_ERRORS
                                                    : 0);
      *lv = sizeof(sock_txtime);
      return 0;
    case SO_BINDTOIFINDEX:
      v->i = sk->bound_dev_if.load();
      return 0;
    case SO_BINDTODEVICE: {
      // sock_getbindtodevice: nothing for an unbound socket, else the
      // name and its NUL, which needs a buffer of IFNAMSIZ.
      const int ifindex = sk->bound_dev_if.load();
      *lv = 0;
      if (ifindex == 0) return 0;
      if (len < IFNAMSIZ) return -EINVAL;
      if (if_indextoname(static_cast<unsigned>(ifindex), v->name) == nullptr)
        return -ENODEV;
      *lv = static_cast<int>(strlen(v->name) + 1);
      return 0;
    }
    case SO_GET_FILTER:  // sk_get_filter: no filter, no instructions
      *lv = 0;
      return 0;
    case SO_BPF_EXTENSIONS:  // bpf_tell_extensions: SKF_AD_MAX
      v->i = SKF_AD_MAX;
      return 0;
    case SO_COOKIE:
      if (len < static_cast<int>(sizeof(uint64_t))) return -EINVAL;
      v->u64 = sk->inode | kCookieBit;
      *lv = sizeof(uint64_t);
      return 0;
    case SO_MEMINFO:
      // sk_get_meminfo. AF_UNIX charges queued data to its sender, so
      // only the send side has memory in use: what SIOCOUTQ reports
      // (docs/DIFFERENCES.md 1 for stream sockets).
      v->meminfo[SK_MEMINFO_RCVBUF] = static_cast<uint32_t>(sk->rcvbuf.load());
      v->meminfo[SK_MEMINFO_WMEM_ALLOC] = OutqLen(s);
      v->meminfo[SK_MEMINFO_SNDBUF] = static_cast<uint32_t>(sk->sndbuf.load());
      *lv = sizeof v->meminfo;
      return 0;
    case SO_TXREHASH:  // for TCP only
      return -EOPNOTSUPP;
    default:
      return -ENOPROTOOPT;
  }
}

}  // namespace

int SockGetOpt(const Sock& s, int level, int name, void* optval,
               socklen_t* optlen) {
  // net/socket.c: do_sock_getsockopt: AF_UNIX has no other level, and
  // says so before it reads optlen.
  if (level != SOL_SOCKET && level != SOL_SHUNT) return -EOPNOTSUPP;
  int len;
  if (!CopyUser(&len, optlen, sizeof len)) return -EFAULT;
  if (len < 0) return -EINVAL;
  OptValue v;
  memset(&v, 0, sizeof v);
  int lv = sizeof(int);
  int rc = 0;
  if (level == SOL_SOCKET) {
    rc = GetSocketOption(s, name, len, &v, &lv);
  } else if (name == SHUNT_SO_SPIN_NS) {
    v.i = static_cast<int>(s.sk->spin_ns.load());
  } else if (name == SHUNT_SO_PERSONALITY) {
    v.i = s.sk->personality.load();
  } else {
    rc = -ENOPROTOOPT;
  }
  if (rc == -ERANGE)
    return CopyUser(optlen, &lv, sizeof lv) ? -ERANGE : -EFAULT;
  if (rc != 0) return rc;
  if (len > lv) len = lv;
  if (!CopyUser(optval, &v, static_cast<size_t>(len)) ||
      !CopyUser(optlen, &len, sizeof len))
    return -EFAULT;
  return 0;
}

// ---- ioctl and poll -------------------------------------------------------

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
        v = InqLen(s.arena, sk);
      }
      break;
    }
    case SIOCOUTQ:
      v = static_cast<int>(OutqLen(s));
      break;
    case FIOGETOWN:  // sock_ioctl: f_getown
    case SIOCGPGRP:
      v = SockOwnerValue(sk);
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

void SockSetOwner(SockState* sk, SigOwner owner) {
  sk->owner.store(uint64_t{static_cast<uint32_t>(owner.type)} << 32 |
                      static_cast<uint32_t>(owner.pid),
                  std::memory_order_relaxed);
}

SigOwner SockGetOwner(const SockState* sk) {
  const uint64_t v = sk->owner.load(std::memory_order_relaxed);
  return SigOwner{static_cast<int>(v >> 32), static_cast<int32_t>(v)};
}

SigOwner OwnerFromValue(int value) {
  return value < 0 ? SigOwner{F_OWNER_PGRP, -value}
                   : SigOwner{F_OWNER_PID, value};
}

int SockOwnerValue(const SockState* sk) {
  const SigOwner o = SockGetOwner(sk);
  return o.type == F_OWNER_PGRP ? -o.pid : o.pid;
}

void SockSendSigurg(const SockState* sk) {
  const SigOwner o = SockGetOwner(sk);
  // Arena data, so checked; process group 1 is never signalled: kill(-1)
  // would reach every process (docs/DIFFERENCES.md 12).
  if (o.pid <= 0 || (o.type == F_OWNER_PGRP && o.pid == 1)) return;
  if (o.type != F_OWNER_TID && o.type != F_OWNER_PID && o.type != F_OWNER_PGRP)
    return;
  if (o.type == F_OWNER_TID)
    syscall(SYS_tkill, o.pid, SIGURG);
  else
    kill(o.type == F_OWNER_PGRP ? -o.pid : o.pid, SIGURG);
}

uint32_t SockPoll(const Sock& s) {
  SockState* sk = s.sk;
  const uint32_t shut = sk->shutdown.load(std::memory_order_acquire);
  uint32_t mask = 0;
  if (sk->err.load(std::memory_order_relaxed) != 0) {
    mask |= POLLERR;
    // unix_dgram_poll (datagram and seqpacket) adds POLLPRI with
    // SO_SELECT_ERR_QUEUE; unix_poll (stream) does not.
    if (sk->type != SOCK_STREAM && SockHasFlag(sk, kSockSelectErrQueue))
      mask |= POLLPRI;
  }
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
  WaitBudget wait;
  if (s.sk->type == SOCK_STREAM) {
    const long r = StreamRecvBusyPoll(s, m, flags, &wait);
    if (r != kWouldBlock) return r;
  }
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
    ScmDeliver(&scm, m, s.sk->passcred.load(),
               SockHasFlag(s.sk, kSockPassSec));
  // unix_stream_read_generic with SO_INQ: what is left to read comes last
  // (SCM_INQ), as the credentials do, unless a signal ended the read's
  // wait (its scm_destroy path skips both); an urgent read
  // (unix_stream_recv_urg) never gets this far, and reports nothing.
  if (stream && r >= 0 && scm.reading() && SockHasFlag(s.sk, kSockRecvInq)) {
    int inq;
    {
      MutexLock lock(&s.sk->lock);
      inq = InqLen(s.arena, s.sk);
    }
    PutCmsg(m, SOL_SOCKET, SCM_INQ, &inq, sizeof inq);
  }
  m->scm = nullptr;
  return r;
}

}  // namespace shunt

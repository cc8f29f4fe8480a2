// The socket layer: arena socket state and the operations on it.
//
// Objects (all in the arena, all addressed by offset):
//   SockState  one socket (the kernel's struct sock + unix_sock). Pooled.
//              Referenced by: each OpenFile on it, the socket whose peer it
//              is, each datagram it has queued at a receiver, the listener
//              whose accept queue holds it. Freed at the last reference.
//   OpenFile   one open file description (the kernel's struct file): status
//              flags (O_NONBLOCK) shared by every descriptor dup'd or
//              inherited from it. Referenced by descriptors (fd/), by
//              shunt_socket handles, and by in-flight calls of
//              multi-threaded processes. The last reference releases the
//              socket (net/unix/af_unix.c: unix_release_sock).
//
// The protocol files (unix_stream.cc, unix_dgram.cc) implement the data
// path; socket.cc holds what all types share. Every function returns 0, a
// count, or a negative errno, and never touches errno.
#pragma once

#include <errno.h>
#include <shunt/shunt.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>

#include "arena/arena.h"
#include "arena/mutex.h"
#include "arena/wait_queue.h"
#include "base/process.h"
#include "net/pair_view.h"
#include "net/recv_queue.h"
#include "net/scm.h"

namespace shunt {

// "Not done: wait (or take the general path)", from attempts and fast
// paths; never returned to callers of the socket layer.
constexpr long kWouldBlock = -100000;

constexpr int kMinSndbuf = 4608;  // SOCK_MIN_SNDBUF on x86-64

// Socket states, named after the kernel's (include/net/tcp_states.h).
enum class SockPhase : uint8_t { kClose = 0, kListen, kEstablished };

constexpr uint32_t kRcvShutdown = 1;   // RCV_SHUTDOWN
constexpr uint32_t kSendShutdown = 2;  // SEND_SHUTDOWN
constexpr uint32_t kShutdownMask = 3;

// A bound name exactly as getsockname reports it: `len` counts the family.
// Up to 111 bytes: a 108-byte path without a NUL is reported with one
// (net/unix/af_unix.c: unix_mkname_bsd), one byte past sockaddr_un.
struct UnixAddress {
  uint32_t len;  // 0: unbound
  uint8_t bytes[sizeof(sockaddr_un) + 2];
};

// SOL_SOCKET options newer than this system's headers
// (include/uapi/asm-generic/socket.h of Linux 6.18).
#ifndef SO_DEVMEM_DONTNEED
#define SO_DEVMEM_DONTNEED 80
#endif
#ifndef SO_RCVPRIORITY
#define SO_RCVPRIORITY 82
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif
#ifndef SO_INQ
#define SO_INQ 84
#define SCM_INQ SO_INQ
#endif

// The supplementary groups SO_PEERGROUPS reports: a peer with more is
// reported with its first (lowest) ones (docs/DIFFERENCES.md).
constexpr int kPeerGroupsMax = 64;

// Credentials captured at socketpair/connect/listen time (SO_PEERCRED,
// SO_PEERGROUPS: the kernel keeps the whole struct cred).
struct PeerCred {
  int32_t pid;
  uint32_t uid;
  uint32_t gid;
  uint32_t valid;
  uint32_t ngroups;
  gid_t groups[kPeerGroupsMax];  // ascending, as the kernel sorts them
};

// sk_setsockopt's on/off options kept in SockState::flags (the kernel's
// sock flags and one-bit fields). AF_UNIX acts on kSockPassRights and
// kSockRecvInq; the others are only read back.
enum SockFlag : uint32_t {
  kSockReuseAddr = 1u << 0,           // sk_reuse
  kSockKeepalive = 1u << 1,           // SOCK_KEEPOPEN
  kSockDontRoute = 1u << 2,           // SOCK_LOCALROUTE
  kSockBroadcast = 1u << 3,           // SOCK_BROADCAST
  kSockLinger = 1u << 4,              // SOCK_LINGER
  kSockDebug = 1u << 5,               // SOCK_DBG
  kSockNoCheck = 1u << 6,             // sk_no_check_tx
  kSockRxqOvfl = 1u << 7,             // SOCK_RXQ_OVFL
  kSockWifiStatus = 1u << 8,          // SOCK_WIFI_STATUS
  kSockNoFcs = 1u << 9,               // SOCK_NOFCS
  kSockFilterLocked = 1u << 10,       // SOCK_FILTER_LOCKED
  kSockSelectErrQueue = 1u << 11,     // SOCK_SELECT_ERR_QUEUE
  kSockPreferBusyPoll = 1u << 12,     // sk_prefer_busy_poll
  kSockRcvMark = 1u << 13,            // SOCK_RCVMARK
  kSockRcvPriority = 1u << 14,        // SOCK_RCVPRIORITY
  kSockPassSec = 1u << 15,            // sk_scm_security
  kSockPassRights = 1u << 16,         // sk_scm_rights (set at creation)
  kSockRecvInq = 1u << 17,            // unix_sock's recvmsg_inq (SO_INQ)
  kSockRcvTstamp = 1u << 18,          // SOCK_RCVTSTAMP
  kSockRcvTstampNs = 1u << 19,        // SOCK_RCVTSTAMPNS
  kSockTstampNew = 1u << 20,          // SOCK_TSTAMP_NEW
  kSockTxtimeDeadline = 1u << 21,     // sk_txtime_deadline_mode
  kSockTxtimeReportErrors = 1u << 22  // sk_txtime_report_errors
};

struct SockState {
  std::atomic<uint64_t> gen;  // pool generation; must stay first
  std::atomic<uint32_t> refs;
  uint8_t type;  // SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
  // Written under the lock; atomic because the data path and poll read
  // them without it.
  std::atomic<SockPhase> phase;
  uint8_t dead;  // SOCK_DEAD: released, awaiting its last reference
  std::atomic<uint8_t> passcred;
  std::atomic<uint32_t> flags;     // SockFlag bits
  ArenaMutex lock;                 // guards everything below unless noted
  std::atomic<uint32_t> shutdown;  // kRcvShutdown | kSendShutdown
  std::atomic<int32_t> err;        // pending SO_ERROR (positive errno)
  std::atomic<Off> peer;           // referenced; written under the lock
  uint64_t inode;

  // Options, read without the lock by the data path.
  std::atomic<int32_t> sndbuf;
  std::atomic<int32_t> rcvbuf;
  std::atomic<int32_t> rcvlowat;
  std::atomic<int32_t> peek_off;
  std::atomic<int32_t> priority;  // SO_PRIORITY, never acted on
  // SO_LINGER's time in jiffies (sk_lingertime), kept when lingering is
  // switched off; on/off is kSockLinger. Never acted on.
  std::atomic<int64_t> linger_jiffies;
  // SO_RCVTIMEO/SO_SNDTIMEO in the kernel's jiffies, as the kernel keeps
  // them (so getsockopt reads back its rounding): 0 waits forever, -1 does
  // not wait at all (a negative tv_sec).
  std::atomic<int64_t> rcvtimeo;
  std::atomic<int64_t> sndtimeo;
  std::atomic<int64_t> spin_ns;
  PeerCred peercred;

  // Bytes this socket has queued at datagram receivers (sk_wmem_alloc).
  std::atomic<uint32_t> wmem;

  // Listening sockets: embryos waiting in accept order.
  uint32_t backlog;
  uint32_t acceptq_len;
  Off acceptq_head;
  Off acceptq_tail;
  Off accept_next;  // link while this socket waits in an accept queue

  UnixAddress addr;             // set once by bind or autobind
  Off name_next;                // chain in the arena's name table
  uint64_t name_dev, name_ino;  // filesystem names: the socket file

  RecvQueue rq;
  WaitQueue wq;
  // The process holding every reference to the open file on this socket
  // (1:1 while it has one), for ExclusivePair; 0 for an embryo, after
  // release, and once the file may be held elsewhere (fork, descriptor
  // passing; never set again). Kept here rather than in the OpenFile so
  // that the data path reads it from the sockets it touches anyway.
  std::atomic<int32_t> sole_pid;
  // The OpenFile on this socket while it has one (1:1); 0 for an embryo
  // and after release (Linux: sk->sk_socket == NULL).
  std::atomic<Off> file;
  // Urgent data (CONFIG_AF_UNIX_OOB, stream only): whether an urgent byte
  // waits (u->oob_skb), and which queue segment holds it; SO_OOBINLINE.
  std::atomic<uint8_t> oob_pending;
  std::atomic<uint8_t> oobinline;
  uint32_t oob_index;
  // Urgent bytes reads have passed over unread (not inline). Linux keeps
  // a stream socket's SIOCINQ in a counter (u->inq_len, read by
  // unix_inq_len) that manage_oob leaves untouched when it drops such a
  // byte's skb, so each one stays counted for the rest of the socket's
  // life; SockIoctl adds them back.
  uint32_t inq_skipped_urgent;
  // Who gets SIGURG, as F_SETOWN_EX sets it (SockSetOwner): the F_OWNER_*
  // type in the high half, the pid (0: nobody) in the low half. Zero, a
  // fresh socket's, is F_OWNER_TID with no pid, as Linux reports it.
  std::atomic<uint64_t> owner;
  // SHUNT_SO_PERSONALITY: whose descriptor-passing rules apply.
  std::atomic<uint8_t> personality;
  // The descriptor mailbox where kernel descriptors sent to this socket
  // wait (fd/mailbox.h): its opener's, or its listener's for an embryo.
  uint64_t mailbox;

  // Options AF_UNIX never acts on, kept to be read back as sk_getsockopt
  // reports them (atomic: set and read without the lock, as the kernel's
  // WRITE_ONCE/READ_ONCE).
  std::atomic<uint32_t> mark;              // SO_MARK (sk_mark)
  std::atomic<int32_t> incoming_cpu;       // SO_INCOMING_CPU, -1 at first
  std::atomic<uint32_t> busy_poll_usec;    // SO_BUSY_POLL (sk_ll_usec)
  std::atomic<uint32_t> busy_poll_budget;  // SO_BUSY_POLL_BUDGET
  std::atomic<uint64_t> max_pacing_rate;   // SO_MAX_PACING_RATE, ~0 at first
  std::atomic<uint32_t> tsflags;           // SO_TIMESTAMPING flags (sk_tsflags)
  std::atomic<int32_t> txtime_clockid;     // SO_TXTIME's clock (sk_clockid)
  std::atomic<int32_t> bound_dev_if;       // SO_BINDTODEVICE, SO_BINDTOIFINDEX
  std::atomic<uint8_t> userlocks;          // SO_BUF_LOCK bits (sk_userlocks)
};
static_assert(sizeof(SockState) <= 1024, "see kPoolSizes in arena.cc");

inline bool SockHasFlag(const SockState* sk, uint32_t flag) {
  return (sk->flags.load(std::memory_order_relaxed) & flag) != 0;
}
// Whether every read on sk reports control data, whatever it takes:
// credentials (SO_PASSCRED, scm_recv) or the bytes left (SO_INQ, SCM_INQ),
// or, with no control buffer, MSG_CTRUNC for security data (SO_PASSSEC).
inline bool ReadReportsControl(const SockState* sk) {
  return sk->passcred.load(std::memory_order_relaxed) ||
         SockHasFlag(sk, kSockRecvInq | kSockPassSec);
}

// SHUNT_SO_PERSONALITY: the descriptors one message from sk may carry.
inline int ScmLimit(const SockState* sk) {
  return sk->personality.load(std::memory_order_relaxed) ==
                 SHUNT_PERSONALITY_NONSTOP
             ? kNonStopMaxFd
             : kScmMaxFd;
}
// Whether a peek of a message with descriptors only reports their size
// (SHUNT_PERSONALITY_NONSTOP) rather than duplicating them (Linux).
inline bool PeekReportsOnly(const SockState* sk) {
  return sk->personality.load(std::memory_order_relaxed) ==
         SHUNT_PERSONALITY_NONSTOP;
}

struct OpenFile {
  std::atomic<uint64_t> gen;  // pool generation; must stay first
  std::atomic<uint32_t> refs;
  std::atomic<uint32_t> status;  // O_NONBLOCK
  Off sock;                      // referenced
  // References held by messages in flight (net/scm.h); when every
  // reference is one, the file may be part of a garbage cycle (unix_gc.cc).
  std::atomic<uint32_t> inflight;
};
static_assert(sizeof(OpenFile) <= 64, "see kPoolSizes in arena.cc");

// A socket as seen by one call: its file and state, both kept alive by a
// reference the caller holds.
struct Sock {
  Arena* arena;
  OpenFile* file;
  SockState* sk;
  uint32_t extra_status = 0;  // O_NONBLOCK forced by a kernel-style caller

  bool nonblocking() const {
    return ((file->status.load(std::memory_order_relaxed) | extra_status) &
            04000) != 0;
  }
};

// The arena, attaching on first use (and arming EFAULT recovery for
// CopyUser). nullptr with *err set when it cannot be attached.
Arena* AttachArena(int* err);

// True when this single-threaded process holds every reference to the
// open file of sk: then no other thread or process can reach its queue.
inline bool ExclusiveSock(const SockState* sk) {
  return __libc_single_threaded &&
         sk->sole_pid.load(std::memory_order_relaxed) == ProcessId();
}
// ExclusiveSock of both sk and its peer: the data path may skip the queue
// lock (the kernel's fdget skips its reference count on the same
// reasoning).
inline bool ExclusivePair(const SockState* sk, const SockState* peer) {
  return ExclusiveSock(sk) && ExclusiveSock(peer);
}
// Marks the file on sk as possibly held outside this process (fork,
// descriptor passing).
inline void FileShared(SockState* sk) {
  sk->sole_pid.store(0, std::memory_order_relaxed);
  NoteSockChange();
}

// ---- Lifetime ------------------------------------------------------------

// Creates a socket and an open file on it (one reference). *file receives
// the OpenFile offset.
int SockCreate(Arena* a, int family, int type, int protocol, Off* file);
// socketpair(2): two connected sockets, each with its open file.
int SockPair(Arena* a, int family, int type, int protocol, Off files[2]);
void FileGet(OpenFile* f);
// Drops one reference; the last one releases the socket. When only
// in-flight references remain, looks for a garbage cycle through f.

void FilePut(Arena* a, OpenFile* f);
void SockHold(SockState* sk);
void SockPut(Arena* a, SockState* sk);
// Resolves an OpenFile offset to a Sock; false if the arena is corrupt.
inline bool SockFromFile(Arena* a, Off file, Sock* out) {
  OpenFile* f = a->Ptr<OpenFile>(file);
  if (f == nullptr) return false;
  SockState* sk = a->Ptr<SockState>(f->sock);
  if (sk == nullptr) return false;
  *out = Sock{a, f, sk};
  return true;
}

// ---- Operations (socket.cc and protocols) ---------------------------------

int SockBind(const Sock& s, const sockaddr* addr, socklen_t len);
int SockConnect(const Sock& s, const sockaddr* addr, socklen_t len);
int SockListen(const Sock& s, int backlog);
// On success *file receives a new OpenFile (status: O_NONBLOCK if
// `new_nonblock`) and, if peer is non-null, the peer name as accept(2)
// reports it.
int SockAccept(const Sock& s, bool new_nonblock, Off* file, UnixAddress* peer);
int SockShutdown(const Sock& s, int how);
int SockGetName(const Sock& s, bool peer, UnixAddress* out);
// getsockopt/setsockopt with the caller's pointers: the socket layer reads
// and writes them as sk_getsockopt/sk_setsockopt do (only the bytes an
// option uses). SockSetOpt expects a non-negative optlen.
int SockGetOpt(const Sock& s, int level, int name, void* optval,
               socklen_t* optlen);
int SockSetOpt(const Sock& s, int level, int name, const void* optval,
               socklen_t optlen);
// ioctl: *handled is false for requests sockets don't know (the caller
// passes them to the kernel placeholder).
int SockIoctl(const Sock& s, unsigned long req, void* arg, bool* handled);

// A send or receive, with the caller's iovec and name already copied in.
struct MsgArgs {
  const iovec* iov;
  size_t iovlen;
  size_t size;  // total of the iov lengths (capped as the kernel caps it)
  const sockaddr* name;  // send: destination (may be null)
  socklen_t namelen;
  UnixAddress* from;  // receive: source address out (may be null)
  int msg_flags;      // receive: in, as ___sys_recvmsg presets it
                      // (flags & MSG_CMSG_CLOEXEC); protocols add to it
  size_t copied;      // receive: bytes actually written to the iov
  // Control data. Send: the caller's control messages, already copied into
  // our memory (____sys_sendmsg). Receive: the caller's buffer, in its
  // memory (control_user) or a kernel-style caller's; the protocol hands
  // what it takes to `scm`, and SockRecvmsg writes it out (ScmDeliver).
  void* control;
  size_t controllen;
  bool control_user;
  size_t control_used;  // receive: bytes of the buffer filled
  ScmReceived* scm;
  // An earlier message of the same recvmmsg/sendmmsg went through: a
  // handled signal ends this one's wait even under SA_RESTART, since
  // do_recvmmsg and __sys_sendmmsg then return the count (MsgBudgetFor).
  bool batch_progress;
  // Receive: a wait the busy-poll (StreamRecvBusyPoll) began and the
  // general path continues: its timeout already running, its spin spent.
  const WaitBudget* wait;
};
ssize_t SockSendmsg(const Sock& s, MsgArgs* m, int flags);
ssize_t SockRecvmsg(const Sock& s, MsgArgs* m, int flags);

// Readiness as poll(2) reports it (net/unix/af_unix.c: unix_poll,
// unix_dgram_poll).
uint32_t SockPoll(const Sock& s);

// The SIGURG owner of a socket (fs/fcntl.c: f_setown_ex, f_getown_ex): an
// F_OWNER_* type and a pid, 0 for nobody. The caller has validated them
// (the kernel's answer for the placeholder: ESRCH, EINVAL).
struct SigOwner {
  int type;
  int32_t pid;
};
void SockSetOwner(SockState* sk, SigOwner owner);
SigOwner SockGetOwner(const SockState* sk);
// F_SETOWN's and FIOSETOWN's argument as an owner: a pid, or -pgid.
SigOwner OwnerFromValue(int value);
// F_GETOWN's and FIOGETOWN's answer (f_getown): the pid, or -pgid.
int SockOwnerValue(const SockState* sk);
// sk_send_sigurg: SIGURG to the owner, if any (send_sigio's targets: one
// thread, a process, a process group).
void SockSendSigurg(const SockState* sk);

// ---- Shared helpers for the protocol files --------------------------------

// Lock two sockets in a fixed (address) order, so two closers or
// connectors never deadlock.
void LockPair(SockState* a, SockState* b);
void UnlockPair(SockState* a, SockState* b);
// Bump the socket's wait queue after a state change (lock held); wakes
// sleepers and pollers only if there are any (WaitQueue's protocol).
void WakeAll(Arena* a, WaitQueue* wq);
inline void SockChanged(Arena* a, SockState* sk) {
  WaitQueue* wq = &sk->wq;
  wq->seq.store(wq->seq.load(std::memory_order_relaxed) + 1,
                std::memory_order_release);
  if (__builtin_expect(wq->sleepers.load(std::memory_order_seq_cst) != 0, 0))
    WakeAll(a, wq);
}
// Sends SIGPIPE to the calling thread (unless MSG_NOSIGNAL).
void RaiseSigpipe(int flags);
// Takes and clears the pending socket error (net/core/sock.c: sock_error).
int SockTakeError(SockState* sk);
// The name socket `name` in the table, with a reference, or an error
// (ECONNREFUSED, ENOENT, EACCES, ...): net/unix/af_unix.c: unix_find_other.
int FindByName(Arena* a, const sockaddr_un* name, socklen_t len, int type,
               SockState** out);
// Gives an unbound socket an abstract name of five hex digits; a bound one
// keeps its name (net/unix/af_unix.c: unix_autobind).
int Autobind(Arena* a, SockState* sk);
// Removes a released socket's name from the table.
void NameRemove(Arena* a, SockState* sk);
// Validates a sockaddr_un for bind/connect/sendto; returns its effective
// length or a negative errno (net/unix/af_unix.c: unix_validate_addr).
int ValidateAddr(const sockaddr* addr, socklen_t len);
// The open file a received embryo or a new socket gets.
int NewOpenFile(Arena* a, SockState* sk, bool nonblock, Off* file);

// The send and receive fast paths (SockSendFast, SockRecvFast) are inline
// in net/fast_path.h.

// Datagram-family entry points used by SockSendmsg/SockRecvmsg.
ssize_t StreamSendmsg(const Sock& s, MsgArgs* m, int flags);
ssize_t StreamRecvmsg(const Sock& s, MsgArgs* m, int flags);
// The busy-poll of a blocking stream read (SHUNT_SO_SPIN_NS), tried before
// StreamRecvmsg: see unix_stream.cc. Returns the bytes read, or kWouldBlock
// having read nothing; m->wait then points at *wait if it began the wait.
long StreamRecvBusyPoll(const Sock& s, MsgArgs* m, int flags, WaitBudget* wait);
ssize_t DgramSendmsg(const Sock& s, MsgArgs* m, int flags);
ssize_t DgramRecvmsg(const Sock& s, MsgArgs* m, int flags);
int DgramConnect(const Sock& s, const sockaddr* addr, socklen_t len);
int StreamConnect(const Sock& s, const sockaddr* addr, socklen_t len);

// A fresh socket of `type` with one reference and default options.
Off SockAlloc(Arena* a, int type);
// Datagram accounting: bytes a sender has queued at receivers.
void DgramUncharge(Arena* a, SockState* sender, uint32_t bytes);
// Releases sockets that only messages in their own queues (or a cycle of
// such queues) keep alive, starting from f, all of whose references are in
// flight: net/unix/garbage.c: unix_gc.
void CollectCycles(Arena* a, OpenFile* f);
// Frees a queue detached from its socket: uncharges and releases the
// senders of its datagrams.
void DropQueue(Arena* a, RecvQueue* rq);
// unix_recvq_full: the receiver holds more datagrams than its backlog.
bool DgramQueueFull(Arena* a, SockState* receiver);
// The process-wide default for SHUNT_SO_SPIN_NS (SHUNT_SPIN_NS).
int64_t DefaultSpinNs();

// Runs `attempt` with `owner` locked until it returns something other than
// kWouldBlock, sleeping on owner's wait queue in between. Returns attempt's
// result, -EAGAIN (nonblocking or timed out) or -EINTR. The budget is
// shared by successive waits of one call, as the kernel's timeo is.
template <typename Attempt>
long WaitLoop(SockState* owner, WaitBudget* budget, Attempt attempt);

// With owner locked, waits until busy() is false: for another thread's
// copy into or out of owner's queue made with the lock dropped
// (RecvQueue::reading, writing), which ends with a SockChanged. The lock
// is dropped while sleeping and held again on return; the wait is not
// limited by the caller's budget, as a wait for a lock is not. Every
// copier holds no lock while it copies and needs only owner's to finish.
template <typename Busy>
void WaitWhile(SockState* owner, Busy busy);
// With sk locked: its queue, detached once no copy runs outside the lock.
inline RecvQueue DetachQueue(SockState* sk);

// The wait budget of a call on s: O_NONBLOCK/MSG_DONTWAIT (`dontwait`),
// the socket's timeout option in jiffies, and its spin setting.
inline WaitBudget BudgetFor(const Sock& s, bool dontwait,
                            int64_t timeo_jiffies) {
  WaitBudget b;
  b.spin_ns = s.sk->spin_ns.load(std::memory_order_relaxed);
  b.nonblocking = dontwait || s.nonblocking() || timeo_jiffies < 0;
  if (!b.nonblocking && timeo_jiffies > 0) {
    const int64_t ns_per_jiffy = 1000000000 / s.arena->limits().hz;
    if (timeo_jiffies < INT64_MAX / ns_per_jiffy / 2)
      b.timeout_ns = timeo_jiffies * ns_per_jiffy;
  }
  return b;
}

// BudgetFor a send or receive of message m, counting the progress of its
// batch (MsgArgs::batch_progress), or the wait m's busy-poll began.
inline WaitBudget MsgBudgetFor(const Sock& s, const MsgArgs& m, bool dontwait,
                               int64_t timeo_jiffies) {
  WaitBudget b =
      m.wait != nullptr ? *m.wait : BudgetFor(s, dontwait, timeo_jiffies);
  b.progress = m.batch_progress;
  return b;
}

// Credentials of the calling process.
PeerCred CurrentCred();

template <typename Busy>
void WaitWhile(SockState* owner, Busy busy) {
  bool registered = false;
  while (busy()) {
    // Registered before the check that decides to sleep, as WaitLoop.
    if (!registered) {
      owner->wq.sleepers.fetch_add(1);
      registered = true;
      continue;
    }
    const uint32_t seen = owner->wq.seq.load(std::memory_order_relaxed);
    owner->lock.Unlock();
    FutexWait(&owner->wq.seq, seen, nullptr);
    owner->lock.Lock();
  }
  if (registered) owner->wq.sleepers.fetch_sub(1);
}

inline RecvQueue DetachQueue(SockState* sk) {
  WaitWhile(sk, [&] { return sk->rq.reading != 0 || sk->rq.writing != 0; });
  return sk->rq.Detach();
}

template <typename Attempt>
long WaitLoop(SockState* owner, WaitBudget* budget, Attempt attempt) {
  bool registered = false;
  bool spun = false;
  bool last_try = false;
  long r;
  bool woken = false;
  for (;;) {
    owner->lock.Lock();
    if (woken) {
      // Deregister before the attempt: a receive that succeeds now bumps
      // this very queue (room for writers), and our own registration would
      // make it pay a futex wake that nobody needs. A failed attempt
      // registers again below, before its re-check.
      owner->wq.sleepers.fetch_sub(1);
      registered = false;
      woken = false;
    }
    r = attempt();
    if (r != kWouldBlock) break;
    // An attempt that restarted the timeout (a stream send's next skb)
    // gets a whole new wait.
    if (!budget->has_deadline) last_try = false;
    if (budget->nonblocking || last_try) {
      r = -EAGAIN;
      break;
    }
    if (!registered) {
      // First spin, if the socket asks for it: unregistered, so the waker
      // makes no system call. Then register before the next check, so a
      // waker cannot miss us.
      if (!spun && budget->spin_ns > 0) {
        spun = true;
        const uint32_t seen = owner->wq.seq.load(std::memory_order_relaxed);
        owner->lock.Unlock();
        SpinUntilChanged(&owner->wq, seen, budget);
        continue;
      }
      owner->wq.sleepers.fetch_add(1);
      registered = true;
      owner->lock.Unlock();
      continue;
    }
    const uint32_t seen = owner->wq.seq.load(std::memory_order_relaxed);
    owner->lock.Unlock();
    const WaitResult w = BlockOnce(&owner->wq, seen, budget);
    if (w == WaitResult::kInterrupted) {
      owner->lock.Lock();
      r = -EINTR;
      break;
    }
    last_try = w == WaitResult::kTimedOut;
    woken = true;
  }
  owner->lock.Unlock();
  if (registered) owner->wq.sleepers.fetch_sub(1);
  return r;
}

}  // namespace shunt

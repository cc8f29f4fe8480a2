// SOCK_STREAM: connect, send and receive (net/unix/af_unix.c:
// unix_stream_connect, unix_stream_sendmsg, unix_stream_read_generic).
//
// Flow control is by the sender's send buffer: a sender may queue bytes at
// its peer while the peer's queue holds fewer than sk_sndbuf bytes. Linux
// counts skb truesize, we count payload bytes (docs/DIFFERENCES.md).
#include "net/unix_stream.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "base/user_copy.h"

namespace shunt {
namespace {

constexpr long kRestart = -100001;  // the listener died under us: look again

enum class UrgentStep { kRead, kPass, kStop };

// Runs f() with sk's lock dropped and *mark (sk->rq.reading or writing)
// set to `value` meanwhile; with the lock taken again, clears the mark and
// bumps sk's wait queue for whoever waits for it (WaitWhile). Returns f's
// result.
template <typename F>
bool WithLockDropped(Arena* a, SockState* sk, uint32_t* mark, uint32_t value,
                     F f) {
  *mark = value;
  sk->lock.Unlock();
  const bool r = f();
  sk->lock.Lock();
  *mark = 0;
  SockChanged(a, sk);
  return r;
}

// net/unix/af_unix.c: manage_oob, for segment idx where a pass of a read
// starts (sk locked, its queue holding urgent data): a read that has copied
// something stops before the urgent byte and before a taken one; one that
// has not passes over a taken one (dropping it) and over an urgent byte
// not read inline (which a real read consumes and loses). A dropped
// segment's descriptors leave with it, undelivered (a MSG_OOB read
// delivers none): its block goes to *dropped, which the caller must
// release with sk unlocked, since the last reference to a socket it holds
// may release that socket, and the socket's peer may be sk (Linux defers
// that fput past its locks).
UrgentStep ManageUrgent(Arena* a, SockState* sk, const QueueView& v,
                        uint32_t idx, size_t copied, bool peek, Off* dropped) {
  Segment& seg = v.seg(idx);
  const bool pending = sk->oob_pending.load(std::memory_order_relaxed);
  const bool front = idx == sk->rq.seg_head;
  if (seg.len == 0) {  // a taken urgent byte
    if (copied != 0 && !pending) return UrgentStep::kStop;
    if (!peek && front) {
      *dropped = sk->rq.TakeScm(&seg);  // consume_skb of the read skb
      sk->rq.PopHole();
      SockChanged(a, sk);
    }
    return UrgentStep::kPass;
  }
  if (!pending || idx != sk->oob_index) return UrgentStep::kRead;
  if (copied != 0) return UrgentStep::kStop;
  const bool inline_read = sk->oobinline.load(std::memory_order_relaxed);
  if (peek) return inline_read ? UrgentStep::kRead : UrgentStep::kPass;
  sk->oob_pending.store(0, std::memory_order_relaxed);
  --sk->rq.urgent;
  if (inline_read) return UrgentStep::kRead;
  // Not inline: the byte is dropped unread, and yet stays in SIOCINQ for
  // good: manage_oob frees its skb without taking it off u->inq_len.
  ++sk->inq_skipped_urgent;
  *dropped = sk->rq.TakeScm(&seg);
  if (front) {
    sk->rq.ConsumeFront(v, 1);
    sk->rq.PopFront();
  } else {
    seg.len = 0;
    ++sk->rq.urgent;
  }
  SockChanged(a, sk);
  return UrgentStep::kPass;
}

// net/unix/af_unix.c: unix_stream_recv_urg: the urgent byte, unless there
// is none or it is read inline (EINVAL); never waits. A real read leaves
// the byte's place in the queue (a taken urgent byte), and removes a taken
// one right before it (Linux 6.18, and stable kernels since 2025), so that
// taken bytes never stand side by side.
long RecvUrgent(const Sock& s, MsgArgs* m, int flags) {
  SockState* sk = s.sk;
  Off dropped = 0;  // consume_skb of the taken byte before, after the locks
  long r;
  {
    MutexLock lock(&sk->lock);
    WaitWhile(sk, [&] { return sk->rq.reading != 0; });  // u->iolock
    QueueView v;
    if (sk->oobinline.load(std::memory_order_relaxed) ||
        !sk->oob_pending.load(std::memory_order_relaxed)) {
      r = -EINVAL;
    } else if (!sk->rq.View(s.arena, &v) ||
               sk->rq.At(s.arena, sk->oob_index) == nullptr) {
      r = -EIO;
    } else {
      const uint32_t idx = sk->oob_index;
      Segment& seg = v.seg(idx);
      IovCursor to(m->iov, m->iovlen);
      // An empty buffer is no fault: skb_copy_datagram_iter stops quietly
      // at an exhausted iterator, and the byte counts as received.
      const bool ok = m->size == 0 || RecvQueue::CopyOut(v, seg, 0, 1, &to);
      m->copied = to.done();
      if (!(flags & MSG_PEEK)) {
        sk->oob_pending.store(0, std::memory_order_relaxed);
        seg.len = 0;  // still counted in rq.urgent, as a taken byte
        if (idx != sk->rq.seg_head && v.seg(idx - 1).len == 0)
          dropped = sk->rq.RemoveHole(v, idx - 1);
        SockChanged(s.arena, sk);
      }
      if (ok) m->msg_flags |= MSG_OOB;
      r = ok ? 1 : -EFAULT;
    }
  }
  ScmRelease(s.arena, dropped);
  return r;
}

// Queues the next skb of a send (`chunk` bytes from `from`) at peer, which
// is locked: the rings grow if they must (never under a read copying out
// of them), the bytes are copied (beyond kLockedCopyMax with the lock
// dropped, as unix_stream_sendmsg fills its skb before it takes the
// receiver's lock), and the skb is
// queued if the receiver still takes data (its check under
// unix_state_lock(other)). Returns 0, -EPIPE or -EFAULT (nothing queued),
// -ENOBUFS or -EIO. The caller must have waited out any other send copying
// into peer's queue.
long CopyIntoQueue(Arena* a, SockState* peer, IovCursor* from, size_t chunk,
                   const Segment& meta) {
  RecvQueue& rq = peer->rq;
  if (!rq.HasRoom(chunk)) {
    WaitWhile(peer, [&] { return rq.reading != 0 || rq.writing != 0; });
    // The wait may have dropped the lock, and a released receiver's queue
    // must not grow again.
    if (StreamReceiverGone(peer)) return -EPIPE;
    if (const int rc = rq.MakeRoom(a, chunk); rc != 0) return rc;
  }
  QueueView v;
  if (!rq.View(a, &v) || v.segs == nullptr || (chunk > 0 && v.bytes == nullptr))
    return -EIO;
  const uint64_t at = rq.tail;
  if (chunk <= kLockedCopyMax) {
    // Short copies stay under the lock, as the fast paths' do: dropping it
    // would cost two more lock operations and wake a spinning reader
    // before there is anything to read.
    if (!RecvQueue::CopyIn(v, at, from, chunk)) return -EFAULT;
  } else {
    if (!WithLockDropped(a, peer, &rq.writing, static_cast<uint32_t>(chunk),
                         [&] { return RecvQueue::CopyIn(v, at, from, chunk); }))
      return -EFAULT;
    if (StreamReceiverGone(peer)) return -EPIPE;
  }
  rq.Commit(v, meta, chunk);
  return 0;
}

}  // namespace

int StreamConnect(const Sock& s, const sockaddr* addr, socklen_t len) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  if (const int rc = ValidateAddr(addr, len); rc < 0) return rc;
  if (sk->passcred && sk->addr.len == 0) {
    if (const int rc = Autobind(a, sk); rc != 0) return rc;
  }
  WaitBudget budget = BudgetFor(s, false, sk->sndtimeo.load());
  const auto* sun = reinterpret_cast<const sockaddr_un*>(addr);
  for (;;) {
    SockState* other = nullptr;
    if (const int rc = FindByName(a, sun, len, sk->type, &other); rc != 0)
      return rc;
    const long r = WaitLoop(other, &budget, [&]() -> long {
      if (other->dead) return kRestart;
      if (other->phase != SockPhase::kListen ||
          (other->shutdown.load() & kRcvShutdown))
        return -ECONNREFUSED;
      if (other->acceptq_len > other->backlog) return kWouldBlock;
      // A listening socket connecting to itself: EINVAL, decided before
      // taking our own lock (it is the listener's), as in Linux.
      if (other == sk) return -EINVAL;
      // The listener is locked first, then the connector, as in Linux;
      // a listener never connects, so the order cannot invert.
      MutexLock self(&sk->lock);
      if (sk->phase == SockPhase::kEstablished) return -EISCONN;
      if (sk->phase != SockPhase::kClose) return -EINVAL;
      const Off eoff = SockAlloc(a, sk->type);
      SockState* e = a->Ptr<SockState>(eoff);
      if (e == nullptr) return -ENOBUFS;
      // The embryo: already connected to us, named like its listener,
      // owned by the accept queue (its initial reference).
      e->phase = SockPhase::kEstablished;
      e->peercred = CurrentCred();
      e->addr = other->addr;
      // Its acceptor will hold the listener, and so its mailbox.
      e->mailbox = other->mailbox;
      // Its buffer sizes are the defaults (unix_create1 -> sock_init_data),
      // not the listener's.
      // SO_PASSCRED, SO_PASSSEC and SO_PASSRIGHTS are the listener's as
      // of this connect (Linux 6.16+ copies them to the new sock here;
      // older kernels did so in unix_accept, unix_sock_inherit_flags).
      e->passcred.store(other->passcred.load());
      e->flags.store(other->flags.load() & (kSockPassSec | kSockPassRights));
      SockHold(sk);
      e->peer = a->OffsetOf(sk);
      SockHold(e);
      sk->peer = eoff;
      sk->peercred = other->peercred;
      sk->phase = SockPhase::kEstablished;
      if (SockState* tail = a->Ptr<SockState>(other->acceptq_tail))
        tail->accept_next = eoff;
      else
        __atomic_store_n(&other->acceptq_head, eoff, __ATOMIC_RELAXED);
      other->acceptq_tail = eoff;
      ++other->acceptq_len;
      SockChanged(a, other);
      SockChanged(a, sk);
      return 0;
    });
    SockPut(a, other);
    if (r != kRestart) return static_cast<int>(r);
  }
}

ssize_t StreamSendmsg(const Sock& s, MsgArgs* m, int flags) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  ScmSend scm(a, ScmLimit(sk));  // scm_send comes first
  if (const int rc = ScmParse(m->control, m->controllen, &scm); rc != 0)
    return rc;
  // An urgent send needs a byte to make urgent: its last one.
  const bool oob = flags & MSG_OOB;
  if (oob && m->size == 0) return -EOPNOTSUPP;
  if (m->namelen != 0)
    return sk->phase == SockPhase::kEstablished ? -EISCONN : -EOPNOTSUPP;
  // The peer of a stream socket never changes once set, and our reference
  // on it lives as long as our socket: no lock needed to read it.
  SockState* peer = a->Ptr<SockState>(sk->peer.load(std::memory_order_acquire));
  if (peer == nullptr) return -ENOTCONN;
  if (sk->shutdown.load(std::memory_order_relaxed) & kSendShutdown) {
    RaiseSigpipe(flags);
    return -EPIPE;
  }
  const size_t total = m->size;
  // No bytes, no skb: descriptors given with nothing to carry them are
  // dropped (unix_stream_sendmsg's loop never runs).
  if (total == 0) return 0;
  WaitBudget budget =
      MsgBudgetFor(s, *m, flags & MSG_DONTWAIT, sk->sndtimeo.load());
  // The descriptors ride on the first skb only (unix_scm_to_skb with
  // fds_sent).
  Segment meta{};
  if (const int rc = ScmAttach(&scm, sk, peer, budget.nonblocking, &meta.scm);
      rc != 0)
    return rc;
  IovCursor from(m->iov, m->iovlen);
  size_t sent = 0;
  bool quiet_epipe = false;
  const long r = WaitLoop(peer, &budget, [&]() -> long {
    for (;;) {
      // Skbs queue whole, one after another: a send copying into the queue
      // with the lock dropped finishes first.
      WaitWhile(peer, [&] { return peer->rq.writing != 0; });
      // sock_alloc_send_pskb's order: a pending error, then our shutdown,
      // which ends the send with EPIPE but no SIGPIPE (its out_err: the
      // signal is for a send that starts shut down, or finds the receiver
      // gone with its skb in hand), then room.
      if (const int err = SockTakeError(sk); err != 0) return err;
      if (sk->shutdown.load(std::memory_order_relaxed) & kSendShutdown) {
        quiet_epipe = true;
        return -EPIPE;
      }
      const int64_t room = StreamRoom(sk, peer);
      if (room <= 0) {
        if (sent != 0) budget.progress = true;  // as for a read
        return kWouldBlock;
      }
      if (StreamReceiverGone(peer)) return -EPIPE;
      // A receiver with SO_PASSRIGHTS off refuses the skb carrying the
      // descriptors (Linux 6.16+ unix_stream_sendmsg).
      if (sent == 0 && scm.has_fds() && !SockHasFlag(peer, kSockPassRights))
        return -EPERM;
      // One segment per skb the kernel would build, so a fault while
      // reading stops at the same boundary (the bytes of earlier skbs are
      // returned). As sock_alloc_send_pskb, a whole skb is allowed while
      // anything is left of the send buffer (the charge may overshoot it);
      // the room check is payload bytes (DIFFERENCES.md). The urgent byte
      // is an skb of its own (queue_oob).
      const bool urgent = oob && sent == total - 1;
      const size_t chunk = urgent ? 1 : SkbPayload(sk, total - oob - sent);
      if (const long rc = CopyIntoQueue(a, peer, &from, chunk, meta); rc != 0)
        return rc;
      meta.scm = 0;
      sent += chunk;
      if (urgent) {
        // It replaces an older urgent byte, which stays as plain data.
        if (!peer->oob_pending.load(std::memory_order_relaxed))
          ++peer->rq.urgent;
        peer->oob_index = peer->rq.seg_tail - 1;
        peer->oob_pending.store(1, std::memory_order_release);
      }
      SockChanged(a, peer);
      if (sent == total) return static_cast<long>(sent);
      // Each skb's wait has a timeout of its own: sock_alloc_send_pskb
      // reads SO_SNDTIMEO afresh.
      budget.has_deadline = false;
      // Later skbs carry the credentials again, without descriptors.
      meta.scm = ScmAttachCreds(&scm);
    }
  });
  if (meta.scm != 0) ScmRelease(a, meta.scm);
  // sk_send_sigurg: the receiver's owner hears of the urgent byte.
  if (oob && sent == total) SockSendSigurg(peer);
  if (r == -EPIPE && sent == 0 && !quiet_epipe) RaiseSigpipe(flags);
  if (r < 0) return sent != 0 ? static_cast<ssize_t>(sent) : r;
  return r;
}

// A busy-polling read spins where the general path would first wait, but
// before it: entering and leaving the general path's wait costs about a
// tenth of a cross-CPU ping-pong round trip (shunt bench row 2b). So a
// blocking read that the locked fast read could answer once bytes are
// queued (no name, flags, credentials or SO_INQ, at most kLockedCopyMax
// bytes, no low-water mark or peek offset) and that StreamRecvmsg would
// not end at once (a pending error, shutdown) spins here with no lock, if
// the queue is empty, until its wait queue's seq moves, within the
// socket's spin budget and never past its receive timeout; then it reads
// with StreamRecvLocked, which checks the queue's own state under the
// lock. A read that still finds nothing goes on to the general path, which
// continues this wait (m->wait): the same deadline, no second spin.
long StreamRecvBusyPoll(const Sock& s, MsgArgs* m, int flags,
                        WaitBudget* wait) {
  SockState* sk = s.sk;
  if ((flags & ~MSG_CMSG_CLOEXEC) || m->from != nullptr || m->size == 0 ||
      m->size > kLockedCopyMax ||
      sk->spin_ns.load(std::memory_order_relaxed) <= 0 ||
      ReadReportsControl(sk))
    return kWouldBlock;
  *wait = MsgBudgetFor(s, *m, false, sk->rcvtimeo.load());
  if (wait->nonblocking) return kWouldBlock;
  // Read before the checks: whatever changes after them moves it.
  const uint32_t seen = sk->wq.seq.load(std::memory_order_acquire);
  if (StreamReadOptionsStop(sk) ||
      sk->err.load(std::memory_order_relaxed) != 0 ||
      (sk->shutdown.load(std::memory_order_relaxed) & kRcvShutdown))
    return kWouldBlock;
  if (__atomic_load_n(&sk->rq.bytes, __ATOMIC_ACQUIRE) == 0) {
    SpinUntilChanged(&sk->wq, seen, wait);
    wait->spin_ns = 0;
    m->wait = wait;
  }
  IovCursor to(m->iov, m->iovlen);
  const long r = StreamRecvLocked(s.arena, sk, &to, m->size);
  if (r != kWouldBlock) m->copied = static_cast<size_t>(r);
  return r;
}

ssize_t StreamRecvmsg(const Sock& s, MsgArgs* m, int flags) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  // unix_stream_read_generic: not connected (or listening) is EINVAL.
  if (sk->phase != SockPhase::kEstablished) return -EINVAL;
  if (flags & MSG_OOB) return RecvUrgent(s, m, flags);
  // From here on the read's scm_cookie reaches scm_recv_unix whatever the
  // outcome (the early returns above jump past it).
  m->scm->set_reading();
  const size_t size = m->size;
  const bool peek = flags & MSG_PEEK;
  // sock_rcvlowat: MSG_WAITALL wants everything, else SO_RCVLOWAT, read
  // once, when the read begins. A read whose wait began in the busy-poll
  // (m->wait) began with no low-water mark (StreamReadOptionsStop): one
  // set since applies to later reads only.
  size_t target = size;
  if (!(flags & MSG_WAITALL)) {
    const size_t lowat =
        m->wait != nullptr ? 1 : static_cast<size_t>(sk->rcvlowat.load());
    if (lowat < target) target = lowat;
  }
  if (target == 0) target = 1;
  WaitBudget budget =
      MsgBudgetFor(s, *m, flags & MSG_DONTWAIT, sk->rcvtimeo.load());
  IovCursor to(m->iov, m->iovlen);
  size_t copied = 0;
  // While the receiver passes credentials, segments of different
  // credentials are never merged into one read (check_creds).
  bool check_creds = false;
  ScmCred creds{};
  // A peek goes on from the segment after the one it copied from
  // (skb_peek_next, then `goto again`); every other pass starts at the
  // front of the queue (`redo`).
  bool resume = false;
  uint32_t resume_idx = 0;
  const long r = WaitLoop(sk, &budget, [&]() -> long {
    // One read at a time copies out of the queue (u->iolock).
    WaitWhile(sk, [&] { return sk->rq.reading != 0; });
    QueueView v;
    if (!sk->rq.View(a, &v)) return -EIO;
    // The peek offset (sk_peek_offset), read again on every attempt: Linux
    // 6.18 reads it after `redo:`, where a wait returns, so a peek that
    // waited sees what reads and SO_PEEK_OFF did to it meanwhile. (A peek
    // never waits once it has copied, so this is a pass from the front.)
    const int peek_off = peek ? sk->peek_off.load() : 0;
    const size_t skip = peek_off > 0 ? static_cast<size_t>(peek_off) : 0;
    for (;;) {
      uint32_t seg_idx = resume ? resume_idx : sk->rq.seg_head;
      size_t in_seg = resume ? 0 : skip;
      // manage_oob looks at the segment a pass starts at, before the peek
      // offset is applied: urgent data may stop the read or be passed
      // over there. Passing a taken urgent byte, it also looks at the one
      // after if that is the urgent byte.
      if (seg_idx != sk->rq.seg_tail && sk->rq.urgent != 0) {
        const bool hole = v.seg(seg_idx).len == 0;
        Off dropped = 0;
        // A dropped segment's block is released unlocked; the pass then
        // starts again from the front, where its successor now is.
        auto release_dropped = [&] {
          // Still this read's queue meanwhile.
          WithLockDropped(a, sk, &sk->rq.reading, 1, [&] {
            ScmRelease(a, dropped);
            return true;
          });
          return sk->rq.View(a, &v);
        };
        UrgentStep step =
            ManageUrgent(a, sk, v, seg_idx, copied, peek, &dropped);
        if (dropped != 0) {
          if (!release_dropped()) return -EIO;
          continue;
        }
        if (step == UrgentStep::kPass) {
          ++seg_idx;
          if (hole && seg_idx != sk->rq.seg_tail &&
              sk->oob_pending.load(std::memory_order_relaxed) &&
              seg_idx == sk->oob_index) {
            step = ManageUrgent(a, sk, v, seg_idx, copied, peek, &dropped);
            if (dropped != 0) {
              if (!release_dropped()) return -EIO;
              continue;
            }
            if (step == UrgentStep::kPass) ++seg_idx;
          }
        }
        // Nothing after what it passed: manage_oob returns no skb, which
        // ends a read that has copied something, whatever its target.
        if (step == UrgentStep::kStop ||
            (step == UrgentStep::kPass && seg_idx == sk->rq.seg_tail &&
             copied != 0))
          return static_cast<long>(copied);
      }
      // Then the peek offset skips whole segments, urgent or not, as the
      // skip loop of unix_stream_read_generic does without manage_oob.
      const Segment* seg = nullptr;
      for (; seg_idx != sk->rq.seg_tail; ++seg_idx) {
        const Segment& cand = v.seg(seg_idx);
        if (in_seg < cand.len) {
          seg = &cand;
          break;
        }
        in_seg -= cand.len;
      }
      if (seg == nullptr) {
        if (copied >= target) return static_cast<long>(copied);
        if (const int err = SockTakeError(sk); err != 0)
          return copied ? static_cast<long>(copied) : err;
        if (sk->shutdown.load() & kRcvShutdown)
          return static_cast<long>(copied);
        // With bytes in hand, a handled signal ends the wait even under
        // SA_RESTART: the kernel returns them rather than restart.
        if (copied != 0) budget.progress = true;
        return kWouldBlock;
      }
      const ScmCred seg_creds = ScmCredOf(a, seg->scm);
      if (check_creds) {
        if (!(seg_creds == creds)) return static_cast<long>(copied);
      } else if (sk->passcred.load(std::memory_order_relaxed)) {
        creds = seg_creds;
        check_creds = true;
        m->scm->set_cred(creds);
      }
      if (copied == 0 && m->from != nullptr) {
        // The sender's name, read now as unix_copy_addr reads skb->sk.
        if (SockState* from = a->Ptr<SockState>(sk->peer))
          *m->from = from->addr;
      }
      size_t chunk = seg->len - in_seg;
      if (chunk > size - copied) chunk = size - copied;
      // A long read copies with the lock dropped (unix_stream_read_generic
      // holds only u->iolock): sends queue meanwhile, other reads wait. A
      // short one stays under the lock, as in CopyIntoQueue. Long is the
      // read, not the segment, so a bulk reader of small segments lets
      // its writer in between them.
      const bool ok =
          size <= kLockedCopyMax
              ? RecvQueue::CopyOut(v, *seg, in_seg, chunk, &to)
              : WithLockDropped(a, sk, &sk->rq.reading, 1, [&] {
                  return RecvQueue::CopyOut(v, *seg, in_seg, chunk, &to);
                });
      if (!ok) return copied ? static_cast<long>(copied) : -EFAULT;
      copied += chunk;
      // A segment with descriptors ends the read; they go to this read
      // (moved, or duplicated by a peek: unix_peek_fds), and the bytes of
      // it left for later reads carry none.
      const bool fds = ScmHasFds(a, seg->scm);
      if (fds && peek && PeekReportsOnly(sk))
        m->scm->set_peeked(ScmFdCount(a, seg->scm));
      else if (fds)
        ScmTake(a, seg->scm, peek, m->msg_flags & MSG_CMSG_CLOEXEC, m->scm);
      if (!peek) {
        sk->rq.ConsumeFront(v, static_cast<uint32_t>(chunk));
        if (seg->len == 0) {
          ScmRelease(a, sk->rq.TakeScm(const_cast<Segment*>(seg)));
          sk->rq.PopFront();
        }
        // sk_peek_offset_bwd
        const int off = sk->peek_off.load();
        if (off >= 0)
          sk->peek_off.store(off > static_cast<int>(chunk)
                                 ? off - static_cast<int>(chunk)
                                 : 0);
        SockChanged(a, sk);  // room for the sender, news for pollers
      } else {
        const int off = sk->peek_off.load();  // sk_peek_offset_fwd
        if (off >= 0) sk->peek_off.store(off + static_cast<int>(chunk));
        // A peek goes on to the next skb even with the buffer full (taking
        // nothing more from it, but its descriptors), and stops after the
        // last queued one: it neither waits for more (even under
        // MSG_WAITALL or SO_RCVLOWAT) nor takes a pending error, as
        // unix_stream_read_generic's peek branch does.
        resume = true;
        resume_idx = seg_idx + 1;
        if (resume_idx == sk->rq.seg_tail) return static_cast<long>(copied);
      }
      if (fds || (!peek && copied == size)) return static_cast<long>(copied);
    }
  });
  m->copied = copied;
  if (r == -EINTR) m->scm->set_interrupted();
  if (r < 0 && copied != 0) return static_cast<ssize_t>(copied);
  return r;
}

}  // namespace shunt

// SOCK_DGRAM and SOCK_SEQPACKET: connect, send and receive (net/unix/
// af_unix.c: unix_dgram_connect, unix_dgram_sendmsg, unix_dgram_recvmsg and
// the unix_seqpacket_* wrappers around them).
//
// Each datagram is one Segment holding a reference on its sender, charged
// to the sender's wmem with the size Linux charges (skb truesize), so the
// points where a sender blocks and SIOCOUTQ match the kernel's.
#include "net/unix_dgram.h"

#include <errno.h>
#include <string.h>

namespace shunt {
namespace {

// unix_dgram_disconnected: dropping a datagram association purges our
// queue; a peer that was connected back to us learns of it by ECONNRESET.
void Disconnected(Arena* a, SockState* sk, SockState* old_peer);

}  // namespace

void DropQueue(Arena* a, RecvQueue* rq) {
  for (uint32_t i = rq->seg_head; i != rq->seg_tail; ++i) {
    const Segment* seg = rq->At(a, i);
    if (seg == nullptr) break;
    if (seg->scm != 0) ScmRelease(a, seg->scm);
    if (SockState* from = a->Ptr<SockState>(seg->sender)) {
      DgramUncharge(a, from, seg->charge);
      SockPut(a, from);
    }
  }
  rq->Free(a);
}

namespace {

void Disconnected(Arena* a, SockState* sk, SockState* old_peer) {
  RecvQueue rq;
  {
    MutexLock lock(&sk->lock);
    if (sk->rq.empty()) return;
    rq = DetachQueue(sk);
    SockChanged(a, sk);
  }
  DropQueue(a, &rq);
  MutexLock lock(&old_peer->lock);
  if (!old_peer->dead && old_peer->peer == a->OffsetOf(sk)) {
    old_peer->err.store(ECONNRESET);
    SockChanged(a, old_peer);
  }
}

constexpr long kRestart = -100001;

}  // namespace

void DgramUncharge(Arena* a, SockState* sender, uint32_t bytes) {
  if (bytes == 0) return;
  sender->wmem.fetch_sub(bytes);
  if (sender->wq.sleepers.load() != 0) {
    MutexLock lock(&sender->lock);
    SockChanged(a, sender);
  }
}

bool DgramQueueFull(Arena*, SockState* receiver) {
  return receiver->rq.count() > receiver->backlog;
}

int DgramConnect(const Sock& s, const sockaddr* addr, socklen_t len) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  if (len < offsetof(sockaddr, sa_data)) return -EINVAL;
  SockState* other = nullptr;
  if (addr->sa_family != AF_UNSPEC) {
    if (const int rc = ValidateAddr(addr, len); rc < 0) return rc;
    if (sk->passcred && sk->addr.len == 0) {
      if (const int rc = Autobind(a, sk); rc != 0) return rc;
    }
    const auto* sun = reinterpret_cast<const sockaddr_un*>(addr);
    if (const int rc = FindByName(a, sun, len, sk->type, &other); rc != 0)
      return rc;
    LockPair(sk, other);
    if (!MaySend(a, sk, other)) {
      UnlockPair(sk, other);
      SockPut(a, other);
      return -EPERM;
    }
  } else {
    sk->lock.Lock();
  }
  // The lookup's reference on `other` becomes our peer reference.
  SockState* old = a->Ptr<SockState>(sk->peer);
  sk->peer = other == nullptr ? 0 : a->OffsetOf(other);
  sk->phase = other == nullptr ? SockPhase::kClose : SockPhase::kEstablished;
  SockChanged(a, sk);
  if (other != nullptr)
    UnlockPair(sk, other);
  else
    sk->lock.Unlock();
  if (old != nullptr) {
    {
      MutexLock lock(&old->lock);  // its pollers watched it for us
      SockChanged(a, old);
    }
    if (old != other) Disconnected(a, sk, old);
    SockPut(a, old);
  }
  return 0;
}

ssize_t DgramSendmsg(const Sock& s, MsgArgs* m, int flags) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  const sockaddr* name = m->name;
  socklen_t namelen = m->namelen;
  if (sk->type == SOCK_SEQPACKET) {
    // unix_seqpacket_sendmsg: connected only; a given name is ignored.
    if (const int err = SockTakeError(sk); err != 0) return err;
    if (sk->phase != SockPhase::kEstablished) return -ENOTCONN;
    name = nullptr;
    namelen = 0;
  }
  ScmSend scm(a, ScmLimit(sk));  // unix_dgram_sendmsg: scm_send first
  if (const int rc = ScmParse(m->control, m->controllen, &scm); rc != 0)
    return rc;
  if (flags & MSG_OOB) return -EOPNOTSUPP;
  SockState* other = nullptr;
  if (namelen != 0) {
    if (const int rc = ValidateAddr(name, namelen); rc < 0) return rc;
  }
  const auto put_other = [&] {
    if (other != nullptr) SockPut(a, other);
    other = nullptr;
  };
  if (sk->passcred && sk->addr.len == 0) {
    if (const int rc = Autobind(a, sk); rc != 0) {
      put_other();
      return rc;
    }
  }
  const size_t len = m->size;
  if (len + 32 > static_cast<size_t>(sk->sndbuf.load())) {
    put_other();
    return -EMSGSIZE;
  }
  WaitBudget budget =
      MsgBudgetFor(s, *m, flags & MSG_DONTWAIT, sk->sndtimeo.load());
  // sock_alloc_send_pskb: error, shutdown, then room in our send buffer,
  // then the allocation, whose head kmalloc may refuse.
  const uint32_t charge = DatagramTruesize(len);
  long r = WaitLoop(sk, &budget, [&]() -> long {
    if (const int err = SockTakeError(sk); err != 0) return err;
    if (sk->shutdown.load() & kSendShutdown) return -EPIPE;
    if (sk->wmem.load() >= static_cast<uint32_t>(sk->sndbuf.load()))
      return kWouldBlock;
    if (len > kMaxDatagramLen) return -ENOBUFS;
    sk->wmem.fetch_add(charge);
    return 0;
  });
  if (r != 0) {
    put_other();
    return r;  // no SIGPIPE: only stream sends raise it
  }
  // unix_dgram_sendmsg (6.x) takes the default peer only once the skb is
  // allocated: autobind, EMSGSIZE, a pending error and EPIPE come first.
  if (namelen == 0) {
    {
      MutexLock lock(&sk->lock);
      other = a->Ptr<SockState>(sk->peer);
      if (other != nullptr) SockHold(other);
    }
    if (other == nullptr) {
      DgramUncharge(a, sk, charge);
      return -ENOTCONN;
    }
  }
  // From here the charge is ours to hand to a queue or give back.
  IovCursor from(m->iov, m->iovlen);
  for (;;) {
    if (other == nullptr) {
      if (name == nullptr) {
        r = -ECONNRESET;
        break;
      }
      const auto* sun = reinterpret_cast<const sockaddr_un*>(name);
      if (const int rc = FindByName(a, sun, namelen, sk->type, &other);
          rc != 0) {
        r = rc;
        break;
      }
    }
    // The descriptors are parked at this receiver's mailbox.
    Segment meta{};
    meta.sender = a->OffsetOf(sk);
    meta.charge = charge;
    if (const int rc =
            ScmAttach(&scm, sk, other, budget.nonblocking, &meta.scm);
        rc != 0) {
      r = rc;
      break;
    }
    r = WaitLoop(other, &budget, [&]() -> long {
      if (!MaySend(a, sk, other)) return -EPERM;
      if (other->dead) return kRestart;
      if (other->shutdown.load() & kRcvShutdown) return -EPIPE;
      // A receiver with SO_PASSRIGHTS off refuses descriptors (Linux 6.16+
      // unix_dgram_sendmsg).
      if (scm.has_fds() && !SockHasFlag(other, kSockPassRights)) return -EPERM;
      if (other != sk && other->peer != a->OffsetOf(sk) &&
          DgramQueueFull(a, other))
        return kWouldBlock;
      if (const int rc = other->rq.Append(a, &from, len, meta); rc != 0)
        return rc;
      meta.scm = 0;
      SockHold(sk);
      SockChanged(a, other);
      return static_cast<long>(len);
    });
    if (meta.scm != 0) ScmRelease(a, meta.scm);
    if (r != kRestart) break;
    SockState* dead = other;
    other = nullptr;
    if (sk->type == SOCK_SEQPACKET) {
      // Only a send racing the peer's release sees it dead (the release
      // shuts us down next): EPIPE, and never the datagram disconnect
      // below, which would empty our own queue (unix_dgram_sendmsg).
      SockPut(a, dead);
      r = -EPIPE;
      break;
    }
    // The receiver is gone. If it was our peer, the association ends
    // here with ECONNREFUSED; a later send finds no peer (ENOTCONN).
    bool was_peer = false;
    {
      MutexLock lock(&sk->lock);
      if (sk->peer == a->OffsetOf(dead)) {
        sk->peer = 0;
        sk->phase = SockPhase::kClose;
        was_peer = true;
      }
    }
    if (was_peer) {
      Disconnected(a, sk, dead);
      SockPut(a, dead);  // the peer reference
      SockPut(a, dead);  // ours
      r = -ECONNREFUSED;
      break;
    }
    SockPut(a, dead);
    if (name == nullptr) {
      r = -ENOTCONN;
      break;
    }
  }
  put_other();
  if (r < 0) DgramUncharge(a, sk, charge);
  return r;
}

ssize_t DgramRecvmsg(const Sock& s, MsgArgs* m, int flags) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  if (sk->type == SOCK_SEQPACKET && sk->phase != SockPhase::kEstablished)
    return -ENOTCONN;  // unix_seqpacket_recvmsg
  if (flags & MSG_OOB) return -EOPNOTSUPP;
  const bool peek = flags & MSG_PEEK;
  WaitBudget budget =
      MsgBudgetFor(s, *m, flags & MSG_DONTWAIT, sk->rcvtimeo.load());
  const bool nonblock = budget.nonblocking;
  IovCursor to(m->iov, m->iovlen);
  Segment taken{};  // a dequeued segment whose sender we still hold
  Off dropped = 0;  // the descriptors of a datagram lost to a fault
  const long r = WaitLoop(sk, &budget, [&]() -> long {
    // __skb_try_recv_datagram reports a pending error before anything,
    // even with datagrams queued.
    if (const int err = SockTakeError(sk); err != 0) return err;
    // __skb_try_recv_from_queue: a peek at a peek offset (SO_PEEK_OFF set,
    // even to 0) skips whole datagrams, and an empty one it has peeked at
    // before.
    const int peek_off = peek ? sk->peek_off.load() : -1;
    size_t skip = peek_off > 0 ? static_cast<size_t>(peek_off) : 0;
    QueueView v;
    if (!sk->rq.View(a, &v)) return -EIO;
    Segment* seg = nullptr;
    for (uint32_t i = sk->rq.seg_head; i != sk->rq.seg_tail; ++i) {
      Segment& cand = v.seg(i);
      if (peek_off >= 0 && skip >= cand.len &&
          (skip != 0 || (cand.flags & kSegmentPeeked))) {
        skip -= cand.len;
        continue;
      }
      seg = &cand;
      break;
    }
    if (seg == nullptr) {
      // __skb_wait_for_more_packets' order. A nonblocking caller learns
      // of shutdown only on seqpacket (unix_dgram_recvmsg: "Signal EOF on
      // disconnected non-blocking SEQPACKET socket").
      const bool eof = sk->shutdown.load() & kRcvShutdown;
      if (nonblock) {
        return eof && sk->type == SOCK_SEQPACKET ? 0 : kWouldBlock;
      }
      if (eof) return 0;
      if (sk->type == SOCK_SEQPACKET && sk->phase != SockPhase::kEstablished)
        return -ENOTCONN;
      return kWouldBlock;
    }
    if (m->from != nullptr) {
      if (SockState* from = a->Ptr<SockState>(seg->sender))
        *m->from = from->addr;
    }
    if (peek && seg->len == 0) seg->flags |= kSegmentPeeked;
    const size_t avail = seg->len - skip;
    size_t size = m->size;
    if (size >= avail) {
      size = avail;
    } else {
      m->msg_flags |= MSG_TRUNC;
    }
    const bool ok = RecvQueue::CopyOut(v, *seg, skip, size, &to);
    m->copied = to.done();
    if (!ok) {
      // unix_dgram_recvmsg's out_free: a peek leaves all as it was; a read
      // has dequeued the datagram before the copy, and frees it with its
      // descriptors (released unlocked, below), the peek offset untouched.
      if (!peek) {
        dropped = sk->rq.TakeScm(seg);
        taken = *seg;
        sk->rq.ConsumeFront(v, seg->len);
        sk->rq.PopFront();
        SockChanged(a, sk);  // senders waiting for queue room
      }
      return -EFAULT;
    }
    const long result = static_cast<long>((flags & MSG_TRUNC) ? avail : size);
    // The descriptors go with the datagram, even a truncated one
    // (unix_detach_fds), or are duplicated by a peek (unix_peek_fds).
    m->scm->set_cred(ScmCredOf(a, seg->scm));
    if (peek && PeekReportsOnly(sk) && ScmHasFds(a, seg->scm)) {
      m->scm->set_peeked(ScmFdCount(a, seg->scm));
    } else if (seg->scm != 0) {
      const Off b = peek ? seg->scm : sk->rq.TakeScm(seg);
      ScmTake(a, b, peek, m->msg_flags & MSG_CMSG_CLOEXEC, m->scm);
      if (!peek) ScmRelease(a, b);
    }
    if (!peek) {
      // Dequeued before the copy in Linux: a fault loses the datagram.
      taken = *seg;
      sk->rq.ConsumeFront(v, seg->len);
      sk->rq.PopFront();
      const int off = sk->peek_off.load();  // sk_peek_offset_bwd
      if (off >= 0)
        sk->peek_off.store(off > static_cast<int>(taken.len)
                               ? off - static_cast<int>(taken.len)
                               : 0);
      SockChanged(a, sk);  // senders waiting for queue room
    } else {
      const int off = sk->peek_off.load();
      if (off >= 0) sk->peek_off.store(off + static_cast<int>(size));
    }
    return result;
  });
  if (dropped != 0) ScmRelease(a, dropped);
  if (SockState* from = a->Ptr<SockState>(taken.sender)) {
    DgramUncharge(a, from, taken.charge);
    SockPut(a, from);
  }
  return r;
}

}  // namespace shunt

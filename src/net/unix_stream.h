// SOCK_STREAM rules shared by the general path (unix_stream.cc) and the
// fast paths, which are inline here so that shunt_send and shunt_recv
// compile to one straight-line function each.
//
// The fast paths handle the common same-process call: one flat buffer,
// plain flags, nothing to wait for, fail on or report. They do exactly what
// StreamSendmsg / StreamRecvmsg would do then, and otherwise return
// kWouldBlock having changed nothing, so the caller takes the general path.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "net/pair_view.h"
#include "net/sock.h"

namespace shunt {

// unix_stream_sendmsg: an skb carries at most half the send buffer less 64
// bytes, and at most SKB_MAX_HEAD(0) plus UNIX_SKB_FRAGS_SZ.
inline size_t SkbPayload(const SockState* sk, size_t left) {
  constexpr size_t kMaxSkb = 3776 + 32768;
  const int half = sk->sndbuf.load(std::memory_order_relaxed) / 2 - 64;
  size_t n = left < kMaxSkb ? left : kMaxSkb;
  if (half > 0 && static_cast<size_t>(half) < n) n = static_cast<size_t>(half);
  return n;
}
// The longest send that is one skb: SkbPayload of an unbounded send.
inline size_t MaxOneSkbSend(const SockState* sk) {
  return SkbPayload(sk, SIZE_MAX);
}

// What a stream sender may still queue at its peer: unix_stream_sendmsg
// waits while the sender's in-flight bytes reach its send buffer (counted
// in payload bytes here, see DIFFERENCES.md).
inline int64_t StreamRoom(const SockState* sk, const SockState* peer) {
  return int64_t{sk->sndbuf.load(std::memory_order_relaxed)} - peer->rq.bytes;
}

// Whether a stream receiver takes no more data: released, or shut down for
// reading (unix_stream_sendmsg's check under unix_state_lock(other)).
inline bool StreamReceiverGone(const SockState* peer) {
  return peer->dead ||
         (peer->shutdown.load(std::memory_order_relaxed) & kRcvShutdown);
}

// Whether sk's state, apart from room at its peer, stops a plain send
// (flags at most MSG_DONTWAIT | MSG_NOSIGNAL) from queueing at once:
// credentials to attach (maybe_add_creds: either end passes them, or the
// peer is an embryo), a pending error, shutdown on either side, a dead peer.
inline bool StreamSendStopped(const SockState* sk, const SockState* peer) {
  return sk->passcred.load(std::memory_order_relaxed) ||
         peer->passcred.load(std::memory_order_relaxed) ||
         peer->file.load(std::memory_order_relaxed) == 0 ||
         sk->err.load(std::memory_order_relaxed) != 0 ||
         (sk->shutdown.load(std::memory_order_relaxed) & kSendShutdown) ||
         StreamReceiverGone(peer);
}
// The part of StreamRecvStopped that needs no lock: not connected, or a
// low-water mark or peek offset to honour.
inline bool StreamReadOptionsStop(const SockState* sk) {
  return sk->phase.load(std::memory_order_relaxed) != SockPhase::kEstablished ||
         sk->rcvlowat.load(std::memory_order_relaxed) != 1 ||
         sk->peek_off.load(std::memory_order_relaxed) != -1;
}
// Whether sk's state stops a plain read (no flags but MSG_DONTWAIT) from
// taking queued bytes as a flat copy: StreamReadOptionsStop, or
// descriptors, credentials or urgent data in the queue (they end or shape
// a read), or another read copying out of it. The queue fields require
// sk's lock or an exclusive pair.
inline bool StreamRecvStopped(const SockState* sk) {
  return StreamReadOptionsStop(sk) || sk->rq.scm_segs != 0 ||
         sk->rq.urgent != 0 || sk->rq.reading != 0;
}

// The most a fast path copies while it holds a socket's lock. Longer
// copies take the general path, which copies with the lock dropped, so
// that the reader's and the writer's copies of a bulk transfer overlap.
constexpr size_t kLockedCopyMax = 8192;

// An exclusive pair (ExclusivePair) has no waiter and no poller but the
// calling thread itself, which is busy here: its fast paths skip the wait
// queue bump (SockChanged) along with the lock. Whoever waits later reads
// the queue state itself, not a missed bump.
//
// unix_stream_sendmsg for one buffer that fits one skb and the peer's
// queue as it is now.
[[gnu::always_inline]] inline long StreamSendFast(Arena* a, SockState* sk,
                                                  const void* buf, size_t n,
                                                  int flags) {
  if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) || n == 0) return kWouldBlock;
  if (const PairView* v = PairViewOf(a, sk)) {
    if (!v->can_send || n > v->max_send ||
        StreamRoom(sk, v->peer) < static_cast<int64_t>(n) ||
        !v->peer->rq.TryAppendFlat(v->tx, buf, n))
      return kWouldBlock;
    return static_cast<long>(n);
  }
  SockState* peer = a->Ptr<SockState>(sk->peer.load(std::memory_order_acquire));
  if (peer == nullptr || n > kLockedCopyMax || n > MaxOneSkbSend(sk))
    return kWouldBlock;
  peer->lock.Lock();
  long r = kWouldBlock;
  if (!StreamSendStopped(sk, peer) && peer->rq.writing == 0 &&
      StreamRoom(sk, peer) >= static_cast<int64_t>(n) &&
      peer->rq.TryAppendFlat(a, buf, n)) {
    SockChanged(a, peer);
    r = static_cast<long>(n);
  }
  peer->lock.Unlock();
  return r;
}

// The read of StreamRecvFast for a pair that is not exclusive (and of the
// busy-poll, StreamRecvBusyPoll): under sk's lock, a read of at most
// kLockedCopyMax bytes, or one that finds no more than that queued.
template <typename Cursor>
[[gnu::always_inline]] inline long StreamRecvLocked(Arena* a, SockState* sk,
                                                    Cursor* to, size_t size) {
  // (A read takes all it can, so a long one is the general path's, even
  // if more arrives before the lock is taken.)
  if (size > kLockedCopyMax &&
      __atomic_load_n(&sk->rq.bytes, __ATOMIC_RELAXED) > kLockedCopyMax)
    return kWouldBlock;
  sk->lock.Lock();
  const size_t copied = StreamRecvStopped(sk) ? 0 : sk->rq.Take(a, to, size);
  if (copied != 0) SockChanged(a, sk);  // room for the sender
  sk->lock.Unlock();
  return copied != 0 ? static_cast<long>(copied) : kWouldBlock;
}

// unix_stream_read_generic with nothing special asked and data queued: take
// queued segments in order until the caller's buffers (`to`: a FlatCursor
// or an IovCursor, RecvQueue::Take) hold `size` bytes or the queue is empty.
template <typename Cursor>
[[gnu::always_inline]] inline long StreamRecvFast(Arena* a, SockState* sk,
                                                  Cursor* to, size_t size,
                                                  int flags) {
  if ((flags & ~MSG_DONTWAIT) || size == 0 ||
      __atomic_load_n(&sk->rq.bytes, __ATOMIC_RELAXED) == 0)
    return kWouldBlock;
  if (const PairView* v = PairViewOf(a, sk)) {
    const size_t copied = v->can_recv ? sk->rq.Take(v->rx, to, size) : 0;
    return copied != 0 ? static_cast<long>(copied) : kWouldBlock;
  }
  return StreamRecvLocked(a, sk, to, size);
}

}  // namespace shunt

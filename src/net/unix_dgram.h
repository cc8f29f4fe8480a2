// SOCK_DGRAM and SOCK_SEQPACKET rules shared by the general path
// (unix_dgram.cc) and the fast paths, which are inline here so that
// shunt_send and shunt_recv compile to one straight-line function each.
//
// The fast paths handle one flat buffer with plain flags between the two
// unnamed sockets of an exclusive pair (a socketpair kept in one
// single-threaded process), when nothing has to wait, fail or be reported.
// They do exactly what DgramSendmsg / DgramRecvmsg would do then, and
// otherwise return kWouldBlock having changed nothing.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <bit>

#include "net/pair_view.h"
#include "net/sock.h"

namespace shunt {

// The skb unix_dgram_sendmsg builds for a len-byte datagram: a kmalloc'd
// head plus up to kMaxSkbFrags whole pages for what exceeds SKB_MAX_ALLOC.
constexpr size_t kSkbPage = 4096;
constexpr size_t kSkbShinfo = 320;  // SKB_DATA_ALIGN(sizeof skb_shared_info)
constexpr size_t kSkbStruct = 256;  // SKB_DATA_ALIGN(sizeof sk_buff)
constexpr size_t kSkbMaxAlloc = 16064;  // SKB_MAX_ALLOC
constexpr size_t kMaxSkbFrags = 17;
// KMALLOC_MAX_SIZE: 2^MAX_PAGE_ORDER (10) pages.
constexpr size_t kKmallocMax = size_t{4} << 20;

// The bytes of a len-byte datagram that go in pages, not in the head.
constexpr size_t DatagramPaged(size_t len) {
  if (len <= kSkbMaxAlloc) return 0;
  const size_t paged = len - kSkbMaxAlloc;
  return paged < kMaxSkbFrags * kSkbPage ? paged : kMaxSkbFrags * kSkbPage;
}
// What __alloc_skb asks kmalloc for: the head, aligned, and the shared info.
constexpr size_t DatagramHeadAlloc(size_t len) {
  return ((len - DatagramPaged(len) + 63) & ~size_t{63}) + kSkbShinfo;
}
// The longest datagram whose head kmalloc can allocate: sock_alloc_send_pskb
// fails a longer one with ENOBUFS (found by a kernel-vs-shunt hunt: a
// seqpacket or datagram socket's buffer may be set to 8 MiB).
constexpr size_t kMaxDatagramLen =
    kKmallocMax - kSkbShinfo + kMaxSkbFrags * kSkbPage;
static_assert(DatagramHeadAlloc(kMaxDatagramLen) == kKmallocMax &&
              DatagramHeadAlloc(kMaxDatagramLen + 1) > kKmallocMax);

// The truesize of that skb, charged to the sender's wmem (sk_wmem_alloc).
inline uint32_t DatagramTruesize(size_t len) {
  // kmalloc's size classes are powers of two apart from 96 and 192, which
  // are below the smallest head (kSkbShinfo alone is more).
  const size_t head = std::bit_ceil(DatagramHeadAlloc(len));
  const size_t paged = DatagramPaged(len);
  return static_cast<uint32_t>(head + kSkbStruct +
                               ((paged + kSkbPage - 1) & ~(kSkbPage - 1)));
}

// unix_may_send: a receiver connected elsewhere takes datagrams only from
// its peer.
inline bool MaySend(Arena* a, const SockState* sk, const SockState* other) {
  return other->peer == 0 || other->peer == a->OffsetOf(sk);
}

// An exclusive pair whose sockets have no name: a named datagram socket
// takes datagrams from anyone who knows the name, so only unnamed ones are
// out of every other thread's and process's reach.
inline bool ExclusiveDgramPair(const SockState* sk, const SockState* peer) {
  return ExclusivePair(sk, peer) && sk->addr.len == 0 && peer->addr.len == 0;
}

// Adds d (modulo 2^32) to a counter of an exclusive pair's socket, which
// no other thread or process can reach (ExclusivePair).
inline void AddExclusive(std::atomic<uint32_t>* counter, uint32_t d) {
  counter->store(counter->load(std::memory_order_relaxed) + d,
                 std::memory_order_relaxed);
}

// Whether the state of sk and its peer, apart from the datagram's size,
// sk's send buffer fill and the peer's queue, stops a plain datagram
// (flags at most MSG_DONTWAIT | MSG_NOSIGNAL) from being queued at once:
// whatever the general path would report or wait for (a pending error, an
// unconnected seqpacket socket, shutdown, autobind for SO_PASSCRED, a dead
// or shut receiver, one connected elsewhere, and one not connected back,
// whose queue length limit applies).
inline bool DgramSendStopped(Arena* a, const SockState* sk,
                             const SockState* peer) {
  return sk->err.load(std::memory_order_relaxed) != 0 ||
         (sk->type == SOCK_SEQPACKET &&
          sk->phase.load(std::memory_order_relaxed) !=
              SockPhase::kEstablished) ||
         (sk->shutdown.load(std::memory_order_relaxed) & kSendShutdown) ||
         sk->passcred.load(std::memory_order_relaxed) ||
         peer->passcred.load(std::memory_order_relaxed) || peer->dead ||
         (peer->shutdown.load(std::memory_order_relaxed) & kRcvShutdown) ||
         peer->peer != a->OffsetOf(sk);
}
// Whether sk's state stops a plain read (no flags but MSG_DONTWAIT) of the
// front datagram: a pending error, an unconnected seqpacket socket, a peek
// offset, credentials to report, or descriptors in the queue.
inline bool DgramRecvStopped(const SockState* sk) {
  return sk->rq.scm_segs != 0 || sk->err.load(std::memory_order_relaxed) != 0 ||
         (sk->type == SOCK_SEQPACKET &&
          sk->phase.load(std::memory_order_relaxed) !=
              SockPhase::kEstablished) ||
         sk->peek_off.load(std::memory_order_relaxed) != -1 ||
         sk->passcred.load(std::memory_order_relaxed);
}

// The fast paths below need the pair's PairView (net/pair_view.h), which
// only an exclusive unnamed pair has: nobody else can see either socket,
// so there is no lock to take and no waiter to wake.
//
// unix_dgram_sendmsg to the connected peer, when the datagram fits the send
// buffer and the peer's queue as they are now.
[[gnu::always_inline]] inline long DgramSendFast(Arena* a, SockState* sk,
                                                 const void* buf, size_t n,
                                                 int flags) {
  if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) return kWouldBlock;
  const PairView* v = PairViewOf(a, sk);
  if (v == nullptr || !v->can_send || n > kMaxDatagramLen ||
      static_cast<int64_t>(n) + 32 > v->sndbuf ||
      sk->wmem.load(std::memory_order_relaxed) >= v->sndbuf)
    return kWouldBlock;
  Segment meta{};
  meta.sender = a->OffsetOf(sk);
  meta.charge = DatagramTruesize(n);
  if (!v->peer->rq.TryAppendFlat(v->tx, buf, n, meta)) return kWouldBlock;
  // The charge and the queued datagram's reference on its sender, as
  // SockHold takes it: only this thread can reach an exclusive pair's
  // counters, so plain updates do (no locked instruction).
  AddExclusive(&sk->wmem, meta.charge);
  AddExclusive(&sk->refs, 1);
  return static_cast<long>(n);
}

// unix_dgram_recvmsg of the front datagram into the caller's buffers (`to`:
// a FlatCursor or an IovCursor, RecvQueue::TakeFront). The rest of a longer
// datagram is discarded; *msg_flags gains MSG_TRUNC then, and the bytes
// copied are returned, as without the MSG_TRUNC flag.
template <typename Cursor>
[[gnu::always_inline]] inline long DgramRecvFast(Arena* a, SockState* sk,
                                                 Cursor* to, size_t size,
                                                 int flags, int* msg_flags) {
  if (flags & ~MSG_DONTWAIT) return kWouldBlock;
  // The queue may be read only once the view shows the pair exclusive
  // (nobody else appends to it then).
  const PairView* v = PairViewOf(a, sk);
  Segment taken;
  if (v == nullptr || !v->can_recv ||
      !sk->rq.TakeFront(v->rx, to, size, &taken))
    return kWouldBlock;
  if (taken.sender == a->OffsetOf(v->peer)) {
    // DgramUncharge and SockPut for the peer of an exclusive pair: nobody
    // waits for its send buffer, and its open file holds a reference too,
    // so this one is never the last.
    AddExclusive(&v->peer->wmem, -taken.charge);
    AddExclusive(&v->peer->refs, -1u);
  } else if (SockState* from = a->Ptr<SockState>(taken.sender)) {
    DgramUncharge(a, from, taken.charge);
    SockPut(a, from);
  }
  if (size < taken.len) {
    *msg_flags |= MSG_TRUNC;
    return static_cast<long>(size);
  }
  return static_cast<long>(taken.len);
}

}  // namespace shunt

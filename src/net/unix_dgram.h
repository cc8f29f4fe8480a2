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

#include "net/sock.h"

namespace shunt {

// The truesize of the skb unix_dgram_sendmsg builds for a len-byte
// datagram: a kmalloc'd head plus whole pages for what exceeds
// SKB_MAX_ALLOC. Charged to the sender's wmem (sk_wmem_alloc).
inline uint32_t DatagramTruesize(size_t len) {
  constexpr size_t kPage = 4096;
  constexpr size_t kSkbShinfo = 320;  // SKB_DATA_ALIGN(sizeof skb_shared_info)
  constexpr size_t kSkbStruct = 256;  // SKB_DATA_ALIGN(sizeof sk_buff)
  constexpr size_t kSkbMaxAlloc = 16064;  // SKB_MAX_ALLOC
  constexpr size_t kMaxSkbFrags = 17;
  size_t paged = 0;
  if (len > kSkbMaxAlloc) {
    paged = len - kSkbMaxAlloc;
    if (paged > kMaxSkbFrags * kPage) paged = kMaxSkbFrags * kPage;
  }
  const size_t linear = len - paged;
  // kmalloc's size classes: powers of two from 8, plus 96 and 192.
  const size_t want = ((linear + 63) & ~size_t{63}) + kSkbShinfo;
  size_t head = 8;
  while (head < want) head <<= 1;
  if (want <= 96 && want > 64) head = 96;
  if (want <= 192 && want > 128) head = 192;
  return static_cast<uint32_t>(head + kSkbStruct +
                               ((paged + kPage - 1) & ~(kPage - 1)));
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

// unix_dgram_sendmsg to the connected peer, when the datagram fits the send
// buffer and the peer's queue as they are now. Nobody else can see either
// socket, so there is no lock to take and no waiter to wake.
[[gnu::always_inline]] inline long DgramSendFast(Arena* a, SockState* sk,
                                                 const void* buf, size_t n,
                                                 int flags) {
  if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) return kWouldBlock;
  SockState* peer = a->Ptr<SockState>(sk->peer.load(std::memory_order_relaxed));
  if (peer == nullptr || !ExclusiveDgramPair(sk, peer)) return kWouldBlock;
  const int64_t sndbuf = sk->sndbuf.load(std::memory_order_relaxed);
  // Whatever the general path would report or wait for: a pending error,
  // shutdown, EMSGSIZE, a full send buffer, autobind for SO_PASSCRED, a
  // dead, shut or otherwise connected receiver, a full receive queue.
  if (sk->err.load(std::memory_order_relaxed) != 0 ||
      (sk->type == SOCK_SEQPACKET &&
       sk->phase.load(std::memory_order_relaxed) != SockPhase::kEstablished) ||
      (sk->shutdown.load(std::memory_order_relaxed) & kSendShutdown) ||
      sk->passcred.load(std::memory_order_relaxed) ||
      peer->passcred.load(std::memory_order_relaxed) ||
      static_cast<int64_t>(n) + 32 > sndbuf ||
      sk->wmem.load(std::memory_order_relaxed) >= sndbuf || peer->dead ||
      (peer->shutdown.load(std::memory_order_relaxed) & kRcvShutdown) ||
      !MaySend(a, sk, peer) || (peer->peer == 0 && DgramQueueFull(a, peer)))
    return kWouldBlock;
  Segment meta{};
  meta.sender = a->OffsetOf(sk);
  meta.charge = DatagramTruesize(n);
  if (!peer->rq.TryAppendFlat(a, buf, n, meta)) return kWouldBlock;
  sk->wmem.fetch_add(meta.charge, std::memory_order_relaxed);
  SockHold(sk);  // the queued datagram's reference on its sender
  return static_cast<long>(n);
}

// unix_dgram_recvmsg of the front datagram into one buffer (the rest of a
// longer datagram is discarded, as recv without MSG_TRUNC reports it).
[[gnu::always_inline]] inline long DgramRecvFast(Arena* a, SockState* sk,
                                                 void* buf, size_t size,
                                                 int flags) {
  if (flags & ~MSG_DONTWAIT) return kWouldBlock;
  SockState* peer = a->Ptr<SockState>(sk->peer.load(std::memory_order_relaxed));
  // The queue may be read only once the pair is known to be exclusive
  // (nobody else appends to it then). Descriptors in it are the general
  // path's.
  if (peer == nullptr || !ExclusiveDgramPair(sk, peer) || sk->rq.empty() ||
      sk->rq.scm_segs != 0 || sk->err.load(std::memory_order_relaxed) != 0 ||
      (sk->type == SOCK_SEQPACKET &&
       sk->phase.load(std::memory_order_relaxed) != SockPhase::kEstablished) ||
      sk->peek_off.load(std::memory_order_relaxed) != -1 ||
      sk->passcred.load(std::memory_order_relaxed))
    return kWouldBlock;
  Segment taken;
  if (!sk->rq.TakeFrontFlat(a, buf, size, &taken)) return kWouldBlock;
  if (SockState* from = a->Ptr<SockState>(taken.sender)) {
    DgramUncharge(a, from, taken.charge);
    SockPut(a, from);
  }
  return static_cast<long>(size < taken.len ? size : taken.len);
}

}  // namespace shunt

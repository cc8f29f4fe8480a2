// PairView: what the fast paths established about an exclusive pair
// (net/sock.h: ExclusivePair), kept so that the next call need not
// establish it again.
//
// An exclusive pair is out of every other thread's and process's reach, so
// its state changes only through this process's own calls into the socket
// layer. Every such call that could make a view too permissive moves the
// process's socket epoch (NoteSockChange) before it changes anything: the
// descriptor lookup of every call but the reading ones (fd/fd_table.h:
// FdUse), every kernel-style call, every change to the descriptor table,
// FilePut and FileShared. No call makes a view after its lookup (the fast
// paths are tried before it; api/posix.cc), where the view would miss what
// the call's general path then changes. Replacing a queue's rings moves the
// epoch too (RecvQueue), wherever it happens. A view is therefore valid while
// the epoch it was made under is current: until then the sockets, the peer
// link, both queues' rings (which only the general path allocates or frees) and
// the options the fast paths depend on are as the view saw them, or changed
// only in ways that make the general path's answer the view's or better.
// The fast paths themselves change only queue contents, which a view never
// records.
//
// Views are process-local (they hold pointers into this process's mapping
// of the arena) and are only used while the process is single-threaded.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>

#include <atomic>

#include "net/recv_queue.h"

namespace shunt {

struct SockState;

// Moves on every socket-layer call that may change a socket's state other
// than its queue contents. Relaxed load and store, not an atomic increment:
// views are only used in single-threaded processes, where no update is
// lost.
extern std::atomic<uint64_t> g_sock_epoch;
inline void MoveSockEpoch() {
  g_sock_epoch.store(g_sock_epoch.load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
}
// What the socket layer calls on each change. A multi-threaded process
// uses no view and skips the store, which would otherwise move the
// epoch's cache line between CPUs on every call. The one way back to a
// single thread is the child of a fork, which moves the epoch itself
// (fd/fd_table.cc: ForkChild).
inline void NoteSockChange() {
  if (__libc_single_threaded) MoveSockEpoch();
}

// Two cache lines, 128-byte aligned, so a slot shares no line, nor a pair
// of lines the adjacent-line prefetcher fetches together, with another
// slot, and its index is a shift.
struct alignas(128) PairView {
  uint64_t epoch;   // g_sock_epoch when made; 0 for an unused slot
  SockState* sk;    // the socket the view was made for
  SockState* peer;  // its peer
  QueueView tx;     // peer->rq, checked, when can_send
  QueueView rx;     // sk->rq, checked, when can_recv
  int64_t sndbuf;   // sk's send buffer (the datagram rules)
  size_t max_send;  // the longest stream send that is one skb
  bool can_send;    // nothing but room can stop a plain send
  bool can_recv;    // nothing but an empty queue can stop a plain read
};
static_assert(sizeof(PairView) == 128);

constexpr size_t kPairViewSlots = 64;
extern PairView g_pair_views[kPairViewSlots];

// The slot for sk: a direct-mapped cache indexed by the socket's address
// (sockets are pool objects of at least 1 KiB).
inline PairView& PairViewSlot(const SockState* sk) {
  return g_pair_views[(reinterpret_cast<uintptr_t>(sk) >> 10) &
                      (kPairViewSlots - 1)];
}

// Makes and keeps sk's view when sk and its peer are an exclusive pair
// (unnamed, for datagram and seqpacket: net/unix_dgram.h) and either
// direction can take a fast path; nullptr otherwise (pair_view.cc).
const PairView* MakePairView(Arena* a, SockState* sk);

// sk's view, current or made now; nullptr when it can have none.
[[gnu::always_inline]] inline const PairView* PairViewOf(Arena* a,
                                                         SockState* sk) {
  const PairView& v = PairViewSlot(sk);
  if (__libc_single_threaded && v.sk == sk &&
      v.epoch == g_sock_epoch.load(std::memory_order_relaxed))
    return &v;
  return MakePairView(a, sk);
}

}  // namespace shunt

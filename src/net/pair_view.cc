#include "net/pair_view.h"

#include "net/sock.h"
#include "net/unix_dgram.h"
#include "net/unix_stream.h"

namespace shunt {

std::atomic<uint64_t> g_sock_epoch{1};
PairView g_pair_views[kPairViewSlots];

const PairView* MakePairView(Arena* a, SockState* sk) {
  SockState* peer = a->Ptr<SockState>(sk->peer.load(std::memory_order_acquire));
  if (peer == nullptr || !ExclusivePair(sk, peer)) return nullptr;
  bool send_ok, recv_ok;
  if (sk->type == SOCK_STREAM) {
    send_ok = !StreamSendStopped(sk, peer);
    recv_ok = !StreamRecvStopped(sk);
  } else {
    if (!ExclusiveDgramPair(sk, peer)) return nullptr;
    send_ok = !DgramSendStopped(a, sk, peer);
    recv_ok = !DgramRecvStopped(sk);
  }
  PairView v{};
  // A view whose ring is not yet allocated would let nothing through: the
  // general path allocates it, moving the epoch.
  v.can_send = send_ok && peer->rq.View(a, &v.tx) && v.tx.bytes != nullptr &&
               v.tx.segs != nullptr;
  v.can_recv = recv_ok && sk->rq.View(a, &v.rx) && v.rx.bytes != nullptr &&
               v.rx.segs != nullptr;
  if (!v.can_send && !v.can_recv) return nullptr;
  v.epoch = g_sock_epoch.load(std::memory_order_relaxed);
  v.sk = sk;
  v.peer = peer;
  v.sndbuf = sk->sndbuf.load(std::memory_order_relaxed);
  v.max_send = MaxOneSkbSend(sk);
  PairView& slot = PairViewSlot(sk);
  slot = v;
  return &slot;
}

}  // namespace shunt

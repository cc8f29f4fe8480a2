#include "net/recv_queue.h"

#include <errno.h>
#include <string.h>

#include "base/user_copy.h"
#include "net/pair_view.h"

namespace shunt {

int RecvQueue::Reserve(Arena* a, size_t n) {
  const uint64_t used = tail - head;
  if (used + n <= ring_cap) return 0;
  size_t want = used + n < 1024 ? 1024 : used + n;
  const Off fresh = a->AllocBuffer(&want);
  if (fresh == 0) return -ENOBUFS;
  uint8_t* dst = a->Bytes(fresh, want);
  const uint8_t* src = a->Bytes(ring, ring_cap);
  if (src != nullptr) {
    for (uint64_t p = head; p < tail;) {
      const size_t from = p & (ring_cap - 1);
      const size_t to = p & (want - 1);
      size_t k = tail - p;
      if (k > ring_cap - from) k = ring_cap - from;
      if (k > want - to) k = want - to;
      memcpy(dst + to, src + from, k);
      p += k;
    }
    a->FreeBuffer(ring, ring_cap);
  }
  ring = fresh;
  ring_cap = static_cast<uint32_t>(want);
  NoteSockChange();  // pair views hold the old ring
  return 0;
}

int RecvQueue::ReserveSegment(Arena* a) {
  if (count() < seg_cap) return 0;
  size_t want = seg_cap == 0 ? 16 * sizeof(Segment)
                             : size_t{seg_cap} * 2 * sizeof(Segment);
  const Off fresh = a->AllocBuffer(&want);
  if (fresh == 0) return -ENOBUFS;
  const uint32_t new_cap = static_cast<uint32_t>(want / sizeof(Segment));
  auto* dst = reinterpret_cast<Segment*>(a->Bytes(fresh, want));
  for (uint32_t i = seg_head; i != seg_tail; ++i) {
    const Segment* s = At(a, i);
    if (s != nullptr) dst[i & (new_cap - 1)] = *s;
  }
  if (seg_cap != 0) a->FreeBuffer(segs, size_t{seg_cap} * sizeof(Segment));
  segs = fresh;
  seg_cap = new_cap;
  NoteSockChange();  // pair views hold the old ring
  return 0;
}

int RecvQueue::MakeRoom(Arena* a, size_t n) {
  if (count() >= seg_cap) {
    if (const int rc = ReserveSegment(a); rc != 0) return rc;
  }
  if ((tail - head) + n > ring_cap) {
    if (const int rc = Reserve(a, n); rc != 0) return rc;
  }
  return 0;
}

bool RecvQueue::CopyIn(const QueueView& v, uint64_t at, IovCursor* from,
                       size_t n) {
  return v.Span(at, n,
                [&](uint8_t* p, size_t k) { return from->CopyIn(p, k); });
}

int RecvQueue::Append(Arena* a, IovCursor* from, size_t n,
                      const Segment& meta) {
  if (const int rc = MakeRoom(a, n); rc != 0) return rc;
  QueueView v;
  if (!View(a, &v) || v.segs == nullptr || (n > 0 && v.bytes == nullptr))
    return -EIO;
  if (!CopyIn(v, tail, from, n)) return -EFAULT;
  Commit(v, meta, n);
  return 0;
}

bool RecvQueue::CopyOut(const QueueView& v, const Segment& s, size_t skip,
                        size_t len, IovCursor* to) {
  return v.Span(s.pos + skip, len,
                [&](uint8_t* p, size_t k) { return to->CopyOut(p, k); });
}

void RecvQueue::Free(Arena* a) {
  if (ring_cap != 0) a->FreeBuffer(ring, ring_cap);
  if (seg_cap != 0) a->FreeBuffer(segs, size_t{seg_cap} * sizeof(Segment));
  Detach();
}

RecvQueue RecvQueue::Detach() {
  NoteSockChange();  // pair views hold the rings
  const RecvQueue out = *this;
  ring = segs = 0;
  ring_cap = seg_cap = 0;
  head = tail = 0;
  scm_segs = 0;
  urgent = 0;
  __atomic_store_n(&seg_head, 0u, __ATOMIC_RELAXED);
  __atomic_store_n(&seg_tail, 0u, __ATOMIC_RELAXED);
  __atomic_store_n(&bytes, 0u, __ATOMIC_RELAXED);
  return out;
}

}  // namespace shunt

#include "net/recv_queue.h"

#include <errno.h>
#include <string.h>

#include "base/user_copy.h"

namespace shunt {

bool IovCursor::CopyOut(const uint8_t* src, size_t len) {
  while (len > 0 && idx_ < n_) {
    const size_t room = iov_[idx_].iov_len - off_;
    if (room == 0) {
      ++idx_;
      off_ = 0;
      continue;
    }
    const size_t k = room < len ? room : len;
    if (!CopyUser(static_cast<uint8_t*>(iov_[idx_].iov_base) + off_, src, k))
      return false;
    off_ += k;
    done_ += k;
    src += k;
    len -= k;
  }
  return true;
}

bool IovCursor::CopyIn(uint8_t* dst, size_t len) {
  while (len > 0 && idx_ < n_) {
    const size_t room = iov_[idx_].iov_len - off_;
    if (room == 0) {
      ++idx_;
      off_ = 0;
      continue;
    }
    const size_t k = room < len ? room : len;
    if (!CopyUser(dst, static_cast<const uint8_t*>(iov_[idx_].iov_base) + off_,
                  k))
      return false;
    off_ += k;
    done_ += k;
    dst += k;
    len -= k;
  }
  return true;
}

Segment* RecvQueue::At(Arena* a, uint32_t index) const {
  if (index - seg_head >= count() || seg_cap == 0) return nullptr;
  const size_t slot = index & (seg_cap - 1);
  return a->Ptr<Segment>(segs + slot * sizeof(Segment));
}

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
  return 0;
}

int RecvQueue::Append(Arena* a, IovCursor* from, size_t n, const Segment& meta,
                      bool merge) {
  Segment* last = empty() ? nullptr : Back(a);
  const bool extend = merge && last != nullptr && last->sender == 0 &&
                      last->charge == 0 && last->pos + last->len == tail;
  if (!extend) {
    if (const int rc = ReserveSegment(a); rc != 0) return rc;
  }
  if (const int rc = Reserve(a, n); rc != 0) return rc;
  uint8_t* base = a->Bytes(ring, ring_cap);
  if (base == nullptr && n > 0) return -ENOBUFS;
  for (uint64_t p = tail; p < tail + n;) {
    const size_t at = p & (ring_cap - 1);
    size_t k = tail + n - p;
    if (k > ring_cap - at) k = ring_cap - at;
    if (!from->CopyIn(base + at, k)) return -EFAULT;
    p += k;
  }
  if (extend) {
    Back(a)->len += static_cast<uint32_t>(n);
  } else {
    ++seg_tail;
    Segment* s = Back(a);
    *s = meta;
    s->pos = tail;
    s->len = static_cast<uint32_t>(n);
  }
  tail += n;
  __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                   __ATOMIC_RELAXED);
  return 0;
}

bool RecvQueue::CopyOut(Arena* a, const Segment& s, size_t skip, size_t len,
                        IovCursor* to) const {
  const uint8_t* base = a->Bytes(ring, ring_cap);
  if (base == nullptr) return len == 0;
  for (uint64_t p = s.pos + skip; p < s.pos + skip + len;) {
    const size_t at = p & (ring_cap - 1);
    size_t k = s.pos + skip + len - p;
    if (k > ring_cap - at) k = ring_cap - at;
    if (!to->CopyOut(base + at, k)) return false;
    p += k;
  }
  return true;
}

void RecvQueue::ConsumeFront(Arena* a, uint32_t n) {
  // Bytes are consumed in queue order, so the front segment always starts
  // at the ring's head.
  Segment* s = Front(a);
  if (s == nullptr) return;
  s->pos += n;
  s->len -= n;
  head += n;
  __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                   __ATOMIC_RELAXED);
}

void RecvQueue::PopFront() { ++seg_head; }

void RecvQueue::Free(Arena* a) {
  if (ring_cap != 0) a->FreeBuffer(ring, ring_cap);
  if (seg_cap != 0) a->FreeBuffer(segs, size_t{seg_cap} * sizeof(Segment));
  *this = RecvQueue{};
}

}  // namespace shunt

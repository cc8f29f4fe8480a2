// RecvQueue: a socket's receive queue, in the arena.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "arena/arena.h"
#include "base/user_copy.h"

namespace shunt {

// One queued unit: a datagram or seqpacket record, or a run of stream
// bytes (the kernel's skb). Stream sends append to the last segment when
// it is a plain one, as the kernel merges reads across plain skbs
// (net/unix/af_unix.c: unix_stream_read_generic).
struct Segment {
  // Byte position of the first unread byte, modulo 2^32: only its place in
  // the ring (at most 2^31 bytes) is ever needed.
  uint32_t pos;
  uint32_t flags;   // kSegmentPeeked
  uint32_t len;     // unread bytes
  uint32_t charge;  // bytes charged to the sender's wmem (datagrams)
  Off sender;       // sending socket, referenced (datagrams); 0 for stream
  Off scm;          // ScmBlock of descriptors in flight (net/scm.h), or 0
};
static_assert(sizeof(Segment) == 32);
// A datagram of no bytes that a peek has returned (skb->peeked, set by
// skb_set_peeked): a later peek at a peek offset passes over it
// (__skb_try_recv_from_queue).
constexpr uint32_t kSegmentPeeked = 1;

// Walks a caller's iovec array; copies fault-safely (EFAULT, not a crash).
class IovCursor {
 public:
  IovCursor(const iovec* iov, size_t n) : cur_(iov), end_(iov + n) {}
  // Copy up to len bytes to/from the caller's buffers; returns false on a
  // fault, with the cursor past the bytes that were copied.
  [[gnu::always_inline]] bool CopyOut(const uint8_t* src, size_t len) {
    return Copy<true>(const_cast<uint8_t*>(src), len);
  }
  [[gnu::always_inline]] bool CopyIn(uint8_t* dst, size_t len) {
    return Copy<false>(dst, len);
  }
  size_t done() const { return done_; }

 private:
  // Copies between our bytes and the caller's iovecs, in the direction
  // kToIov says; `ours` is only read when kToIov.
  // Always inline: an out-of-line copy would be a COMDAT function, which
  // the linker may discard under its entries in the fixup table.
  template <bool kToIov>
  [[gnu::always_inline]] bool Copy(uint8_t* ours, size_t len);

  const iovec* cur_;  // the entry the next byte goes to or comes from
  const iovec* end_;
  size_t off_ = 0;  // bytes of *cur_ already used
  size_t done_ = 0;
};

template <bool kToIov>
[[gnu::always_inline]] inline bool IovCursor::Copy(uint8_t* ours, size_t len) {
  // One pass per entry touched; an entry filled is left at once, so a copy
  // that ends exactly at an entry's end needs no extra pass to move on.
  while (len > 0 && cur_ != end_) {
    const size_t room = cur_->iov_len - off_;
    const size_t k = room < len ? room : len;
    uint8_t* theirs = static_cast<uint8_t*>(cur_->iov_base) + off_;
    if (!(kToIov ? CopyUser(theirs, ours, k) : CopyUser(ours, theirs, k)))
      return false;
    done_ += k;
    ours += k;
    len -= k;
    if (k == room) {
      ++cur_;
      off_ = 0;
    } else {
      off_ += k;
    }
  }
  return true;
}

// One flat caller buffer, walked as IovCursor walks an iovec array: the
// fast paths take either (RecvQueue::Take, RecvQueue::TakeFront).
class FlatCursor {
 public:
  explicit FlatCursor(void* to) : to_(static_cast<uint8_t*>(to)) {}
  [[gnu::always_inline]] bool CopyOut(const uint8_t* src, size_t len) {
    const bool ok = CopyUser(to_, src, len);
    to_ += len;
    return ok;
  }

 private:
  uint8_t* to_;
};

// Both rings of a RecvQueue as pointers checked once against the arena, for
// the duration of one operation under the owner's lock. Indexing masks with
// the capacity, so it stays inside the checked range.
struct QueueView {
  uint8_t* bytes = nullptr;
  uint32_t cap = 0;
  Segment* segs = nullptr;
  uint32_t seg_cap = 0;
  Segment& seg(uint32_t index) const { return segs[index & (seg_cap - 1)]; }
  // Calls f(pointer, length) for the one or two contiguous pieces of the
  // ring that hold `len` bytes from position `pos` (the ring wraps), and
  // stops at the first that returns false. Nothing to call for len 0.
  template <typename F>
  [[gnu::always_inline]] bool Span(uint64_t pos, size_t len, F f) const {
    if (len == 0) return true;
    if (bytes == nullptr || len > cap) return false;  // len > cap: corrupt
    const size_t at = pos & (cap - 1);
    const size_t first = len < cap - at ? len : cap - at;
    return f(bytes + at, first) && (first == len || f(bytes, len - first));
  }
};

// Bytes live in a power-of-two ring addressed by monotonic positions;
// segments in a second ring. Both are allocated on first use and grow by
// doubling, so an idle socket holds no buffer. Replacing or dropping a ring
// moves the socket epoch (net/pair_view.h): a pair view made earlier in the
// same call, after the call's own lookup moved it, still holds the old one.
// Every method requires the owning socket's lock. The queue owns its buffers;
// Free() returns them.
struct RecvQueue {
  Off ring;
  uint32_t ring_cap;
  uint32_t seg_cap;
  Off segs;
  uint64_t head;      // position of the first unread byte
  uint64_t tail;      // position after the last queued byte
  uint32_t seg_head;  // stored atomically: poll reads both without the lock
  uint32_t seg_tail;
  uint32_t bytes;     // tail - head, kept for lock-free readers (poll)
  uint32_t scm_segs;  // segments with an ScmBlock (the fast path skips them)
  // Stream: segments that are the urgent byte or a taken one (a segment of
  // length 0 whose byte stays in the ring until it reaches the front).
  uint32_t urgent;
  // Stream copies made with the owner's lock dropped (net/unix_stream.cc):
  // a read copying bytes out of the queue (the holder of the kernel's
  // u->iolock), and a send copying `writing` bytes in at `tail`, not yet
  // committed. While either runs the rings stay where they are, and
  // another read, or another send, waits for it (WaitWhile, net/sock.h).
  uint32_t reading;
  uint32_t writing;

  uint32_t count() const { return seg_tail - seg_head; }
  bool empty() const { return seg_tail == seg_head; }
  // nullptr when empty or when the arena is corrupt.
  Segment* Front(Arena* a) const { return At(a, seg_head); }
  Segment* At(Arena* a, uint32_t index) const {
    if (index - seg_head >= count() || seg_cap == 0) return nullptr;
    const size_t slot = index & (seg_cap - 1);
    return a->Ptr<Segment>(segs + slot * sizeof(Segment));
  }

  // Checks both rings lie in the arena; false if it is corrupt. (Masking
  // with cap - 1 keeps every index below cap whatever cap is.)
  bool View(Arena* a, QueueView* v) const {
    v->cap = ring_cap;
    v->seg_cap = seg_cap;
    v->bytes = a->Bytes(ring, ring_cap);
    v->segs = reinterpret_cast<Segment*>(
        a->Bytes(segs, size_t{seg_cap} * sizeof(Segment)));
    return (ring_cap == 0 || v->bytes != nullptr) &&
           (seg_cap == 0 || (v->segs != nullptr && segs % 8 == 0));
  }
  // Appends n bytes gathered from `from` as a new segment described by
  // `meta`. Returns 0, -EFAULT (nothing queued), -ENOBUFS (arena full) or
  // -EIO (corrupt arena). Append is MakeRoom, CopyIn at `tail` and Commit,
  // which a stream send also makes one by one, with the lock dropped for
  // the copy.
  int Append(Arena* a, IovCursor* from, size_t n, const Segment& meta);
  // Whether both rings have room for a segment of n more bytes as they are.
  bool HasRoom(size_t n) const {
    return count() < seg_cap && (tail - head) + n <= ring_cap;
  }
  // Grows the rings (the caller makes sure no copy runs outside the lock)
  // until HasRoom(n). Returns 0 or -ENOBUFS.
  int MakeRoom(Arena* a, size_t n);
  // Copies n bytes gathered from `from` into the ring at position `at`
  // (v checked, the bytes there free). False on a fault.
  static bool CopyIn(const QueueView& v, uint64_t at, IovCursor* from,
                     size_t n);
  // Appends n bytes from one caller buffer as a segment described by meta
  // if both rings have room now (no allocation). False if not, or on a
  // fault (nothing is queued either way). Inline: the fast paths are built
  // on it.
  bool TryAppendFlat(Arena* a, const void* src, size_t n,
                     const Segment& meta = Segment{});
  // TryAppendFlat with both rings already checked: v must be this queue's
  // View, taken while no allocation happened since.
  bool TryAppendFlat(const QueueView& v, const void* src, size_t n,
                     const Segment& meta = Segment{});
  // Datagram receive into the caller's buffers (`to`, a FlatCursor or an
  // IovCursor): copies up to `size` bytes of the front segment, then
  // removes the whole segment, copying it to *taken (its sender reference
  // and charge pass to the caller). Returns false with nothing removed
  // when the queue is empty or on a fault. v as for TryAppendFlat.
  template <typename Cursor>
  bool TakeFront(const QueueView& v, Cursor* to, size_t size, Segment* taken);
  // Moves up to `size` bytes from the front of the queue into the caller's
  // buffers (`to` as for TakeFront), whole segments first, the last one
  // possibly in part, as a stream read with nothing special asked takes
  // them (no segment may carry descriptors or an urgent byte). Returns the
  // bytes taken; 0, with nothing taken, when the queue is empty, on a fault
  // (the caller's general path then takes what unix_stream_read_generic
  // would before the fault, and reports it) and for a corrupt arena.
  template <typename Cursor>
  size_t Take(Arena* a, Cursor* to, size_t size);
  // Take with both rings already checked (v as for TryAppendFlat).
  template <typename Cursor>
  size_t Take(const QueueView& v, Cursor* to, size_t size);
  // Copies len bytes starting `skip` bytes into segment `s` out to `to`.
  static bool CopyOut(const QueueView& v, const Segment& s, size_t skip,
                      size_t len, IovCursor* to);
  // Drops the first n unread bytes of the front segment (n <= its len).
  // Bytes are consumed in queue order, so the front segment always starts
  // at the ring's head.
  void ConsumeFront(const QueueView& v, uint32_t n) {
    Segment& s = v.seg(seg_head);
    s.pos += n;
    s.len -= n;
    head += n;
    __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                     __ATOMIC_RELAXED);
  }
  // Removes the front segment (its bytes must be consumed or discarded).
  void PopFront() {
    __atomic_store_n(&seg_head, seg_head + 1, __ATOMIC_RELAXED);
  }
  // Removes the front segment when it is a taken urgent byte (length 0,
  // its one byte still in the ring).
  void PopHole() {
    ++head;
    __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                     __ATOMIC_RELAXED);
    --urgent;
    PopFront();
  }
  // Removes the taken urgent byte (a hole) at segment idx, seg_head <= idx
  // < seg_tail: the bytes and segments before it move up one place, which
  // brings the hole to the front, and PopHole takes it. Returns its
  // ScmBlock (0 if none), which the caller releases. Costs what lies
  // before the hole; only a MSG_OOB read that finds it right before the
  // next urgent byte calls it, so taken bytes never pile up
  // (unix_stream_recv_urg).
  Off RemoveHole(const QueueView& v, uint32_t idx) {
    const Off scm = TakeScm(&v.seg(idx));
    // Bytes [head, hole) move to [head + 1, hole + 1); a corrupt position
    // (the hole farther than a ring from head) moves nothing.
    const uint32_t before = v.seg(idx).pos - static_cast<uint32_t>(head);
    if (before < v.cap) {
      for (uint64_t at = head + before; at != head; --at)
        v.bytes[at & (v.cap - 1)] = v.bytes[(at - 1) & (v.cap - 1)];
    }
    for (uint32_t i = idx; i != seg_head; --i) {
      v.seg(i) = v.seg(i - 1);
      ++v.seg(i).pos;
    }
    PopHole();
    return scm;
  }
  // Publishes the n bytes just written at `tail` as a segment like meta.
  void Commit(const QueueView& v, const Segment& meta, size_t n) {
    Segment& s = v.seg(seg_tail);
    s = meta;
    s.pos = static_cast<uint32_t>(tail);
    s.len = static_cast<uint32_t>(n);
    if (s.scm != 0) ++scm_segs;
    __atomic_store_n(&seg_tail, seg_tail + 1, __ATOMIC_RELAXED);
    tail += n;
    __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                     __ATOMIC_RELAXED);
  }
  // Takes segment s's ScmBlock away from it (0 if it has none).
  Off TakeScm(Segment* s) {
    const Off b = s->scm;
    if (b != 0) --scm_segs;
    s->scm = 0;
    return b;
  }
  // Returns both rings to the arena.
  void Free(Arena* a);
  // Moves the contents out, leaving this queue empty. The fields poll reads
  // without the lock are cleared with atomic stores. No copy may be running
  // outside the lock (`reading`, `writing`): see DetachQueue (net/sock.h).
  RecvQueue Detach();

 private:
  int Reserve(Arena* a, size_t n);
  int ReserveSegment(Arena* a);
};

[[gnu::always_inline]] inline bool RecvQueue::TryAppendFlat(
    Arena* a, const void* src, size_t n, const Segment& meta) {
  QueueView v;
  return View(a, &v) && TryAppendFlat(v, src, n, meta);
}

[[gnu::always_inline]] inline bool RecvQueue::TryAppendFlat(
    const QueueView& v, const void* src, size_t n, const Segment& meta) {
  if (count() >= v.seg_cap || (tail - head) + n > v.cap) return false;
  const auto* from = static_cast<const uint8_t*>(src);
  if (!v.Span(tail, n, [&](uint8_t* p, size_t k) SHUNT_INLINE_COPY_LAMBDA {
        const bool ok = CopyUser(p, from, k);
        from += k;
        return ok;
      }))
    return false;
  Commit(v, meta, n);
  return true;
}

template <typename Cursor>
[[gnu::always_inline]] inline bool RecvQueue::TakeFront(const QueueView& v,
                                                        Cursor* to, size_t size,
                                                        Segment* taken) {
  if (empty() || v.segs == nullptr) return false;
  const Segment& seg = v.seg(seg_head);
  const size_t n = size < seg.len ? size : seg.len;
  if (!v.Span(seg.pos, n, [&](uint8_t* p, size_t k) SHUNT_INLINE_COPY_LAMBDA {
        return to->CopyOut(p, k);
      }))
    return false;
  *taken = seg;
  ConsumeFront(v, seg.len);
  PopFront();
  return true;
}

template <typename Cursor>
[[gnu::always_inline]] inline size_t RecvQueue::Take(Arena* a, Cursor* to,
                                                     size_t size) {
  QueueView v;
  return View(a, &v) ? Take(v, to, size) : 0;
}

template <typename Cursor>
[[gnu::always_inline]] inline size_t RecvQueue::Take(const QueueView& v,
                                                     Cursor* to, size_t size) {
  const uint64_t queued = tail - head;
  const size_t n = size < queued ? size : static_cast<size_t>(queued);
  // Segments lie back to back from head (ConsumeFront), so the bytes of
  // the segments taken are one run of the ring: one copy, then the walk.
  if (n == 0 ||
      !v.Span(head, n, [&](uint8_t* p, size_t k) SHUNT_INLINE_COPY_LAMBDA {
        return to->CopyOut(p, k);
      }))
    return 0;
  uint32_t idx = seg_head;
  size_t left = n;
  while (left != 0 && idx != seg_tail) {
    Segment& seg = v.seg(idx);
    if (seg.len > left) {
      seg.pos += static_cast<uint32_t>(left);
      seg.len -= static_cast<uint32_t>(left);
      break;
    }
    left -= seg.len;
    ++idx;
  }
  // Bytes are consumed in queue order, so they leave from `head`.
  head += n;
  __atomic_store_n(&bytes, static_cast<uint32_t>(tail - head),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&seg_head, idx, __ATOMIC_RELAXED);
  return n;
}

}  // namespace shunt

// RecvQueue: a socket's receive queue, in the arena.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "arena/arena.h"

namespace shunt {

// One queued unit: a datagram or seqpacket record, or a run of stream
// bytes (the kernel's skb). Stream sends append to the last segment when
// it is a plain one, as the kernel merges reads across plain skbs
// (net/unix/af_unix.c: unix_stream_read_generic).
struct Segment {
  uint64_t pos;     // byte position of the first unread byte
  uint32_t len;     // unread bytes
  uint32_t charge;  // bytes charged to the sender's wmem (datagrams)
  Off sender;       // sending socket, referenced (datagrams); 0 for stream
  uint64_t reserved;
};
static_assert(sizeof(Segment) == 32);

// Walks a caller's iovec array; copies fault-safely (EFAULT, not a crash).
class IovCursor {
 public:
  IovCursor(const iovec* iov, size_t n) : iov_(iov), n_(n) {}
  // Copy up to len bytes to/from the caller's buffers; returns false on a
  // fault, with the cursor past the bytes that were copied.
  bool CopyOut(const uint8_t* src, size_t len);
  bool CopyIn(uint8_t* dst, size_t len);
  size_t done() const { return done_; }

 private:
  const iovec* iov_;
  size_t n_;
  size_t idx_ = 0;
  size_t off_ = 0;
  size_t done_ = 0;
};

// Bytes live in a power-of-two ring addressed by monotonic positions;
// segments in a second ring. Both are allocated on first use and grow by
// doubling, so an idle socket holds no buffer. Every method requires the
// owning socket's lock. The queue owns its buffers; Free() returns them.
struct RecvQueue {
  Off ring;
  uint32_t ring_cap;
  uint32_t seg_cap;
  Off segs;
  uint64_t head;  // position of the first unread byte
  uint64_t tail;  // position after the last queued byte
  uint32_t seg_head;
  uint32_t seg_tail;
  uint32_t bytes;  // tail - head, kept for lock-free readers (poll)

  uint32_t count() const { return seg_tail - seg_head; }
  bool empty() const { return seg_tail == seg_head; }
  // nullptr when empty or when the arena is corrupt.
  Segment* Front(Arena* a) const { return At(a, seg_head); }
  Segment* At(Arena* a, uint32_t index) const;
  Segment* Back(Arena* a) const { return At(a, seg_tail - 1); }

  // Appends n bytes gathered from `from` as a new segment (or onto the last
  // one when `merge` and it is plain). Returns 0, -EFAULT (nothing queued),
  // or -ENOBUFS when the arena is full.
  int Append(Arena* a, IovCursor* from, size_t n, const Segment& meta,
             bool merge);
  // Copies len bytes starting `skip` bytes into segment `s` out to `to`.
  bool CopyOut(Arena* a, const Segment& s, size_t skip, size_t len,
               IovCursor* to) const;
  // Drops the first n unread bytes of the front segment (n <= its len).
  void ConsumeFront(Arena* a, uint32_t n);
  // Removes the front segment (its bytes must be consumed or discarded).
  void PopFront();
  // Returns both rings to the arena.
  void Free(Arena* a);

 private:
  int Reserve(Arena* a, size_t n);
  int ReserveSegment(Arena* a);
};

}  // namespace shunt

// Arena: the named shared-memory region that holds every shunt socket.
//
// Everything in the arena is addressed by Off, a byte offset from the start
// of the mapping, never by pointer: each process maps the arena at its own
// address. Every offset read from the arena goes through Ptr<T>() or Bytes(),
// which bounds-check it, so a corrupt arena can fail an operation but never
// make this process touch memory outside the mapping.
//
// Layout (docs/ARCHITECTURE.md has the picture):
//   [ArenaHeader][bump-allocated blocks ...................][unused tail]
// Blocks come from two kinds of allocator, both under ArenaHeader::alloc_lock:
//   - typed pools (sockets, open files, poll entries): fixed-size objects
//     that are only ever reused as objects of the same pool, so a stale
//     offset to one still points at an object of that type (with a bumped
//     generation number), never at unrelated bytes;
//   - data buffers in power-of-two size classes (64 B .. 64 MiB), for
//     receive rings: they grow with use, so an idle socket costs nothing.
// The file is sparse (tmpfs): untouched pages cost no memory.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "arena/mutex.h"

namespace shunt {

using Off = uint64_t;  // arena offset; 0 is the null offset

enum class Pool : uint32_t { kSocket = 0, kOpenFile, kPollEntry, kCount };

constexpr int kMinBufferShift = 6;   // 64 B
constexpr int kMaxBufferShift = 26;  // 64 MiB
constexpr int kBufferClasses = kMaxBufferShift - kMinBufferShift + 1;
constexpr int kNameBuckets = 1024;

// Limits read from /proc/sys when the arena is created, so every process
// attached to it applies the same ones (as the kernel applies its sysctls).
struct ArenaLimits {
  uint32_t wmem_default;
  uint32_t wmem_max;
  uint32_t rmem_default;
  uint32_t rmem_max;
  uint32_t max_dgram_qlen;
  uint32_t somaxconn;
  uint32_t hz;  // the kernel's jiffies per second (SO_RCVTIMEO rounding)
  uint32_t optmem_max;  // the most control data one sendmsg may carry
};

struct ArenaHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t header_size;
  uint64_t size;  // bytes mapped
  ArenaLimits limits;

  ArenaMutex alloc_lock;
  uint64_t bump;  // next unallocated offset
  Off free_pool[static_cast<int>(Pool::kCount)];
  Off free_buffers[kBufferClasses];
  std::atomic<uint64_t> live_objects[static_cast<int>(Pool::kCount)];
  std::atomic<uint64_t> live_buffer_bytes;

  // Bound names: a hash table of chains of sockets (SockState::name_next).
  ArenaMutex names_lock;
  uint32_t autobind_next;
  Off name_buckets[kNameBuckets];

  std::atomic<uint64_t> next_inode;  // identity numbers for sockets

  // Descriptor mailboxes (fd/mailbox.cc): their names embed this arena's
  // nonce; the lock serialises every send to and search of a mailbox.
  uint64_t mailbox_nonce;
  ArenaMutex mailbox_lock;
  ArenaMutex gc_lock;  // one garbage collection at a time (net/unix_gc.cc)
  // SHUNT_SO_PERSONALITY of new sockets (SHUNT_PERSONALITY at creation).
  uint32_t default_personality;
};

class Arena {
 public:
  // The arena of this process, attached on first use (SHUNT_ARENA names it,
  // default "/shunt-<uid>"). Returns nullptr and sets *err (negative errno)
  // when it cannot be attached.
  static Arena* Get(int* err);
  // The arena if already attached, else nullptr. Never attaches.
  static Arena* IfAttached() { return instance_; }

  ArenaHeader* header() const { return reinterpret_cast<ArenaHeader*>(base_); }
  const ArenaLimits& limits() const { return header()->limits; }

  // Bounds- and alignment-checked access. nullptr for the null offset or an
  // offset whose object would not lie wholly inside the mapping.
  // (off - 1 wraps for the null offset, so one comparison covers both.)
  template <typename T>
  T* Ptr(Off off) const {
    if (__builtin_expect(
            off - 1 >= size_ - sizeof(T) || (off & (alignof(T) - 1)) != 0, 0))
      return nullptr;
    return reinterpret_cast<T*>(base_ + off);
  }
  uint8_t* Bytes(Off off, size_t len) const {
    if (__builtin_expect(off - 1 >= size_ || len > size_ - off, 0))
      return nullptr;
    return base_ + off;
  }
  template <typename T>
  Off OffsetOf(const T* p) const {
    return static_cast<Off>(reinterpret_cast<const uint8_t*>(p) - base_);
  }

  // Typed pools: objects of the pool's fixed size, zeroed except for their
  // first 8 bytes, which hold a generation number the pool preserves and
  // bumps on every free. Returns 0 when the arena is full.
  Off AllocObject(Pool pool);
  void FreeObject(Pool pool, Off off);

  // Data buffers: returns a block of at least *size bytes and sets *size to
  // the block's real size (a power of two), or 0 when the arena is full or
  // the size exceeds the largest class.
  Off AllocBuffer(size_t* size);
  void FreeBuffer(Off off, size_t size);

  uint64_t NewInode() { return header()->next_inode.fetch_add(1) + 1; }

 private:
  Arena(uint8_t* base, size_t size) : base_(base), size_(size) {}
  Off Carve(size_t size, size_t align);
  static int Attach(Arena** out);

  static Arena* instance_;
  uint8_t* const base_;
  const size_t size_;
};

size_t PoolObjectSize(Pool pool);

}  // namespace shunt

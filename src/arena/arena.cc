#include "arena/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mutex>
#include <string>

namespace shunt {
namespace {

constexpr uint64_t kMagic = 0x73687566746e7531ULL;  // "shunt" + layout tag
constexpr uint32_t kVersion =
    7;  // bumped whenever an arena object changes shape
constexpr size_t kDefaultSize = size_t{1} << 30;  // sparse: costs what is used
constexpr size_t kMinSize = size_t{16} << 20;

// Fixed object sizes of the typed pools. The socket layer static_asserts
// that its structures fit.
constexpr size_t kPoolSizes[] = {1024, 64, 64};
static_assert(sizeof(kPoolSizes) / sizeof(kPoolSizes[0]) ==
              static_cast<size_t>(Pool::kCount));

uint32_t ReadSysctl(const char* path, uint32_t fallback) {
  FILE* f = fopen(path, "re");
  if (f == nullptr) return fallback;
  unsigned long v = 0;
  const bool ok = fscanf(f, "%lu", &v) == 1;
  fclose(f);
  return ok ? static_cast<uint32_t>(v) : fallback;
}

// CONFIG_HZ, read back from the kernel's own rounding of a 1 µs timeout.
uint32_t KernelHz() {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1000;
  timeval tv{0, 1};
  socklen_t len = sizeof tv;
  uint32_t hz = 1000;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
      getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 && tv.tv_usec > 0)
    hz = static_cast<uint32_t>(1000000 / tv.tv_usec);
  close(fd);
  return hz;
}

std::string ArenaName() {
  const char* env = getenv("SHUNT_ARENA");
  std::string name = "/";
  if (env != nullptr && env[0] != '\0') {
    name.append(env[0] == '/' ? env + 1 : env);
  } else {
    name.append("shunt-").append(std::to_string(geteuid()));
  }
  return name;
}

size_t RequestedSize() {
  const char* env = getenv("SHUNT_ARENA_SIZE");
  if (env == nullptr) return kDefaultSize;
  const unsigned long long v = strtoull(env, nullptr, 0);
  return v < kMinSize ? kMinSize : static_cast<size_t>(v);
}

void InitHeader(ArenaHeader* h, size_t size) {
  h->version = kVersion;
  h->header_size = sizeof(ArenaHeader);
  h->size = size;
  // Defaults are Linux's own when /proc is unreadable.
  h->limits.wmem_default =
      ReadSysctl("/proc/sys/net/core/wmem_default", 212992);
  h->limits.wmem_max = ReadSysctl("/proc/sys/net/core/wmem_max", 212992);
  h->limits.rmem_default =
      ReadSysctl("/proc/sys/net/core/rmem_default", 212992);
  h->limits.rmem_max = ReadSysctl("/proc/sys/net/core/rmem_max", 212992);
  h->limits.max_dgram_qlen =
      ReadSysctl("/proc/sys/net/unix/max_dgram_qlen", 10);
  h->limits.somaxconn = ReadSysctl("/proc/sys/net/core/somaxconn", 4096);
  h->limits.hz = KernelHz();
  h->limits.optmem_max = ReadSysctl("/proc/sys/net/core/optmem_max", 131072);
  const char* personality = getenv("SHUNT_PERSONALITY");
  h->default_personality =
      personality != nullptr && strcmp(personality, "nonstop") == 0 ? 1 : 0;
  // Distinct per arena, so two arenas' mailbox names never meet.
  if (getrandom(&h->mailbox_nonce, sizeof h->mailbox_nonce, 0) !=
      static_cast<ssize_t>(sizeof h->mailbox_nonce))
    h->mailbox_nonce = (uint64_t{static_cast<uint32_t>(getpid())} << 32) ^
                       static_cast<uint64_t>(time(nullptr));
  h->bump = (sizeof(ArenaHeader) + 4095) & ~uint64_t{4095};
  h->autobind_next = static_cast<uint32_t>(getpid()) & 0xfffff;
  // Published last: attachers check it (under the file lock) to know the
  // header is complete.
  h->magic = kMagic;
}

}  // namespace

Arena* Arena::instance_ = nullptr;

int Arena::Attach(Arena** out) {
  const std::string name = ArenaName();
  const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  int err = 0;
  struct stat st;
  // Serialises creation against other attachers; held only while attaching.
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
    err = -errno;
  } else if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    err = -EACCES;  // someone else's arena, or one others may write
  } else {
    size_t size = static_cast<size_t>(st.st_size);
    const bool fresh = size == 0;
    if (fresh) {
      size = RequestedSize();
      if (ftruncate(fd, static_cast<off_t>(size)) != 0) err = -errno;
    }
    if (err == 0) {
      void* base =
          mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (base == MAP_FAILED) {
        err = -errno;
      } else {
        auto* h = static_cast<ArenaHeader*>(base);
        if (fresh) {
          InitHeader(h, size);
        } else if (size < sizeof(ArenaHeader) || h->magic != kMagic ||
                   h->version != kVersion ||
                   h->header_size != sizeof(ArenaHeader) || h->size != size) {
          munmap(base, size);
          err = -EPROTO;  // not an arena of this layout
        }
        if (err == 0) *out = new Arena(static_cast<uint8_t*>(base), size);
      }
    }
  }
  // Unlock explicitly: the mapping keeps the open file (and so the flock)
  // alive after close.
  flock(fd, LOCK_UN);
  close(fd);
  return err;
}

Arena* Arena::Get(int* err) {
  if (instance_ != nullptr) return instance_;
  static std::mutex attach_mu;
  std::lock_guard<std::mutex> lock(attach_mu);
  if (instance_ == nullptr) {
    Arena* a = nullptr;
    const int rc = Attach(&a);
    if (rc != 0) {
      *err = rc;
      return nullptr;
    }
    __atomic_store_n(&instance_, a, __ATOMIC_RELEASE);
  }
  return instance_;
}

size_t PoolObjectSize(Pool pool) {
  return kPoolSizes[static_cast<uint32_t>(pool)];
}

Off Arena::Carve(size_t size, size_t align) {
  ArenaHeader* h = header();
  const uint64_t start = (h->bump + align - 1) & ~(uint64_t{align} - 1);
  if (start > size_ || size > size_ - start) return 0;
  h->bump = start + size;
  return start;
}

Off Arena::AllocObject(Pool pool) {
  const size_t obj = PoolObjectSize(pool);
  const int i = static_cast<int>(pool);
  ArenaHeader* h = header();
  Off off;
  uint64_t gen = 0;
  {
    MutexLock lock(&h->alloc_lock);
    off = h->free_pool[i];
    if (off != 0) {
      uint8_t* p = Bytes(off, obj);
      if (p == nullptr) {
        h->free_pool[i] = 0;  // corrupt list: abandon it, never follow it
        off = 0;
      } else {
        memcpy(&gen, p, sizeof gen);
        memcpy(&h->free_pool[i], p + sizeof gen, sizeof(Off));
      }
    }
    if (off == 0) off = Carve(obj, 64);
  }
  if (off == 0) return 0;
  uint8_t* p = base_ + off;
  memset(p + sizeof gen, 0, obj - sizeof gen);
  memcpy(p, &gen, sizeof gen);
  h->live_objects[i].fetch_add(1, std::memory_order_relaxed);
  return off;
}

void Arena::FreeObject(Pool pool, Off off) {
  const size_t obj = PoolObjectSize(pool);
  uint8_t* p = Bytes(off, obj);
  if (p == nullptr) return;
  const int i = static_cast<int>(pool);
  ArenaHeader* h = header();
  // The generation survives in the free object: a stale reference that
  // still holds the old number can tell the object was recycled.
  uint64_t gen;
  memcpy(&gen, p, sizeof gen);
  __atomic_store_n(reinterpret_cast<uint64_t*>(p), gen + 1, __ATOMIC_RELEASE);
  MutexLock lock(&h->alloc_lock);
  memcpy(p + sizeof gen, &h->free_pool[i], sizeof(Off));
  h->free_pool[i] = off;
  h->live_objects[i].fetch_sub(1, std::memory_order_relaxed);
}

namespace {
int ClassOf(size_t size) {
  int shift = kMinBufferShift;
  while ((size_t{1} << shift) < size) ++shift;
  return shift - kMinBufferShift;
}
}  // namespace

Off Arena::AllocBuffer(size_t* size) {
  if (*size > (size_t{1} << kMaxBufferShift)) return 0;
  const int c = ClassOf(*size);
  const size_t real = size_t{1} << (c + kMinBufferShift);
  ArenaHeader* h = header();
  Off off;
  {
    MutexLock lock(&h->alloc_lock);
    off = h->free_buffers[c];
    if (off != 0) {
      uint8_t* p = Bytes(off, real);
      if (p == nullptr) {
        h->free_buffers[c] = 0;
        off = 0;
      } else {
        memcpy(&h->free_buffers[c], p, sizeof(Off));
      }
    }
    if (off == 0) off = Carve(real, real < 4096 ? 64 : 4096);
  }
  if (off == 0) return 0;
  h->live_buffer_bytes.fetch_add(real, std::memory_order_relaxed);
  *size = real;
  return off;
}

void Arena::FreeBuffer(Off off, size_t size) {
  const int c = ClassOf(size);
  const size_t real = size_t{1} << (c + kMinBufferShift);
  uint8_t* p = Bytes(off, real);
  if (p == nullptr || real != size) return;
  ArenaHeader* h = header();
  MutexLock lock(&h->alloc_lock);
  memcpy(p, &h->free_buffers[c], sizeof(Off));
  h->free_buffers[c] = off;
  h->live_buffer_bytes.fetch_sub(real, std::memory_order_relaxed);
}

}  // namespace shunt

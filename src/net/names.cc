// Bound names: the arena's name table, bind, autobind and lookup
// (net/unix/af_unix.c: unix_bind, unix_autobind, unix_find_other).
//
// Abstract names are keyed by (bytes, socket type), as Linux hashes the type
// into an abstract name's bucket: a stream and a datagram socket may hold the
// same abstract name. Filesystem names are keyed by the socket file's
// (device, inode): the file itself is created with mknod, so permissions,
// unlink and EADDRINUSE are the filesystem's own.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/sock.h"

namespace shunt {
namespace {

constexpr socklen_t kSunPathOffset = offsetof(sockaddr_un, sun_path);

uint32_t HashBytes(const uint8_t* p, size_t n, uint64_t salt) {
  uint64_t h = 1469598103934665603ULL ^ salt;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return static_cast<uint32_t>(h ^ (h >> 32)) % kNameBuckets;
}

bool IsAbstract(const UnixAddress& a) {
  return a.len > kSunPathOffset && a.bytes[kSunPathOffset] == 0;
}

// The socket bound to abstract name `name` (len bytes, family included) of
// socket type `type`: the table's key for abstract names.
bool HasAbstractName(const SockState* o, const void* name, socklen_t len,
                     int type) {
  return o->type == type && o->addr.len == len &&
         memcmp(o->addr.bytes, name, len) == 0;
}

// The socket whose socket file is (dev, ino): the key for path names.
bool HasSocketFile(const SockState* o, const struct stat& st) {
  return !IsAbstract(o->addr) && o->name_ino == st.st_ino &&
         o->name_dev == st.st_dev;
}

uint32_t BucketOf(const SockState* sk) {
  if (IsAbstract(sk->addr))
    return HashBytes(sk->addr.bytes, sk->addr.len, sk->type);
  return HashBytes(reinterpret_cast<const uint8_t*>(&sk->name_ino),
                   sizeof(sk->name_ino), sk->name_dev);
}

// Walks a bucket; every offset is bounds-checked and the walk is bounded,
// so a corrupt chain ends the lookup instead of looping or escaping.
template <typename Match>
SockState* FindInBucket(Arena* a, uint32_t bucket, Match match) {
  Off off = a->header()->name_buckets[bucket];
  for (int guard = 0; off != 0 && guard < (1 << 20); ++guard) {
    SockState* sk = a->Ptr<SockState>(off);
    if (sk == nullptr) return nullptr;
    if (match(sk)) return sk;
    off = sk->name_next;
  }
  return nullptr;
}

// Removes sk from its chain if it is there (names_lock held).
void Unlink(Arena* a, uint32_t bucket, SockState* sk) {
  Off* link = &a->header()->name_buckets[bucket];
  const Off me = a->OffsetOf(sk);
  for (int guard = 0; *link != 0 && guard < (1 << 20); ++guard) {
    if (*link == me) {
      *link = sk->name_next;
      sk->name_next = 0;
      return;
    }
    SockState* n = a->Ptr<SockState>(*link);
    if (n == nullptr) return;
    link = &n->name_next;
  }
}

void Insert(Arena* a, SockState* sk) {
  Off* head = &a->header()->name_buckets[BucketOf(sk)];
  sk->name_next = *head;
  *head = a->OffsetOf(sk);
}

// Copies the caller's path into a NUL-terminated string, as the kernel
// terminates the copied address at addr_len.
void PathOf(const sockaddr_un* sun, socklen_t len, char* out) {
  const size_t n = len - kSunPathOffset;
  memcpy(out, sun->sun_path, n);
  out[n] = '\0';
}

}  // namespace

int ValidateAddr(const sockaddr* addr, socklen_t len) {
  if (len <= kSunPathOffset || len > sizeof(sockaddr_un)) return -EINVAL;
  if (addr->sa_family != AF_UNIX) return -EINVAL;
  return static_cast<int>(len);
}

void NameRemove(Arena* a, SockState* sk) {
  if (sk->addr.len == 0) return;
  MutexLock lock(&a->header()->names_lock);
  Unlink(a, BucketOf(sk), sk);
}

int Autobind(Arena* a, SockState* sk) {
  ArenaHeader* h = a->header();
  MutexLock lock(&h->names_lock);
  if (sk->addr.len != 0) return 0;  // already bound: nothing to do
  UnixAddress cand{};
  cand.len = kSunPathOffset + 6;
  auto* sun = reinterpret_cast<sockaddr_un*>(cand.bytes);
  sun->sun_family = AF_UNIX;
  const uint32_t first = h->autobind_next & 0xfffff;
  uint32_t n = first;
  for (;;) {
    n = (n + 1) & 0xfffff;
    char name[8];
    snprintf(name, sizeof name, "%05x", n);
    memcpy(sun->sun_path + 1, name, 5);
    const uint32_t b = HashBytes(cand.bytes, cand.len, sk->type);
    const bool taken = FindInBucket(a, b, [&](SockState* o) {
      return HasAbstractName(o, cand.bytes, cand.len, sk->type);
    });
    if (!taken) break;
    if (n == first) return -ENOSPC;
  }
  h->autobind_next = n;
  sk->addr = cand;
  Insert(a, sk);
  return 0;
}

int SockBind(const Sock& s, const sockaddr* addr, socklen_t len) {
  Arena* a = s.arena;
  SockState* sk = s.sk;
  if (len == kSunPathOffset && addr->sa_family == AF_UNIX)
    return Autobind(a, sk);
  if (const int rc = ValidateAddr(addr, len); rc < 0) return rc;
  const auto* sun = reinterpret_cast<const sockaddr_un*>(addr);
  ArenaHeader* h = a->header();
  UnixAddress name{};
  if (sun->sun_path[0] != '\0') {
    char path[sizeof(sockaddr_un) + 1];
    PathOf(sun, len, path);
    // The file comes first, as in unix_bind_bsd: an existing path is
    // EADDRINUSE even for a socket that is already bound.
    // The kernel applies the umask, as for the socket inode in Linux.
    if (mknod(path, S_IFSOCK | 0777, 0) != 0)
      return errno == EEXIST ? -EADDRINUSE : -errno;
    struct stat st;
    if (stat(path, &st) != 0) {
      const int err = -errno;
      unlink(path);
      return err;
    }
    name.len = static_cast<uint32_t>(kSunPathOffset + strlen(path) + 1);
    memcpy(name.bytes, addr, kSunPathOffset);
    memcpy(name.bytes + kSunPathOffset, path, strlen(path) + 1);
    MutexLock lock(&h->names_lock);
    if (sk->addr.len != 0) {
      unlink(path);
      return -EINVAL;
    }
    // A stale entry with the same inode belongs to a socket whose file was
    // unlinked (and the inode number reused): it is unreachable by path.
    const uint32_t b = HashBytes(reinterpret_cast<const uint8_t*>(&st.st_ino),
                                 sizeof(st.st_ino), st.st_dev);
    const auto same_file = [&](SockState* o) { return HasSocketFile(o, st); };
    while (SockState* old = FindInBucket(a, b, same_file)) Unlink(a, b, old);
    sk->name_dev = st.st_dev;
    sk->name_ino = st.st_ino;
    sk->addr = name;
    Insert(a, sk);
    return 0;
  }
  name.len = len;
  memcpy(name.bytes, addr, len);
  MutexLock lock(&h->names_lock);
  if (sk->addr.len != 0) return -EINVAL;
  const uint32_t b = HashBytes(name.bytes, name.len, sk->type);
  if (FindInBucket(a, b, [&](SockState* o) {
        return HasAbstractName(o, name.bytes, name.len, sk->type);
      }))
    return -EADDRINUSE;
  sk->addr = name;
  Insert(a, sk);
  return 0;
}

int FindByName(Arena* a, const sockaddr_un* sun, socklen_t len, int type,
               SockState** out) {
  ArenaHeader* h = a->header();
  SockState* found = nullptr;
  if (sun->sun_path[0] != '\0') {
    char path[sizeof(sockaddr_un) + 1];
    PathOf(sun, len, path);
    struct stat st;
    if (stat(path, &st) != 0) return -errno;
    // connect(2) needs write permission on the socket file, judged with
    // the effective ids as the kernel's path_permission(MAY_WRITE) does.
    if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0) return -errno;
    if (!S_ISSOCK(st.st_mode)) return -ECONNREFUSED;
    MutexLock lock(&h->names_lock);
    const uint32_t b = HashBytes(reinterpret_cast<const uint8_t*>(&st.st_ino),
                                 sizeof(st.st_ino), st.st_dev);
    found =
        FindInBucket(a, b, [&](SockState* o) { return HasSocketFile(o, st); });
    if (found == nullptr) return -ECONNREFUSED;
    if (found->type != type) return -EPROTOTYPE;
    SockHold(found);
  } else {
    MutexLock lock(&h->names_lock);
    const uint32_t b =
        HashBytes(reinterpret_cast<const uint8_t*>(sun), len, type);
    found = FindInBucket(
        a, b, [&](SockState* o) { return HasAbstractName(o, sun, len, type); });
    if (found == nullptr) return -ECONNREFUSED;
    SockHold(found);
  }
  *out = found;
  return 0;
}

}  // namespace shunt

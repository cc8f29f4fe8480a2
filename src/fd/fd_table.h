// The descriptor layer: which kernel descriptor numbers are shunt sockets.
//
// Every shunt descriptor is a real kernel descriptor, reserved by a
// placeholder object (an unbound kernel AF_UNIX socket), so its number never
// collides with the process's other descriptors, fstat() reports a socket,
// and FD_CLOEXEC, dup and fork inheritance are the kernel's own. The table
// maps the number to the arena OpenFile it stands for; each entry holds one
// reference on that OpenFile.
//
// Rules:
//  - Lookups are lock-free. In a single-threaded process (glibc's
//    __libc_single_threaded) a lookup borrows the entry, as the kernel's
//    fdget does; otherwise it takes a reference.
//  - Installing, replacing and removing entries is serialised by one
//    process-local mutex, which fork() also holds, so a child inherits a
//    consistent table and its own references (pthread_atfork handlers).
//  - At normal process exit every entry is closed.
#pragma once

#include <stdint.h>
#include <sys/single_threaded.h>

#include <atomic>

#include "arena/arena.h"
#include "net/sock.h"

namespace shunt {

// A socket looked up for the duration of one call.
class FileRef {
 public:
  FileRef() = default;
  ~FileRef() {
    if (counted_) Reset();
  }
  FileRef(const FileRef&) = delete;
  FileRef& operator=(const FileRef&) = delete;

  const Sock& sock() const { return sock_; }
  void Reset();

 private:
  friend bool LookupFd(int fd, FileRef* out);
  friend bool LookupFdShared(int fd, Off off, FileRef* out);
  Sock sock_{};
  bool counted_ = false;
};

constexpr int kMaxFd = 1 << 20;
extern std::atomic<Off> g_table[kMaxFd];
bool LookupFdShared(int fd, Off off, FileRef* out);

// True (and *out filled) if fd is a shunt descriptor of this process.
// Inline: this is the first step of every call.
inline bool LookupFd(int fd, FileRef* out) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return false;
  const Off off = g_table[fd].load(std::memory_order_acquire);
  if (off == 0) return false;
  Arena* a = Arena::IfAttached();
  if (a == nullptr || !SockFromFile(a, off, &out->sock_)) return false;
  if (__libc_single_threaded) return true;  // borrowed, like fdget
  return LookupFdShared(fd, off, out);
}

// Reserves a descriptor number with a new placeholder. `flags`:
// SOCK_CLOEXEC and SOCK_NONBLOCK, applied to the placeholder so that the
// kernel's F_GETFD/F_GETFL report them. Returns the descriptor or -errno.
int NewPlaceholder(int flags);
// Makes placeholder `fd` stand for `file`, whose reference passes to the
// table.
void InstallFd(int fd, Off file);
// NewPlaceholder + InstallFd; on failure the reference on file is dropped.
int InstallNewFd(Arena* a, Off file, int flags);
// Gives `newfd` (already a valid kernel descriptor duplicating a
// placeholder) the OpenFile `file`, taking a new reference; an entry that
// newfd had is released.
void InstallDupFd(Arena* a, int newfd, Off file);
// Removes fd's entry, returning its OpenFile (the caller owns the
// reference), or 0 if fd was not a shunt descriptor.
Off RemoveFd(int fd);
// The OpenFile of fd without taking a reference, or 0.
Off PeekFd(int fd);
// True if one of this process's shunt descriptors is a socket whose
// descriptor mailbox is `id` (fd/mailbox.h).
bool TableUsesMailbox(Arena* a, uint64_t id);

}  // namespace shunt

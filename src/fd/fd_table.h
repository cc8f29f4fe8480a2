// The descriptor layer: which kernel descriptor numbers are shunt sockets.
//
// Every shunt descriptor is a real kernel descriptor, reserved by a
// placeholder, so its number never collides with the process's other
// descriptors, fstat() reports a socket, and FD_CLOEXEC, dup and fork
// inheritance are the kernel's own. Placeholders are duplicates
// (F_DUPFD) of one unbound kernel AF_UNIX socket per process, the
// template: a duplicate and its close cost a tenth of a socket() and its
// close, which would otherwise double the cost of making a connection.
// The template's file status flags are never changed (shunt keeps them in
// OpenFile::status), and all shunt sockets of a process share its inode
// (docs/DIFFERENCES.md). The table maps the number to the arena OpenFile
// it stands for; each entry holds one reference on that OpenFile.
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

// What a call may do to the socket it looks up. kRead is for the calls
// that only ever make a socket's state more permissive for the fast paths:
// the recv family but recvmmsg (which may set SO_ERROR), poll, select,
// getsockname, getpeername and getsockopt consume data, clear a pending
// error, take descriptors, credentials or an urgent mark, and nothing else
// (descriptors they install or close move the epoch in the table and in
// FilePut). A pair view (net/pair_view.h) they leave behind can only be
// more cautious than the state, which sends a call to the general path,
// so their lookups leave the socket epoch alone. kChange: any other call.
enum class FdUse { kChange, kRead };

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
  friend bool LookupFd(int fd, FileRef* out, FdUse use);
  friend bool LookupFdShared(int fd, Off off, FileRef* out);
  Sock sock_{};
  bool counted_ = false;
};

constexpr int kMaxFd = 1 << 20;
extern std::atomic<Off> g_table[kMaxFd];
// The socket of each g_table entry, resolved and checked when the entry is
// written, so single-threaded lookups skip two bounds checks; nullptr for
// an empty entry. Written with g_table under the table's mutex and read
// only by single-threaded processes, so the two never disagree for a
// reader. (A process-local cache: these pointers never enter the arena.)
extern SockState* g_socks[kMaxFd];
bool LookupFdShared(int fd, Off off, FileRef* out);

// True (and *out filled) if fd is a shunt descriptor of this process.
// Inline: this is the first step of every call.
inline bool LookupFd(int fd, FileRef* out, FdUse use = FdUse::kChange) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return false;
  const Off off = g_table[fd].load(std::memory_order_acquire);
  if (off == 0) return false;
  Arena* a = Arena::IfAttached();
  if (a == nullptr || !SockFromFile(a, off, &out->sock_)) return false;
  if (use == FdUse::kChange) NoteSockChange();
  if (__libc_single_threaded) return true;  // borrowed, like fdget
  return LookupFdShared(fd, off, out);
}

// LookupFd for single-threaded processes, where it borrows the entry and
// needs no FileRef: the socket, or nullptr when fd is not a shunt
// descriptor or other threads exist (then the caller uses LookupFd).
inline SockState* LookupFdBorrowed(int fd) {
  if (!__libc_single_threaded ||
      static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd))
    return nullptr;
  return g_socks[fd];
}

// Reserves a descriptor number with a new placeholder; SOCK_CLOEXEC in
// `flags` sets its FD_CLOEXEC (SOCK_NONBLOCK is the OpenFile's business).
// Returns the descriptor or -errno. The caller must pass it to InstallFd
// or DropPlaceholder; until then a fork's child does not keep it.
int NewPlaceholder(int flags);
// Gives back a placeholder NewPlaceholder made and nothing installed.
void DropPlaceholder(int fd);
// The highest number a shunt descriptor ever had in this process, or -1:
// no shunt descriptor lies above it.
int HighestShuntFd();
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
// reference, and releases it with ReleaseEntry), or 0 if fd was not a
// shunt descriptor.
Off RemoveFd(int fd);
// RemoveFd and, if fd was a shunt descriptor, the close of its placeholder
// (under the table's lock, so a fork's child has both or neither).
Off CloseFd(int fd);
// Releases the reference of an entry that left the table (close, dup2
// over it, exit), and this process's descriptor of the socket's foreign
// mailbox once nothing here uses it. Call it without the table's lock.
void ReleaseEntry(Arena* a, Off file);
// The OpenFile of fd without taking a reference, or 0.
Off PeekFd(int fd);
// True if one of this process's shunt descriptors is a socket whose
// descriptor mailbox is `id` (fd/mailbox.h).
bool TableUsesMailbox(Arena* a, uint64_t id);

}  // namespace shunt

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

#include "arena/arena.h"
#include "net/sock.h"

namespace shunt {

// A socket looked up for the duration of one call.
class FileRef {
 public:
  FileRef() = default;
  ~FileRef() { Reset(); }
  FileRef(const FileRef&) = delete;
  FileRef& operator=(const FileRef&) = delete;

  const Sock& sock() const { return sock_; }
  void Reset();

 private:
  friend bool LookupFd(int fd, FileRef* out);
  Sock sock_{};
  bool counted_ = false;
};

// True (and *out filled) if fd is a shunt descriptor of this process.
bool LookupFd(int fd, FileRef* out);

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

}  // namespace shunt

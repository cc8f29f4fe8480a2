#include "fd/fd_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace shunt {

// Zero-initialised and untouched until used: costs no memory per se.
std::atomic<Off> g_table[kMaxFd];

namespace {

std::atomic<int> g_high{-1};  // highest descriptor ever installed
std::mutex g_mu;
int g_fork_saved_errno = 0;

void ForEachEntry(void (*fn)(Arena*, Off)) {
  Arena* a = Arena::IfAttached();
  if (a == nullptr) return;
  const int high = g_high.load();
  for (int fd = 0; fd <= high; ++fd) {
    const Off f = g_table[fd].load(std::memory_order_relaxed);
    if (f != 0) fn(a, f);
  }
}

void GetEntry(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) FileGet(of);
}
// A reference for a child process: the file is no longer this process's
// alone.
void GetEntryForChild(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) {
    FileShared(of);
    FileGet(of);
  }
}
void PutEntry(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) FilePut(a, of);
}

// fork(): the child's copies of the descriptors are references of their
// own. They are taken before the fork, so no parent thread can drop the
// last reference in between; glibc leaves _Fork's errno for the parent
// handler, which gives them back if there was no child.
void ForkPrepare() {
  g_mu.lock();
  ForEachEntry(GetEntryForChild);
  g_fork_saved_errno = errno;
  errno = 0;
}
void ForkParent() {
  if (errno != 0) {
    ForEachEntry(PutEntry);
  } else {
    errno = g_fork_saved_errno;
  }
  g_mu.unlock();
}
void ForkChild() {
  errno = g_fork_saved_errno;
  g_mu.unlock();
}

// Normal exit closes every descriptor, as the kernel does for its own.
void CloseAllAtExit() {
  Arena* a = Arena::IfAttached();
  if (a == nullptr) return;
  std::lock_guard<std::mutex> lock(g_mu);
  const int high = g_high.load();
  for (int fd = 0; fd <= high; ++fd) {
    const Off f = g_table[fd].exchange(0);
    if (f != 0) PutEntry(a, f);
  }
}

void RegisterProcessHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(ForkPrepare, ForkParent, ForkChild);
    atexit(CloseAllAtExit);
  });
}

void NoteHigh(int fd) {
  int h = g_high.load();
  while (fd > h && !g_high.compare_exchange_weak(h, fd)) {
  }
}

}  // namespace

void FileRef::Reset() {
  if (counted_) FilePut(sock_.arena, sock_.file);
  counted_ = false;
  sock_ = Sock{};
}

bool LookupFdShared(int fd, Off off, FileRef* out) {
  // Another thread may close fd concurrently: take a reference unless the
  // count already reached zero, then confirm fd still names this file.
  // OpenFiles are pooled, so the count we touch is always an OpenFile's.
  Arena* a = out->sock_.arena;
  OpenFile* f = out->sock_.file;
  uint32_t r = f->refs.load(std::memory_order_relaxed);
  do {
    if (r == 0) return false;
  } while (!f->refs.compare_exchange_weak(r, r + 1, std::memory_order_acquire));
  out->counted_ = true;
  if (g_table[fd].load(std::memory_order_acquire) != off ||
      !SockFromFile(a, off, &out->sock_)) {
    out->Reset();
    return false;
  }
  return true;
}

Off PeekFd(int fd) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return 0;
  return g_table[fd].load(std::memory_order_acquire);
}

bool TableUsesMailbox(Arena* a, uint64_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  const int high = g_high.load();
  for (int fd = 0; fd <= high; ++fd) {
    Sock s;
    const Off f = g_table[fd].load(std::memory_order_relaxed);
    if (f != 0 && SockFromFile(a, f, &s) && s.sk->mailbox == id) return true;
  }
  return false;
}

int NewPlaceholder(int flags) {
  RegisterProcessHooks();
  const int fd = socket(
      AF_UNIX, SOCK_STREAM | (flags & (SOCK_CLOEXEC | SOCK_NONBLOCK)), 0);
  if (fd >= kMaxFd) {
    close(fd);
    return -EMFILE;
  }
  return fd < 0 ? -errno : fd;
}

void InstallFd(int fd, Off file) {
  std::lock_guard<std::mutex> lock(g_mu);
  NoteHigh(fd);
  g_table[fd].store(file, std::memory_order_release);
}

int InstallNewFd(Arena* a, Off file, int flags) {
  const int fd = NewPlaceholder(flags);
  if (fd < 0) {
    PutEntry(a, file);
    return fd;
  }
  InstallFd(fd, file);
  return fd;
}

void InstallDupFd(Arena* a, int newfd, Off file) {
  GetEntry(a, file);
  Off old;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    NoteHigh(newfd);
    old = g_table[newfd].exchange(file, std::memory_order_acq_rel);
  }
  if (old != 0) PutEntry(a, old);
}

Off RemoveFd(int fd) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return 0;
  std::lock_guard<std::mutex> lock(g_mu);
  return g_table[fd].exchange(0, std::memory_order_acq_rel);
}

}  // namespace shunt

#include "fd/fd_table.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "fd/mailbox.h"

namespace shunt {

// Zero-initialised and untouched until used: costs no memory per se.
std::atomic<Off> g_table[kMaxFd];
SockState* g_socks[kMaxFd];

namespace {

std::atomic<int> g_high{-1};  // highest descriptor ever installed
std::mutex g_mu;
// Placeholders made and not installed yet (g_mu held): a fork's child
// closes its copies, as dup_fd leaves a reserved number unused in the
// child. Never destroyed (see CloseAllAtExit).
std::vector<int>& g_reserved = *new std::vector<int>;

void Unreserve(int fd) {  // g_mu held
  std::erase(g_reserved, fd);
}

// Writes fd's entry and its resolved socket (g_mu held); returns the old
// entry.
Off SetEntry(int fd, Off file) {
  NoteSockChange();  // the number may now stand for another socket
  SockState* sk = nullptr;
  if (file != 0) {
    Sock s;
    if (Arena* a = Arena::IfAttached();
        a != nullptr && SockFromFile(a, file, &s))
      sk = s.sk;
  }
  g_socks[fd] = sk;
  return g_table[fd].exchange(file, std::memory_order_acq_rel);
}

void GetEntry(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) FileGet(of);
}
// A reference for a child process: the file is no longer this process's
// alone.
void GetEntryForChild(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) {
    if (SockState* sk = a->Ptr<SockState>(of->sock)) FileShared(sk);
    FileGet(of);
  }
}
void PutEntry(Arena* a, Off f) {
  if (OpenFile* of = a->Ptr<OpenFile>(f)) FilePut(a, of);
}

// Releases entries read with g_mu held (what the process drops at exit or
// gives back after a failed fork) once g_mu is free again: a release may
// reach MailboxForgetIfUnused, which takes it.
void PutAll(Arena* a, std::vector<Off>* files) {
  for (Off f : *files) ReleaseEntry(a, f);
  files->clear();
}

// The children this thread has forked, from /proc/thread-self/children;
// false if the kernel does not list them (CONFIG_PROC_CHILDREN).
bool ThreadChildren(std::vector<pid_t>* out) {
  out->clear();
  const int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  close(fd);
  if (n < 0) return false;
  const char* p = text.c_str();
  char* end;
  for (long v; (v = strtol(p, &end, 10)), end != p; p = end)
    out->push_back(static_cast<pid_t>(v));
  return true;
}

// fork(): the child's copies of the descriptors are references of their
// own. They are taken before the fork, so no parent thread can drop the
// last reference in between, and given back if there was no child.
// Whether there was is read from errno, which glibc leaves as _Fork set it
// for the parent handlers (our prepare handler, the last to run, clears
// it): only the errors a failed fork gives count, and as a handler of the
// program's may leave one of those too (one registered before libshunt
// loaded runs after ours), the thread's children before and after decide
// when the kernel lists them. Giving back the references of a child that
// exists would free sockets it holds.
struct ForkRecord {
  int saved_errno = 0;
  std::vector<Off> files;  // the entries referenced for the child
  bool children_known = false;
  std::vector<pid_t> children;  // this thread's, before the fork
};
ForkRecord& g_fork = *new ForkRecord;  // g_mu held; never destroyed

bool ForkFailed(int err, const ForkRecord& before) {
  if (err != EAGAIN && err != ENOMEM && err != ENOSYS && err != EPERM &&
      err != EACCES)
    return false;
  std::vector<pid_t> now;
  if (!before.children_known || !ThreadChildren(&now)) return true;
  for (pid_t c : now) {
    if (std::find(before.children.begin(), before.children.end(), c) ==
        before.children.end())
      return false;  // a new child: the fork worked
  }
  return true;
}

void ForkPrepare() {
  const int saved = errno;
  MailboxForkPrepare();
  g_mu.lock();
  g_fork.files.clear();
  if (Arena* a = Arena::IfAttached()) {
    const int high = g_high.load();
    for (int fd = 0; fd <= high; ++fd) {
      if (const Off f = g_table[fd].load(std::memory_order_relaxed)) {
        GetEntryForChild(a, f);
        g_fork.files.push_back(f);
      }
    }
  }
  if (!g_fork.files.empty())
    g_fork.children_known = ThreadChildren(&g_fork.children);
  g_fork.saved_errno = saved;
  errno = 0;
}
void ForkParent() {
  const int e = errno;
  const int saved = g_fork.saved_errno;  // another fork may set it next
  const bool failed = e != 0 && !g_fork.files.empty() && ForkFailed(e, g_fork);
  std::vector<Off> given_back;
  if (failed) given_back.swap(g_fork.files);  // read under g_mu
  g_mu.unlock();
  MailboxForkParent();
  if (failed) PutAll(Arena::IfAttached(), &given_back);
  errno = e != 0 ? e : saved;
}
void ForkChild() {
  // A child of a multi-threaded parent may be single-threaded again, with
  // views its parent stopped keeping current (net/pair_view.h).
  MoveSockEpoch();
  for (int fd : g_reserved) close(fd);  // another thread's, mid-call
  g_reserved.clear();
  g_mu.unlock();
  MailboxForkChild();
  errno = g_fork.saved_errno;
}

// Normal exit closes every descriptor, as the kernel does for its own.
void CloseAllAtExit() {
  Arena* a = Arena::IfAttached();
  if (a == nullptr) return;
  std::vector<Off> files;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    const int high = g_high.load();
    for (int fd = 0; fd <= high; ++fd) {
      if (const Off f = SetEntry(fd, 0)) files.push_back(f);
    }
  }
  PutAll(a, &files);
}

// Registered when the library loads, before the program's own handlers:
// so exit closes the descriptors after the program's atexit handlers and
// static destructors have run (the kernel closes them after the process
// is gone), and the fork prepare handler runs after the program's.
[[gnu::constructor]] void RegisterProcessHooks() {
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  atexit(CloseAllAtExit);
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

namespace {

// The process's placeholder template (see fd_table.h), made on first use.
std::atomic<int> g_template{-1};
std::mutex g_template_mu;

int PlaceholderTemplate() {
  std::lock_guard<std::mutex> lock(g_template_mu);
  int t = g_template.load();
  if (t < 0) {
    t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t < 0) return -errno;
    g_template.store(t);
  }
  return t;
}

}  // namespace

int NewPlaceholder(int flags) {
  const int cmd = (flags & SOCK_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD;
  // Under g_mu, so that a fork sees it reserved (ForkChild).
  std::lock_guard<std::mutex> lock(g_mu);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int t = g_template.load(std::memory_order_acquire);
    if (t < 0 && (t = PlaceholderTemplate()) < 0) return t;
    const int fd = fcntl(t, cmd, 0);
    if (fd >= kMaxFd) {
      close(fd);
      return -EMFILE;
    }
    if (fd >= 0) {
      g_reserved.push_back(fd);
      return fd;
    }
    if (errno != EBADF) return -errno;
    // The program closed the template behind our back: make another.
    g_template.compare_exchange_strong(t, -1);
  }
  return -EBADF;
}

int HighestShuntFd() { return g_high.load(std::memory_order_relaxed); }

void DropPlaceholder(int fd) {
  // Closed under g_mu, so that no fork's child keeps it unlisted.
  std::lock_guard<std::mutex> lock(g_mu);
  Unreserve(fd);
  close(fd);
}

void InstallFd(int fd, Off file) {
  std::lock_guard<std::mutex> lock(g_mu);
  Unreserve(fd);
  NoteHigh(fd);
  SetEntry(fd, file);
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
    old = SetEntry(newfd, file);
  }
  if (old != 0) ReleaseEntry(a, old);
}

void ReleaseEntry(Arena* a, Off file) {
  OpenFile* of = a->Ptr<OpenFile>(file);
  if (of == nullptr) return;
  const SockState* sk = a->Ptr<SockState>(of->sock);
  const uint64_t mailbox = sk == nullptr ? 0 : sk->mailbox;
  FilePut(a, of);
  MailboxForgetIfUnused(a, mailbox);
}

Off RemoveFd(int fd) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return 0;
  std::lock_guard<std::mutex> lock(g_mu);
  return SetEntry(fd, 0);
}

Off CloseFd(int fd) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kMaxFd)) return 0;
  // The placeholder closes under g_mu, with its entry: a fork's child has
  // both or neither.
  std::lock_guard<std::mutex> lock(g_mu);
  const Off file = SetEntry(fd, 0);
  if (file != 0) close(fd);
  return file;
}

}  // namespace shunt

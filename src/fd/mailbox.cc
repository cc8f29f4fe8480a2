#include "fd/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "fd/fd_table.h"
#include "net/scm.h"

namespace shunt {
namespace {

constexpr int kMaxFds = 253;  // SCM_MAX_FD: one kernel message carries this
// A search gives up after this many messages: a bound for a corrupt
// mailbox, far above what live messages make.
constexpr int kSearchLimit = 4096;

struct Held {
  uint64_t id;
  int fd;
};

// A message kept in this process (MailboxParkLocal): its descriptors are
// duplicates of the sender's, FD_CLOEXEC, numbered from LocalBase().
struct LocalParcel {
  LocalParcel() {}  // fds is filled as it is used
  uint64_t id;
  MailboxToken token;
  int n;
  int fds[kMaxFds];
};

std::mutex g_mu;
uint64_t g_own = 0;  // this family's mailbox (inherited by fork)
// Never destroyed: exit releases descriptors (fd/fd_table.cc: an atexit
// handler registered at load, so it runs after static destructors), and
// that reaches these.
// Every mailbox this process holds, own included.
std::vector<Held>& g_held = *new std::vector<Held>;
std::vector<LocalParcel>& g_local = *new std::vector<LocalParcel>;  // kept here
// g_local.size(), readable without g_mu: parcels are only added while the
// process is single-threaded, so a thread started later sees them.
std::atomic<size_t> g_local_count{0};

sockaddr_un MailboxName(Arena* a, uint64_t id, socklen_t* len) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const int n = snprintf(
      sun.sun_path + 1, sizeof sun.sun_path - 1, "shunt-mb-%016llx-%llx",
      static_cast<unsigned long long>(a->header()->mailbox_nonce),
      static_cast<unsigned long long>(id));
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
  return sun;
}

int HeldFdLocked(uint64_t id) {
  for (const Held& h : g_held)
    if (h.id == id) return h.fd;
  return -1;
}

// One message of a mailbox: the token and the descriptors.
struct Parcel {
  MailboxToken token{};
  int fds[kMaxFds];
  int n = 0;
};

int Send(int from, const sockaddr_un* to, socklen_t tolen,
         const MailboxToken& t, const int* fds, int n) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{const_cast<MailboxToken*>(&t), sizeof t};
  msghdr mh{};
  mh.msg_name = const_cast<sockaddr_un*>(to);
  mh.msg_namelen = tolen;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (n > 0) {
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
  }
  return sendmsg(from, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

// Takes the next message of mailbox fd; false when it is empty.
bool Receive(int fd, bool cloexec, Parcel* p) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{&p->token, sizeof p->token};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  const int flags = MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0);
  ssize_t r;
  do {
    r = recvmsg(fd, &mh, flags);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return false;
  p->n = 0;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr;
       cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    const int k = static_cast<int>((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    memcpy(p->fds + p->n, CMSG_DATA(cm), sizeof(int) * k);
    p->n += k;
  }
  if (r != sizeof p->token) p->token = MailboxToken{};
  return true;
}

void CloseAll(const int* fds, int n) {
  for (int i = 0; i < n; ++i) close(fds[i]);
}

// Where kept descriptors are numbered from: half the soft descriptor limit,
// at most 4096, clear of the numbers programs usually hold, since a number
// taken there would change what open() or dup() returns meanwhile.
int LocalBase() {
  static const int base = [] {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
    return r.rlim_cur / 2 < 4096 ? static_cast<int>(r.rlim_cur / 2) : 4096;
  }();
  return base;
}

// Gives the caller a descriptor of kept descriptor *kept numbered as
// receive_fd numbers it: the lowest free number in Linux's view, in which
// *kept's own number is free (a descriptor in flight has none). FD_CLOEXEC
// if `cloexec`. Without `keep` the kept descriptor is used up; with it a
// kept copy remains (*kept may change). Returns -1 if no number is free
// (receive_fd's EMFILE; the kept descriptor stays kept).
int HandOut(int* kept, bool cloexec, bool keep) {
  const int k = *kept;
  const int fd = fcntl(k, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
  if (fd >= 0 && fd < k) {
    if (!keep) close(k);
    return fd;
  }
  // No number below RLIMIT_NOFILE is free, and the kept one is not below
  // it either (the limit was lowered since): nothing is free in Linux's
  // view.
  if (fd < 0) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 &&
        static_cast<rlim_t>(k) >= r.rlim_cur)
      return -1;
  }
  // No number below the kept one is free: the kept one is the answer.
  if (keep) {
    if (fd < 0) return -1;
    if (!cloexec) fcntl(fd, F_SETFD, FD_CLOEXEC);
    *kept = fd;
  } else if (fd >= 0) {
    close(fd);
  }
  if (!cloexec) fcntl(k, F_SETFD, 0);
  return k;
}

void RemoveLocalLocked(size_t i) {
  LocalParcel& last = g_local.back();
  if (&g_local[i] != &last) {
    g_local[i].id = last.id;
    g_local[i].token = last.token;
    g_local[i].n = last.n;
    memcpy(g_local[i].fds, last.fds, sizeof(int) * last.n);
  }
  g_local.pop_back();
  g_local_count.store(g_local.size(), std::memory_order_relaxed);
}

// MailboxFetch of a message kept in this process (g_mu held); false if
// none is tagged t.
bool FetchLocalLocked(uint64_t id, const MailboxToken& t, bool cloexec,
                      bool keep, int* fds, int* n) {
  for (size_t i = 0; i < g_local.size(); ++i) {
    LocalParcel& p = g_local[i];
    if (p.id != id || p.token.block != t.block || p.token.serial != t.serial)
      continue;
    int got = 0;
    while (got < p.n) {
      const int fd = HandOut(&p.fds[got], cloexec, keep);
      if (fd < 0) break;
      fds[got++] = fd;
    }
    *n = got;
    if (!keep) {
      // No number was free for the rest: they go, as receive_fd's EMFILE
      // ends scm_detach_fds and the message's files are put.
      for (int j = got; j < p.n; ++j) close(p.fds[j]);
      RemoveLocalLocked(i);
    }
    return true;
  }
  return false;
}

// MailboxShareLocal with g_mu held.
int ShareLocalLocked(Arena* a) {
  const int from = HeldFdLocked(g_own);
  int rc = 0;
  for (size_t i = 0; i < g_local.size();) {
    const LocalParcel& p = g_local[i];
    socklen_t len;
    const sockaddr_un to = MailboxName(a, p.id, &len);
    int sent;
    {
      MutexLock lock(&a->header()->mailbox_lock);
      sent = Send(from, &to, len, p.token, p.fds, p.n);
    }
    if (sent != 0) {
      rc = sent;
      ++i;
      continue;
    }
    CloseAll(p.fds, p.n);
    RemoveLocalLocked(i);
  }
  return rc;
}

// fork() while another thread holds g_mu must not leave it held in the
// child. Messages kept in this process move to the kernel mailbox first,
// so that parent and child can both fetch them; one that could not be
// moved stays the parent's, and the child closes its copies.
}  // namespace

void MailboxForkPrepare() {
  g_mu.lock();
  if (Arena* a = Arena::IfAttached(); a != nullptr && !g_local.empty())
    ShareLocalLocked(a);
}
void MailboxForkParent() { g_mu.unlock(); }
void MailboxForkChild() {
  for (const LocalParcel& p : g_local) CloseAll(p.fds, p.n);
  g_local.clear();
  g_local_count.store(0, std::memory_order_relaxed);
  g_mu.unlock();
}

uint64_t OwnMailbox(Arena* a, int* err) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_own != 0) return g_own;
  const uint64_t id = a->NewInode();
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = -errno;
    return 0;
  }
  socklen_t len;
  const sockaddr_un name = MailboxName(a, id, &len);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&name), len) != 0) {
    *err = -errno;
    close(fd);
    return 0;
  }
  g_held.push_back(Held{id, fd});
  g_own = id;
  return id;
}

int MailboxFd(uint64_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  return HeldFdLocked(id);
}

void MailboxAdopt(uint64_t id, int fd) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (HeldFdLocked(id) >= 0) {
    close(fd);
    return;
  }
  g_held.push_back(Held{id, fd});
}

void MailboxForgetIfUnused(Arena* a, uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (id == g_own || HeldFdLocked(id) < 0) return;
  }
  if (TableUsesMailbox(a, id)) return;
  std::lock_guard<std::mutex> lock(g_mu);
  for (size_t i = 0; i < g_held.size(); ++i) {
    if (g_held[i].id != id) continue;
    close(g_held[i].fd);
    g_held.erase(g_held.begin() + static_cast<ptrdiff_t>(i));
    return;
  }
}

int MailboxPark(Arena* a, uint64_t id, const MailboxToken& t, const int* fds,
                int n, bool nonblock) {
  int err = 0;
  if (OwnMailbox(a, &err) == 0) return err;
  const int from = MailboxFd(g_own);
  socklen_t len;
  const sockaddr_un to = MailboxName(a, id, &len);
  for (;;) {
    int rc;
    {
      MutexLock lock(&a->header()->mailbox_lock);
      rc = Send(from, &to, len, t, fds, n);
    }
    // A full mailbox (unix_dgram_sendmsg's max_dgram_qlen rule) empties as
    // its receivers read; docs/DIFFERENCES.md.
    if (rc != -EAGAIN || nonblock) return rc;
    const timespec pause{0, 1000000};
    nanosleep(&pause, nullptr);
  }
}

int MailboxParkLocal(uint64_t id, const MailboxToken& t, const int* fds,
                     int n) {
  std::lock_guard<std::mutex> lock(g_mu);
  // Only the own mailbox: sending to it later (ShareLocalLocked) is exempt
  // from the kernel's queue limit, so it cannot wait for a reader.
  if (id != g_own) return -EXDEV;
  LocalParcel& p = g_local.emplace_back();
  p.id = id;
  p.token = t;
  for (p.n = 0; p.n < n; ++p.n) {
    const int fd = fcntl(fds[p.n], F_DUPFD_CLOEXEC, LocalBase());
    if (fd < 0) {
      const int err = -errno;
      CloseAll(p.fds, p.n);
      g_local.pop_back();
      return err;
    }
    p.fds[p.n] = fd;
  }
  g_local_count.store(g_local.size(), std::memory_order_relaxed);
  return 0;
}

int MailboxShareLocal(Arena* a) {
  if (g_local_count.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard<std::mutex> lock(g_mu);
  return ShareLocalLocked(a);
}

int MailboxFetch(Arena* a, uint64_t id, const MailboxToken& t, bool cloexec,
                 bool keep, int* fds, int* n) {
  if (g_local_count.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (FetchLocalLocked(id, t, cloexec, keep, fds, n)) return 0;
  }
  const int fd = MailboxFd(id);
  if (fd < 0) return -ENOENT;
  socklen_t len;
  const sockaddr_un self = MailboxName(a, id, &len);
  MutexLock lock(&a->header()->mailbox_lock);
  Parcel p;
  for (int guard = 0; guard < kSearchLimit && Receive(fd, cloexec, &p);
       ++guard) {
    const bool mine = p.token.block == t.block && p.token.serial == t.serial;
    if (mine) {
      if (keep) Send(fd, &self, len, p.token, p.fds, p.n);
      memcpy(fds, p.fds, sizeof(int) * p.n);
      *n = p.n;
      return 0;
    }
    // Someone else's message goes back to the tail; one whose arena
    // message was dropped unread is dropped with its descriptors.
    if (ScmTokenLive(a, p.token)) Send(fd, &self, len, p.token, p.fds, p.n);
    CloseAll(p.fds, p.n);
  }
  return -ENOENT;
}

}  // namespace shunt

#include "fd/mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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

std::mutex g_mu;
uint64_t g_own = 0;        // this family's mailbox (inherited by fork)
std::vector<Held> g_held;  // every mailbox this process holds, own included

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

// fork() while another thread holds g_mu must not leave it held in the
// child.
void LockForFork() { g_mu.lock(); }
void UnlockAfterFork() { g_mu.unlock(); }

}  // namespace

uint64_t OwnMailbox(Arena* a, int* err) {
  static std::once_flag hooks;
  std::call_once(hooks, [] {
    pthread_atfork(LockForFork, UnlockAfterFork, UnlockAfterFork);
  });
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

int MailboxFetch(Arena* a, uint64_t id, const MailboxToken& t, bool cloexec,
                 bool keep, int* fds, int* n) {
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

#include "net/poll.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/sock.h"

namespace shunt {
namespace {

socklen_t WakeName(int pid, int tid, sockaddr_un* sun) {
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  const int n = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1,
                         "shunt-wake/%d/%d", pid, tid);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

// Unbound datagram socket used to send wake bytes; one per process image
// (a forked child sends through the inherited one).
int WakeSender() {
  static const int fd =
      socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  return fd;
}

void WakePoller(Arena* a, Off off) {
  Poller* p = a->Ptr<Poller>(off);
  if (p == nullptr || p->state.exchange(1) != 0) return;
  if (!p->kernel_wake) {
    FutexWakeDeferred(&p->state, 1);
    return;
  }
  sockaddr_un sun;
  const socklen_t len = WakeName(p->pid, p->tid, &sun);
  const char byte = 1;
  const int saved = errno;
  sendto(WakeSender(), &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
         reinterpret_cast<sockaddr*>(&sun), len);
  errno = saved;
}

struct ThreadWake {
  int fd = -1;
  int pid = 0;
  ~ThreadWake() {
    if (fd >= 0 && pid == getpid()) close(fd);
  }
};
thread_local ThreadWake t_wake;

}  // namespace

int PollerCreate(Arena* a, bool kernel_wake, Off* out) {
  const Off off = a->AllocObject(Pool::kPollEntry);
  Poller* p = a->Ptr<Poller>(off);
  if (p == nullptr) return -ENOMEM;
  p->kernel_wake = kernel_wake;
  p->pid = getpid();
  p->tid = gettid();
  *out = off;
  return 0;
}

void PollerDestroy(Arena* a, Off poller) {
  a->FreeObject(Pool::kPollEntry, poller);
}

int PollWatch(Arena* a, SockState* sk, Off poller) {
  const Off off = a->AllocObject(Pool::kPollEntry);
  PollEntry* e = a->Ptr<PollEntry>(off);
  if (e == nullptr) return -ENOMEM;
  e->poller = poller;
  MutexLock lock(&sk->lock);
  e->next = sk->wq.pollers;
  sk->wq.pollers = off;
  sk->wq.sleepers.fetch_add(1);
  return 0;
}

void PollUnwatch(Arena* a, SockState* sk, Off poller) {
  Off found = 0;
  {
    MutexLock lock(&sk->lock);
    Off* link = &sk->wq.pollers;
    for (int guard = 0; *link != 0 && guard < (1 << 20); ++guard) {
      PollEntry* e = a->Ptr<PollEntry>(*link);
      if (e == nullptr) break;
      if (e->poller == poller) {
        found = *link;
        *link = e->next;
        sk->wq.sleepers.fetch_sub(1);
        break;
      }
      link = &e->next;
    }
  }
  if (found != 0) a->FreeObject(Pool::kPollEntry, found);
}

void WakeAll(Arena* a, WaitQueue* wq) {
  FutexWakeDeferred(&wq->seq, INT_MAX);
  Off off = wq->pollers;
  for (int guard = 0; off != 0 && guard < (1 << 20); ++guard) {
    PollEntry* e = a->Ptr<PollEntry>(off);
    if (e == nullptr) break;
    WakePoller(a, e->poller);
    off = e->next;
  }
}

int ThreadWakeSocket() {
  if (t_wake.fd >= 0 && t_wake.pid == getpid()) return t_wake.fd;
  WakeSender();  // made with the first wake socket, not mid-wake
  // After fork the inherited socket carries the parent's name: close this
  // process's copy and make its own.
  if (t_wake.fd >= 0) close(t_wake.fd);
  t_wake.fd = -1;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_un sun;
  const socklen_t len = WakeName(getpid(), gettid(), &sun);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sun), len) != 0) {
    const int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  t_wake.fd = fd;
  t_wake.pid = getpid();
  return fd;
}

void DrainWakeSocket() {
  if (t_wake.fd < 0 || t_wake.pid != getpid()) return;
  char buf[64];
  const int saved = errno;
  while (recv(t_wake.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
  errno = saved;
}

}  // namespace shunt

// poll, ppoll, select and pselect over any mix of shunt and kernel
// descriptors (fs/select.c semantics).
//
// A set without shunt descriptors goes to the kernel unchanged. Otherwise
// readiness of shunt sockets comes from the socket layer (SockPoll); to
// sleep, the call registers a Poller on every shunt socket it watches (and
// its peer, whose queue decides writability) and then either sleeps on the
// poller's futex (shunt descriptors only, no signal mask) or in the
// kernel's ppoll (pselect, for select) on the kernel descriptors plus
// this thread's wake socket, to which a waker sends one byte. Nothing
// spins while waiting.
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <shunt/shunt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "api/posix_util.h"
#include "base/user_copy.h"
#include "net/poll.h"

using namespace shunt;  // NOLINT: C boundary

namespace {

struct Watched {
  size_t index;  // into the pollfd array
  FileRef ref;
};

// The events a socket reports for a request, as do_pollfd filters them.
short Filter(uint32_t mask, short events) {
  return static_cast<short>(
      mask & (static_cast<uint32_t>(events) | POLLERR | POLLHUP));
}

// Whether an entry's revents end the wait: poll's rule (any event at all)
// or select's (an event of a set the descriptor is in).
using ReadyRule = bool (*)(const pollfd&);
bool PollReady(const pollfd& p) { return p.revents != 0; }

// Fills revents for every entry; returns how many are ready.
int Scan(std::vector<pollfd>& fds, std::deque<Watched>& shunt,
         std::vector<pollfd>& kernel, std::vector<size_t>& kernel_index,
         ReadyRule ready) {
  int count = 0;
  for (Watched& w : shunt) {
    pollfd& p = fds[w.index];
    p.revents = Filter(SockPoll(w.ref.sock()), p.events);
  }
  if (!kernel.empty()) {
    for (pollfd& k : kernel) k.revents = 0;
    ::poll(kernel.data(), kernel.size(), 0);
    for (size_t i = 0; i < kernel.size(); ++i)
      fds[kernel_index[i]].revents = kernel[i].revents;
  }
  for (const pollfd& p : fds) count += ready(p);
  return count;
}

// fd's word and bit in a select bitmap of any length (FD_SET's layout,
// without its FD_SETSIZE bound).
size_t FdWord(int fd) { return static_cast<size_t>(fd) / NFDBITS; }
__fd_mask FdBit(int fd) { return __fd_mask{1} << (fd % NFDBITS); }

// Sleeps in the kernel on `k` (kernel descriptors and the thread's wake
// socket) until one of them is ready, `left` passes (nullptr: forever) or
// a signal arrives. Select's rule needs select itself: a ppoll would end
// the sleep on a hang-up that select does not count (a descriptor of the
// exception set only, say), and the loop around it would spin where
// do_select keeps sleeping. The bitmaps are sized for any descriptor
// number, as the kernel's are.
int KernelSleep(std::vector<pollfd>& k, const timespec* left,
                const sigset_t* sigmask, bool select_rule) {
  if (!select_rule) return ::ppoll(k.data(), k.size(), left, sigmask);
  int max_fd = 0;
  for (const pollfd& p : k) max_fd = p.fd > max_fd ? p.fd : max_fd;
  const size_t words = FdWord(max_fd) + 1;
  std::vector<__fd_mask> rd(words), wr(words), ex(words);
  for (const pollfd& p : k) {
    if (p.events & POLLIN) rd[FdWord(p.fd)] |= FdBit(p.fd);
    if (p.events & POLLOUT) wr[FdWord(p.fd)] |= FdBit(p.fd);
    if (p.events & POLLPRI) ex[FdWord(p.fd)] |= FdBit(p.fd);
  }
  return ::pselect(max_fd + 1, reinterpret_cast<fd_set*>(rd.data()),
                   reinterpret_cast<fd_set*>(wr.data()),
                   reinterpret_cast<fd_set*>(ex.data()), left, sigmask);
}

// Registers `poller` on each watched socket and its peer; records what it
// holds so Unwatch can undo it.
struct Registration {
  Arena* arena = nullptr;
  Off poller = 0;
  std::vector<SockState*> socks;

  int Watch(const Sock& s) {
    SockState* list[2] = {s.sk, nullptr};
    {
      MutexLock lock(&s.sk->lock);
      list[1] = arena->Ptr<SockState>(s.sk->peer);
      if (list[1] != nullptr) SockHold(list[1]);
    }
    SockHold(s.sk);
    for (SockState* sk : list) {
      if (sk == nullptr) continue;
      socks.push_back(sk);
      if (const int rc = PollWatch(arena, sk, poller); rc != 0) return rc;
    }
    return 0;
  }
  ~Registration() {
    for (SockState* sk : socks) {
      PollUnwatch(arena, sk, poller);
      SockPut(arena, sk);
    }
    if (poller != 0) PollerDestroy(arena, poller);
  }
};

// The core of poll and ppoll. timeout: nullptr waits forever. On return
// the revents of `fds` are filled.
long DoPoll(std::vector<pollfd>& fds, const timespec* timeout,
            const sigset_t* sigmask, ReadyRule ready) {
  std::deque<Watched> shunt;
  std::vector<pollfd> kernel;
  std::vector<size_t> kernel_index;
  for (size_t i = 0; i < fds.size(); ++i) {
    fds[i].revents = 0;
    if (fds[i].fd < 0) continue;
    shunt.emplace_back();
    shunt.back().index = i;
    if (!LookupFd(fds[i].fd, &shunt.back().ref, FdUse::kRead)) {
      shunt.pop_back();
      kernel.push_back(fds[i]);
      kernel_index.push_back(i);
    }
  }
  if (shunt.empty()) {
    const int r = ::ppoll(fds.data(), fds.size(), timeout, sigmask);
    return r < 0 ? -errno : r;
  }
  timespec deadline{};
  if (timeout != nullptr) deadline = DeadlineAfter(*timeout);
  Arena* arena = shunt.front().ref.sock().arena;
  const bool kernel_wake = !kernel.empty() || sigmask != nullptr;
  for (;;) {
    int count = Scan(fds, shunt, kernel, kernel_index, ready);
    if (count != 0) return count;
    if (timeout != nullptr && NsUntil(deadline) == 0) return 0;
    Registration reg;
    reg.arena = arena;
    if (const int rc = PollerCreate(arena, kernel_wake, &reg.poller); rc != 0)
      return rc;
    for (Watched& w : shunt) {
      if (const int rc = reg.Watch(w.ref.sock()); rc != 0) return rc;
    }
    // Registered: any change from here on wakes us; re-check first.
    count = Scan(fds, shunt, kernel, kernel_index, ready);
    if (count != 0) return count;
    Poller* p = arena->Ptr<Poller>(reg.poller);
    if (kernel_wake) {
      const int wake = ThreadWakeSocket();
      if (wake < 0) return -errno;
      std::vector<pollfd> k = kernel;
      k.push_back(pollfd{wake, POLLIN, 0});
      timespec left{};
      if (timeout != nullptr) {
        const int64_t ns = NsUntil(deadline);
        left = timespec{ns / 1000000000, ns % 1000000000};
      }
      const int r = KernelSleep(k, timeout ? &left : nullptr, sigmask,
                                ready != PollReady);
      DrainWakeSocket();
      if (r < 0) return -errno;
    } else {
      // A far deadline rather than none: poll is never restarted after a
      // signal handler, and only a timed futex wait reports EINTR then.
      const timespec far = DeadlineAfterNs(int64_t{1} << 62);
      const int rc = FutexWait(&p->state, 0, timeout ? &deadline : &far);
      if (rc == -EINTR) return -EINTR;
    }
  }
}

long PollCall(pollfd* ufds, nfds_t nfds, const timespec* timeout,
              const sigset_t* sigmask) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && nfds > rl.rlim_cur) return -EINVAL;
  std::vector<pollfd> fds(nfds);
  if (nfds != 0 && !CopyUser(fds.data(), ufds, nfds * sizeof(pollfd)))
    return -EFAULT;
  const long r = DoPoll(fds, timeout, sigmask, PollReady);
  if (r < 0) return r;
  for (nfds_t i = 0; i < nfds; ++i) {
    if (!CopyUser(&ufds[i].revents, &fds[i].revents, sizeof(short)))
      return -EFAULT;
  }
  return r;
}

constexpr short kSelectIn =
    POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
constexpr short kSelectOut = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
constexpr short kSelectEx = POLLPRI;

// fs/select.c: do_select counts only the events of the sets a descriptor
// is in (and keeps sleeping otherwise, whatever else it reports); a bad
// descriptor ends it at once (EBADF).
bool SelectReady(const pollfd& p) {
  return (p.revents & POLLNVAL) ||
         ((p.events & POLLIN) && (p.revents & kSelectIn)) ||
         ((p.events & POLLOUT) && (p.revents & kSelectOut)) ||
         ((p.events & POLLPRI) && (p.revents & kSelectEx));
}

// The three sets of a select call as core_sys_select sees them: the
// FDS_BYTES(nfds) bytes of each given set, copied in (any nfds: a caller's
// set may be longer than fd_set), and written back the same way.
struct SelectSets {
  int nfds = 0;
  fd_set* user[3] = {};
  std::vector<__fd_mask> bits[3];
  static constexpr short kEvents[3] = {POLLIN | POLLRDNORM | POLLRDBAND,
                                       POLLOUT | POLLWRNORM | POLLWRBAND,
                                       POLLPRI};
  static constexpr short kReady[3] = {kSelectIn, kSelectOut, kSelectEx};

  size_t words() const {
    return (static_cast<size_t>(nfds) + NFDBITS - 1) / NFDBITS;
  }
  // False (EFAULT) if a given set cannot be read.
  bool CopyIn(int n, fd_set* rd, fd_set* wr, fd_set* ex) {
    nfds = n;
    fd_set* sets[3] = {rd, wr, ex};
    for (int i = 0; i < 3; ++i) {
      user[i] = sets[i];
      if (user[i] == nullptr) continue;
      bits[i].assign(words(), 0);
      if (!CopyUser(bits[i].data(), user[i], words() * sizeof(__fd_mask)))
        return false;
    }
    return true;
  }
  bool Has(int i, int fd) const {
    return user[i] != nullptr && (bits[i][FdWord(fd)] & FdBit(fd)) != 0;
  }
  // The requests, one entry per descriptor in any set.
  std::vector<pollfd> Requests() const {
    std::vector<pollfd> fds;
    for (int fd = 0; fd < nfds; ++fd) {
      short ev = 0;
      for (int i = 0; i < 3; ++i) ev |= Has(i, fd) ? kEvents[i] : 0;
      if (ev != 0) fds.push_back(pollfd{fd, ev, 0});
    }
    return fds;
  }
  // Rewrites the given sets from the results; returns the count, or
  // -EFAULT if a set cannot be written.
  long CopyOut(const std::vector<pollfd>& fds) {
    long count = 0;
    for (int i = 0; i < 3; ++i) {
      if (user[i] == nullptr) continue;
      std::vector<__fd_mask> out(words(), 0);
      for (const pollfd& p : fds) {
        if ((p.events & kEvents[i]) && (p.revents & kReady[i])) {
          out[FdWord(p.fd)] |= FdBit(p.fd);
          ++count;
        }
      }
      if (!CopyUser(user[i], out.data(), words() * sizeof(__fd_mask)))
        return -EFAULT;
    }
    return count;
  }
};

// The size of this process's descriptor table (fdt->max_fds), from
// /proc/self/status; INT_MAX if it cannot be read.
int DescriptorTableSize() {
  FILE* f = fopen("/proc/self/status", "re");
  if (f == nullptr) return INT_MAX;
  char line[256];
  int size = INT_MAX;
  while (fgets(line, sizeof line, f) != nullptr) {
    if (sscanf(line, "FDSize: %d", &size) == 1) break;
  }
  fclose(f);
  return size;
}

// Whether the sets name a shunt descriptor. Only the words below the
// highest shunt number are read (all within what the kernel reads, as
// shunt numbers are in the table); an unreadable set is for the kernel to
// refuse.
bool AnyShunt(int nfds, fd_set* rd, fd_set* wr, fd_set* ex) {
  const int high = HighestShuntFd();
  SelectSets sets;
  if (high < 0 || !sets.CopyIn(std::min(nfds, high + 1), rd, wr, ex))
    return false;
  for (int fd = 0; fd < sets.nfds; ++fd) {
    if ((sets.Has(0, fd) || sets.Has(1, fd) || sets.Has(2, fd)) &&
        PeekFd(fd) != 0)
      return true;
  }
  return false;
}

// Copies the sets in for the nfds core_sys_select works with: clamped to
// the descriptor table. The table's size is read only when it can matter:
// beyond FD_SETSIZE, or when a set is shorter than nfds asks (a fault).
// Below the table SelectEntry needs the clamp only for a closed number.
bool CopyInClamped(SelectSets* sets, int nfds, fd_set* rd, fd_set* wr,
                   fd_set* ex) {
  if (nfds <= FD_SETSIZE && sets->CopyIn(nfds, rd, wr, ex)) return true;
  const int n = std::min(nfds, DescriptorTableSize());
  if (nfds <= FD_SETSIZE && n == nfds) return false;  // a fault in the table
  return sets->CopyIn(n, rd, wr, ex);
}

// select over sets with shunt descriptors, through DoPoll. A closed
// descriptor is EBADF, unless it lies beyond the descriptor table, which
// core_sys_select never looks at (it clamps nfds to max_fds). The table's
// size is read only then: below it, the clamp changes nothing.
long SelectEntry(SelectSets* sets, const timespec* timeout,
                 const sigset_t* sigmask) {
  std::vector<pollfd> fds = sets->Requests();
  for (;;) {
    const long r = DoPoll(fds, timeout, sigmask, SelectReady);
    if (r < 0) return r;
    bool closed = false;
    for (const pollfd& p : fds) closed |= (p.revents & POLLNVAL) != 0;
    if (!closed) break;
    const int table = DescriptorTableSize();
    for (const pollfd& p : fds) {
      if ((p.revents & POLLNVAL) && p.fd < table) return -EBADF;
    }
    std::erase_if(fds, [&](const pollfd& p) { return p.fd >= table; });
    sets->nfds = table;  // nor writes back the words beyond it
  }
  return sets->CopyOut(fds);
}

}  // namespace

extern "C" {

SHUNT_EXPORT int shunt_poll(pollfd* fds, nfds_t nfds, int timeout) {
  timespec ts{timeout / 1000, (timeout % 1000) * 1000000L};
  return static_cast<int>(
      PosixResult(PollCall(fds, nfds, timeout < 0 ? nullptr : &ts, nullptr)));
}

SHUNT_EXPORT int shunt_ppoll(pollfd* fds, nfds_t nfds, const timespec* tmo,
                             const sigset_t* sigmask) {
  if (tmo != nullptr &&
      (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000))
    return static_cast<int>(PosixResult(-EINVAL));
  return static_cast<int>(PosixResult(PollCall(fds, nfds, tmo, sigmask)));
}

SHUNT_EXPORT int shunt_select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex,
                              timeval* timeout) {
  if (nfds < 0 || !AnyShunt(nfds, rd, wr, ex))
    return select(nfds, rd, wr, ex, timeout);
  // glibc's select: negative parts are EINVAL, microseconds beyond a
  // second carry into the seconds (as the kernel's kern_select does). The
  // timeout comes before the sets.
  timespec ts{};
  timespec end{};
  if (timeout != nullptr) {
    timeval tv;
    if (!CopyUser(&tv, timeout, sizeof tv))
      return static_cast<int>(PosixResult(-EFAULT));
    if (tv.tv_sec < 0 || tv.tv_usec < 0)
      return static_cast<int>(PosixResult(-EINVAL));
    const time_t carry = tv.tv_usec / 1000000;
    ts.tv_sec = tv.tv_sec > INT64_MAX - carry ? INT64_MAX : tv.tv_sec + carry;
    ts.tv_nsec = (tv.tv_usec % 1000000) * 1000;
    end = DeadlineAfter(ts);
  }
  SelectSets sets;
  if (!CopyInClamped(&sets, nfds, rd, wr, ex))
    return static_cast<int>(PosixResult(-EFAULT));
  const long r = SelectEntry(&sets, timeout ? &ts : nullptr, nullptr);
  if (timeout != nullptr) {
    // Linux (and glibc) report the time left.
    const int64_t left = NsUntil(end);
    const timeval tv{left / 1000000000, (left % 1000000000) / 1000};
    CopyUser(timeout, &tv, sizeof tv);
  }
  return static_cast<int>(PosixResult(r));
}

SHUNT_EXPORT int shunt_pselect(int nfds, fd_set* rd, fd_set* wr, fd_set* ex,
                               const timespec* timeout,
                               const sigset_t* sigmask) {
  if (nfds < 0 || !AnyShunt(nfds, rd, wr, ex))
    return pselect(nfds, rd, wr, ex, timeout, sigmask);
  timespec ts;
  if (timeout != nullptr) {
    if (!CopyUser(&ts, timeout, sizeof ts))
      return static_cast<int>(PosixResult(-EFAULT));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
      return static_cast<int>(PosixResult(-EINVAL));
  }
  SelectSets sets;
  if (!CopyInClamped(&sets, nfds, rd, wr, ex))
    return static_cast<int>(PosixResult(-EFAULT));
  return static_cast<int>(
      PosixResult(SelectEntry(&sets, timeout ? &ts : nullptr, sigmask)));
}

}  // extern "C"

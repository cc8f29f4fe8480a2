// WaitQueue: the place where callers sleep until a socket's state changes.
#pragma once

#include <stdint.h>

#include <atomic>

#include "arena/arena.h"
#include "arena/futex.h"

namespace shunt {

// Lives inside the object it watches and is guarded by that object's lock.
//
// Protocol (an event count): every state change bumps `seq` while holding
// the lock, with a plain store (no atomic read-modify-write, no system call).
// A caller that must sleep first increments `sleepers`, then re-checks its
// condition under the lock, notes `seq`, drops the lock and sleeps on `seq`.
// The waker, still holding the lock after its change, reads `sleepers` and
// makes a system call only when it is non-zero. Pollers (net/poll.cc) count
// as sleepers too and hang off `pollers`.
struct WaitQueue {
  std::atomic<uint32_t> seq;
  std::atomic<uint32_t> sleepers;
  Off pollers;  // head of a PollEntry list; guarded by the owner's lock
};

// Outcome of one BlockOnce: the caller re-checks its condition either way.
enum class WaitResult { kChanged, kTimedOut, kInterrupted };

// A blocking call's time budget: nonblocking, unlimited, or a timeout that
// starts when the call first has to wait (so a call that never waits never
// reads the clock).
struct WaitBudget {
  bool nonblocking = false;
  int64_t timeout_ns = 0;  // 0: no limit
  int64_t spin_ns = 0;
  // The call has made progress (bytes copied or sent): a handled signal
  // then ends a wait with no timeout too, even under SA_RESTART, since the
  // kernel returns the partial count rather than restart the call.
  bool progress = false;
  // Set by the first BlockOnce when timeout_ns is non-zero.
  bool has_deadline = false;
  timespec deadline{};
};

// Busy-waits up to budget->spin_ns (never past the budget's deadline) for
// `wq->seq` to move past `seen`, with no system call and no registration:
// a spinner is not a sleeper, so wakers stay on their fast path. True if
// seq moved. Runs only when the socket's spin option is set (bounded, off
// by default); a signal arriving meanwhile is seen once the caller sleeps.
bool SpinUntilChanged(const WaitQueue* wq, uint32_t seen, WaitBudget* budget);

// Sleeps until `wq->seq` moves past `seen` or the budget runs out. The
// caller must hold a `sleepers` registration (see above) made before it
// last checked its condition and read `seen` under the owner's lock.
WaitResult BlockOnce(WaitQueue* wq, uint32_t seen, WaitBudget* budget);

}  // namespace shunt

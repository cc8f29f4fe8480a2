// Process-shared futex operations on 32-bit words that live in the arena.
#pragma once

#include <stdint.h>
#include <time.h>

#include <atomic>

namespace shunt {

// Sleeps while *word == expected. deadline: absolute CLOCK_MONOTONIC time,
// or nullptr to wait without limit. Returns 0 when woken (or the value had
// already changed), -ETIMEDOUT, or -EINTR when a signal handler ran.
//
// Restart rules are the kernel's own, and they are the socket rules
// (net/core/sock.c: sock_intr_errno): without a deadline a handler installed
// with SA_RESTART restarts the wait transparently; with a deadline the wait
// ends with -EINTR.
int FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
              const timespec* deadline);

// Wakes up to n sleepers on word (INT32_MAX for all).
void FutexWake(std::atomic<uint32_t>* word, int n);

// FutexWake, deferred until this thread releases its arena lock
// (ArenaMutex::Unlock flushes), as the kernel's wake_q defers wake-ups past
// a spinlock: a sleeper that runs at once, on this very CPU, then finds the
// lock free instead of going back to sleep on it. Words stay valid after
// the unlock (arena memory is never unmapped); a wake on a word nobody
// waits on any more is harmless, since every sleeper re-checks.
void FutexWakeDeferred(std::atomic<uint32_t>* word, int n);
// Performs the deferred wakes; cheap when there are none.
namespace internal {
extern thread_local int t_deferred_wakes
    __attribute__((tls_model("initial-exec")));
void FlushDeferredWakesSlow();
}  // namespace internal
inline void FlushDeferredWakes() {
  if (__builtin_expect(internal::t_deferred_wakes != 0, 0))
    internal::FlushDeferredWakesSlow();
}

// Current CLOCK_MONOTONIC time, and helpers on absolute deadlines.
timespec MonotonicNow();
timespec DeadlineAfterNs(int64_t ns);
// The deadline a valid timeout (tv_sec >= 0, tv_nsec < 1e9) gives, its
// seconds saturating rather than overflowing (timespec64_add_safe).
timespec DeadlineAfter(const timespec& timeout);
// Nanoseconds from now to deadline, clamped at 0 and at INT64_MAX.
int64_t NsUntil(const timespec& deadline);

}  // namespace shunt

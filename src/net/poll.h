// Poll registration: how a poll(2)/select(2) caller, possibly also waiting
// on kernel descriptors, is woken by a change to a shunt socket in any
// process (the kernel's poll_table and wait-queue entries).
#pragma once

#include <stdint.h>

#include <atomic>

#include "arena/arena.h"
#include "arena/wait_queue.h"

namespace shunt {

struct SockState;

// One waiting poll call, in the arena so that wakers in other processes can
// reach it. Pooled (Pool::kPollEntry).
//   state: 0 armed, 1 woken. Futex pollers sleep on it.
//   kernel_wake: the poller sleeps in the kernel's poll on its thread's
//   wake socket (abstract AF_UNIX name derived from pid/tid); wakers send it
//   one byte. Used when kernel descriptors or a signal mask are involved.
struct Poller {
  std::atomic<uint64_t> gen;  // pool generation; must stay first
  std::atomic<uint32_t> state;
  uint32_t kernel_wake;
  int32_t pid;
  int32_t tid;
};

// Links a Poller into one socket's WaitQueue. Pooled (Pool::kPollEntry).
struct PollEntry {
  std::atomic<uint64_t> gen;
  Off next;
  Off poller;
};

// Returns 0 or -ENOMEM. The poller is armed (state 0).
int PollerCreate(Arena* a, bool kernel_wake, Off* out);
void PollerDestroy(Arena* a, Off poller);
// Adds the poller to sk's wait queue; the caller must hold a reference on
// sk until PollUnwatch. Counts as a sleeper, so wakers call WakeAll.
int PollWatch(Arena* a, SockState* sk, Off poller);
void PollUnwatch(Arena* a, SockState* sk, Off poller);

// Wakes every futex sleeper and poller on wq. The caller holds the lock of
// the socket that owns wq; futex wakes happen when it releases it
// (FutexWakeDeferred).
void WakeAll(Arena* a, WaitQueue* wq);

// The calling thread's kernel wake socket (created on first use, re-made
// after fork), or -1 with errno set.
int ThreadWakeSocket();
// Reads and discards pending wake bytes from the thread's wake socket.
void DrainWakeSocket();

}  // namespace shunt

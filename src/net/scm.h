// Ancillary data of AF_UNIX messages (net/core/scm.c, net/unix/af_unix.c:
// unix_attach_fds, unix_detach_fds, unix_peek_fds): descriptors in flight.
//
// A message that carries descriptors has an ScmBlock in the arena, named by
// its Segment (Segment::scm). The block owns what is in flight:
//  - a shunt descriptor is one reference on its OpenFile;
//  - kernel descriptors are parked in the receiving socket's mailbox
//    (fd/mailbox.h) under the block's token, together with the mailbox
//    descriptors of passed shunt sockets whose mailbox is not the
//    receiver's (so that their receiver can reach them).
// The sender builds the block (ScmParse, then ScmAttach once the receiving
// socket is known); the receiver takes it (ScmTake: moves or, for MSG_PEEK,
// duplicates its contents into process memory) and hands the descriptors
// to the caller's control buffer (ScmDeliver, net/core/scm.c:
// scm_detach_fds). Whatever is not delivered is released: shunt files are
// put, kernel descriptors closed. This layer reaches into the descriptor
// layer as net/core/scm.c calls fget and receive_fd.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <atomic>

#include "arena/arena.h"
#include "fd/mailbox.h"

namespace shunt {

struct SockState;
struct MsgArgs;

constexpr int kScmMaxFd = 253;  // SCM_MAX_FD

enum class ScmKind : uint32_t { kShunt = 1, kKernel = 2, kMailbox = 3 };

struct ScmEntry {
  ScmKind kind;
  uint32_t reserved;
  uint64_t value;  // kShunt: OpenFile (referenced); kMailbox: mailbox id
};

struct ScmBlock {
  uint64_t free_link;            // the buffer allocator's, while free
  std::atomic<uint64_t> serial;  // the mailbox token; 0 once released
  uint64_t mailbox;              // where parked entries wait
  uint32_t size;                 // bytes of the buffer
  uint32_t count;                // entries
  uint32_t parked;               // entries of kind kKernel and kMailbox
  uint32_t reserved;
  ScmEntry* entries() { return reinterpret_cast<ScmEntry*>(this + 1); }
};
static_assert(sizeof(ScmBlock) % alignof(ScmEntry) == 0);

// The control messages of one sendmsg (__scm_send), in process memory:
// descriptors with references taken on shunt ones.
class ScmSend {
 public:
  explicit ScmSend(Arena* a) : arena_(a) {}
  ~ScmSend();
  ScmSend(const ScmSend&) = delete;
  ScmSend& operator=(const ScmSend&) = delete;
  bool empty() const { return n_ == 0; }

 private:
  friend int ScmParse(const void*, size_t, ScmSend*);
  friend int ScmAttach(ScmSend*, SockState*, bool, Off*);
  Arena* arena_;
  int n_ = 0;
  int fds_[kScmMaxFd];
  Off files_[kScmMaxFd];  // the OpenFile of a shunt descriptor, else 0
};

// Parses control messages already copied into our memory, as __scm_send
// does: EINVAL for a malformed header, an unknown SOL_SOCKET type or more
// than SCM_MAX_FD descriptors, EBADF for a descriptor that is not open.
// Other levels are skipped.
int ScmParse(const void* control, size_t len, ScmSend* out);
// Builds the block for a message to `target` and parks its kernel
// descriptors; *block is 0 when there is nothing to attach. The block takes
// references of its own: `send` may be attached again.
int ScmAttach(ScmSend* send, SockState* target, bool nonblock, Off* block);
// Releases a block that will not be delivered (unix_destruct_scm).
void ScmRelease(Arena* a, Off block);
// True while token t names a live block (fd/mailbox.cc drops stale ones).
bool ScmTokenLive(Arena* a, const MailboxToken& t);

// Descriptors taken from a message for one receive call, in process
// memory. The destructor releases what was not delivered.
class ScmReceived {
 public:
  explicit ScmReceived(Arena* a) : arena_(a) {}
  ~ScmReceived();
  ScmReceived(const ScmReceived&) = delete;
  ScmReceived& operator=(const ScmReceived&) = delete;
  bool empty() const { return n_ == 0 && taken_ == 0; }

 private:
  friend int ScmTake(Arena*, Off, bool, bool, ScmReceived*);
  friend void ScmDeliver(ScmReceived*, MsgArgs*);
  void Release(int from);
  Arena* arena_;
  int n_ = 0;
  int taken_ = 0;  // messages taken (a stream read takes at most one)
  ScmKind kind_[kScmMaxFd];
  uint64_t value_[kScmMaxFd];  // OpenFile (referenced) or kernel fd
  int mailboxes_ = 0;
  uint64_t mailbox_[kScmMaxFd];  // carried mailboxes now held
};

// Takes block's descriptors into out: moved (the block is freed) or, with
// `peek`, duplicated (net/unix/af_unix.c: unix_peek_fds). Kernel
// descriptors come out of the mailbox O_CLOEXEC if `cloexec`. Called with
// the receiving socket locked.
int ScmTake(Arena* a, Off block, bool peek, bool cloexec, ScmReceived* out);
// Writes the descriptors to the caller's control buffer (m->control, of
// m->controllen bytes), installing them: net/core/scm.c: scm_recv,
// scm_detach_fds. Sets MSG_CTRUNC when they do not all fit and adds the
// bytes used to m->control_used; the rest is released.
void ScmDeliver(ScmReceived* in, MsgArgs* m);

}  // namespace shunt

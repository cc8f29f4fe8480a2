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

constexpr int kScmMaxFd = 253;     // SCM_MAX_FD
constexpr int kNonStopMaxFd = 16;  // SHUNT_PERSONALITY_NONSTOP's limit

enum class ScmKind : uint32_t { kShunt = 1, kKernel = 2, kMailbox = 3 };

struct ScmEntry {
  ScmKind kind;
  uint32_t reserved;
  uint64_t value;  // kShunt: OpenFile (referenced); kMailbox: mailbox id
};

// The credentials a message carries (UNIXCB(skb).pid/uid/gid).
struct ScmCred {
  uint32_t valid;  // 0: none were attached (pid NULL, INVALID_UID/GID)
  int32_t pid;
  uint32_t uid;
  uint32_t gid;
  bool operator==(const ScmCred&) const = default;
};

struct ScmBlock {
  uint64_t free_link;            // the buffer allocator's, while free
  std::atomic<uint64_t> serial;  // the mailbox token; 0 once released
  uint64_t mailbox;              // where parked entries wait
  uint32_t size;                 // bytes of the buffer
  uint32_t count;                // entries
  uint32_t parked;               // entries of kind kKernel and kMailbox
  uint32_t reserved;
  ScmCred cred;
  ScmEntry* entries() { return reinterpret_cast<ScmEntry*>(this + 1); }
};
static_assert(sizeof(ScmBlock) % alignof(ScmEntry) == 0);

// The control messages of one sendmsg (__scm_send), in process memory:
// descriptors with references taken on shunt ones.
class ScmSend {
 public:
  // At most max_fds descriptors (the sending socket's personality).
  ScmSend(Arena* a, int max_fds) : arena_(a), max_fds_(max_fds) {}
  ~ScmSend();
  ScmSend(const ScmSend&) = delete;
  ScmSend& operator=(const ScmSend&) = delete;
  bool has_fds() const { return n_ != 0; }

 private:
  friend int ScmParse(const void*, size_t, ScmSend*);
  friend int ScmAttach(ScmSend*, const SockState*, SockState*, bool, Off*);
  friend Off ScmAttachCreds(ScmSend*);
  Arena* arena_;
  int max_fds_;
  ScmCred explicit_{};  // given with SCM_CREDENTIALS
  ScmCred attached_{};  // what ScmAttach attached (for later stream skbs)
  int n_ = 0;
  int fds_[kScmMaxFd];
  Off files_[kScmMaxFd];  // the OpenFile of a shunt descriptor, else 0
};

// Parses control messages already copied into our memory, as __scm_send
// does: EINVAL for a malformed header, an unknown SOL_SOCKET type or more
// than SCM_MAX_FD descriptors, EBADF for a descriptor that is not open,
// EPERM/ESRCH/EINVAL for credentials the sender may not claim. Other levels
// are skipped.
int ScmParse(const void* control, size_t len, ScmSend* out);
// Builds the block for a message from `sender` to `target` and parks its
// kernel descriptors; *block is 0 when there is nothing to attach. The
// block takes references of its own: `send` may be attached again.
// Credentials are attached if given, or if either socket passes them or
// the target is not yet accepted (net/unix/af_unix.c: maybe_add_creds).
int ScmAttach(ScmSend* send, const SockState* sender, SockState* target,
              bool nonblock, Off* block);
// A block with only the credentials of the last ScmAttach, for the later
// skbs of a stream send (unix_scm_to_skb runs for each); 0 if none were
// attached or the arena is full.
Off ScmAttachCreds(ScmSend* send);
// The credentials of a segment's block (none for 0).
ScmCred ScmCredOf(Arena* a, Off block);
// Releases a block and what it still holds (unix_destruct_scm).
void ScmRelease(Arena* a, Off block);
// True if the block (0: none) still carries descriptors.
bool ScmHasFds(Arena* a, Off block);
// The number of descriptors the receiver of the block would get.
int ScmFdCount(Arena* a, Off block);
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
  // The credentials of the message (of a stream read's first segment).
  void set_cred(const ScmCred& c) {
    cred_ = c;
    message_ = true;
  }
  // True once a message (or a stream read's first segment) was taken.
  bool has_message() const { return message_; }
  // A stream read got past its state checks: its credentials are
  // delivered whatever it returns (unix_stream_read_generic).
  void set_reading() { reading_ = true; }
  bool reading() const { return reading_; }
  // A stream read ended by a signal while it waited: its scm_cookie is
  // destroyed, not delivered (unix_stream_read_generic's scm_destroy).
  void set_interrupted() { reading_ = false; }
  // A NonStop peek: the message has n descriptors, reported by size only.
  void set_peeked(int n) { peeked_ = n; }

 private:
  friend int ScmTake(Arena*, Off, bool, bool, ScmReceived*);
  friend void ScmDeliver(ScmReceived*, MsgArgs*, bool, bool);
  void Release(int from);
  Arena* arena_;
  ScmCred cred_{};
  bool message_ = false;
  bool reading_ = false;
  int peeked_ = 0;
  int n_ = 0;
  // Entries from this one on cannot be delivered: no number was free for a
  // kernel descriptor (receive_fd's EMFILE ends scm_detach_fds there).
  int deliverable_ = kScmMaxFd;
  ScmKind kind_[kScmMaxFd];
  uint64_t value_[kScmMaxFd];  // OpenFile (referenced) or kernel fd
  int mailboxes_ = 0;
  uint64_t mailbox_[kScmMaxFd];  // carried mailboxes now held
};

// Takes block's descriptors into out: moved (the block keeps only its
// credentials: unix_detach_fds) or, with `peek`, duplicated
// (net/unix/af_unix.c: unix_peek_fds). Kernel
// descriptors come out of the mailbox O_CLOEXEC if `cloexec`. Called with
// the receiving socket locked.
int ScmTake(Arena* a, Off block, bool peek, bool cloexec, ScmReceived* out);
// Writes the control messages to the caller's buffer (m->control, of
// m->controllen bytes): the credentials if the receiver passes them, then
// the descriptors, installed (net/core/scm.c: scm_recv, put_cmsg,
// scm_detach_fds). Sets MSG_CTRUNC when they do not all fit, or when there
// is no buffer and the message has descriptors or the receiver passes
// credentials or security data (`passsec`: SO_PASSSEC, whose SCM_SECURITY
// shunt never has to give), and adds the bytes used to m->control_used;
// the rest is released.
void ScmDeliver(ScmReceived* in, MsgArgs* m, bool passcred, bool passsec);
// net/core/scm.c: put_cmsg: one control message, truncated (MSG_CTRUNC)
// to the room left in the receive's control buffer.
void PutCmsg(MsgArgs* m, int level, int type, const void* data, size_t len);

}  // namespace shunt

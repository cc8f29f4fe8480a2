#include "net/scm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/process.h"
#include "base/user_copy.h"
#include "fd/fd_table.h"
#include "net/sock.h"

namespace shunt {
namespace {

ScmBlock* BlockAt(Arena* a, Off off) {
  ScmBlock* b = a->Ptr<ScmBlock>(off);
  if (b == nullptr || a->Bytes(off, b->size) == nullptr ||
      b->size < sizeof(ScmBlock) + size_t{b->count} * sizeof(ScmEntry))
    return nullptr;
  return b;
}

void FreeBlock(Arena* a, ScmBlock* b) {
  b->serial.store(0, std::memory_order_release);
  a->FreeBuffer(a->OffsetOf(b), b->size);
}

// Overflow ids: what from_kuid_munged reports for INVALID_UID.
constexpr uint32_t kOverflowId = 65534;

// A fresh block for `entries` entries, or nullptr when the arena is full.
ScmBlock* NewBlock(Arena* a, size_t entries, const ScmCred& cred) {
  size_t size = sizeof(ScmBlock) + entries * sizeof(ScmEntry);
  const Off off = a->AllocBuffer(&size);
  auto* b = reinterpret_cast<ScmBlock*>(a->Bytes(off, size));
  if (b == nullptr) return nullptr;
  b->size = static_cast<uint32_t>(size);
  b->count = static_cast<uint32_t>(entries);
  b->parked = 0;
  b->mailbox = 0;
  b->cred = cred;
  b->serial.store(a->NewInode(), std::memory_order_release);
  return b;
}

// net/core/scm.c: scm_check_creds, then the pid lookup of __scm_send. The
// capabilities it accepts instead are checked as uid 0
// (docs/DIFFERENCES.md 2).
int CheckCreds(const ucred& c) {
  if (c.uid == static_cast<uid_t>(-1) || c.gid == static_cast<gid_t>(-1))
    return -EINVAL;
  const bool privileged = geteuid() == 0;
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid(&ru, &eu, &su);
  getresgid(&rg, &eg, &sg);
  const bool pid_ok = c.pid == ProcessId() || privileged;
  const bool uid_ok = c.uid == ru || c.uid == eu || c.uid == su || privileged;
  const bool gid_ok = c.gid == rg || c.gid == eg || c.gid == sg || privileged;
  if (!pid_ok || !uid_ok || !gid_ok) return -EPERM;
  const int saved = errno;
  const bool exists = c.pid > 0 && (kill(c.pid, 0) == 0 || errno != ESRCH);
  errno = saved;
  return exists ? 0 : -ESRCH;
}

uint64_t MailboxOf(Arena* a, Off file) {
  const OpenFile* f = a->Ptr<OpenFile>(file);
  const SockState* sk = f == nullptr ? nullptr : a->Ptr<SockState>(f->sock);
  return sk == nullptr ? 0 : sk->mailbox;
}

}  // namespace

ScmSend::~ScmSend() {
  for (int i = 0; i < n_; ++i)
    if (files_[i] != 0) FilePut(arena_, arena_->Ptr<OpenFile>(files_[i]));
}

int ScmParse(const void* control, size_t len, ScmSend* out) {
  // for_each_cmsghdr with CMSG_OK: every header lies inside the buffer and
  // is at least a header long.
  const auto* base = static_cast<const uint8_t*>(control);
  size_t at = 0;
  while (len >= sizeof(cmsghdr) && at <= len - sizeof(cmsghdr)) {
    cmsghdr h;
    memcpy(&h, base + at, sizeof h);
    if (h.cmsg_len < sizeof(cmsghdr) || h.cmsg_len > len - at) return -EINVAL;
    if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_CREDENTIALS) {
      if (h.cmsg_len != CMSG_LEN(sizeof(ucred))) return -EINVAL;
      ucred c;
      memcpy(&c, base + at + CMSG_LEN(0), sizeof c);
      if (const int rc = CheckCreds(c); rc != 0) return rc;
      out->explicit_ = ScmCred{1, c.pid, c.uid, c.gid};
    } else if (h.cmsg_level == SOL_SOCKET) {
      if (h.cmsg_type != SCM_RIGHTS) return -EINVAL;
      // net/core/scm.c: scm_fp_copy
      const size_t num = (h.cmsg_len - sizeof(cmsghdr)) / sizeof(int);
      const size_t limit = static_cast<size_t>(out->max_fds_);
      if (num > limit || out->n_ + num > limit) return -EINVAL;
      for (size_t i = 0; i < num; ++i) {
        int fd;
        memcpy(&fd, base + at + CMSG_LEN(0) + i * sizeof(int), sizeof fd);
        Off file = 0;
        FileRef ref;
        if (LookupFd(fd, &ref)) {
          FileGet(ref.sock().file);
          file = out->arena_->OffsetOf(ref.sock().file);
        } else if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
          return -EBADF;
        }
        out->fds_[out->n_] = fd;
        out->files_[out->n_] = file;
        ++out->n_;
      }
    }
    // __cmsg_nxthdr: the next header starts at the aligned end of this one.
    const size_t step = CMSG_ALIGN(h.cmsg_len);
    if (step > len - at) break;
    at += step;
  }
  return 0;
}

int ScmAttach(ScmSend* send, const SockState* sender, SockState* target,
              bool nonblock, Off* block) {
  *block = 0;
  Arena* a = send->arena_;
  ScmCred cred = send->explicit_;
  if (!cred.valid && (sender->passcred.load(std::memory_order_relaxed) ||
                      target->passcred.load(std::memory_order_relaxed) ||
                      target->file.load(std::memory_order_relaxed) == 0))
    cred = ScmCred{1, ProcessId(), getuid(), getgid()};
  send->attached_ = cred;
  if (send->n_ == 0 && !cred.valid) return 0;
  // A passed socket may reach another process from now on: it leaves the
  // exclusive fast paths, and kernel descriptors kept in this process for
  // any socket's messages move to the kernel mailbox first (fd/mailbox.h).
  bool passes_socket = false;
  for (int i = 0; i < send->n_; ++i) {
    const OpenFile* f = a->Ptr<OpenFile>(send->files_[i]);
    if (SockState* sk = f == nullptr ? nullptr : a->Ptr<SockState>(f->sock)) {
      FileShared(sk);
      passes_socket = true;
    }
  }
  if (passes_socket)
    if (const int rc = MailboxShareLocal(a); rc != 0) return rc;
  int park[kScmMaxFd];
  int nkernel = 0;
  uint64_t carried[kScmMaxFd];
  int ncarried = 0;
  for (int i = 0; i < send->n_; ++i) {
    if (send->files_[i] == 0) {
      park[nkernel++] = send->fds_[i];
      continue;
    }
    // A passed socket of another mailbox brings that mailbox along.
    const uint64_t mb = MailboxOf(a, send->files_[i]);
    if (mb == target->mailbox || MailboxFd(mb) < 0) continue;
    bool seen = false;
    for (int j = 0; j < ncarried; ++j) seen = seen || carried[j] == mb;
    if (!seen) carried[ncarried++] = mb;
  }
  // One kernel message carries at most SCM_MAX_FD descriptors
  // (docs/DIFFERENCES.md).
  if (nkernel + ncarried > kScmMaxFd) return -ETOOMANYREFS;
  for (int j = 0; j < ncarried; ++j) park[nkernel + j] = MailboxFd(carried[j]);
  ScmBlock* b = NewBlock(a, size_t(send->n_ + ncarried), cred);
  if (b == nullptr) return -ENOBUFS;
  const Off off = a->OffsetOf(b);
  b->parked = static_cast<uint32_t>(nkernel + ncarried);
  b->mailbox = target->mailbox;
  ScmEntry* e = b->entries();
  for (int i = 0; i < send->n_; ++i) {
    const bool shunt = send->files_[i] != 0;
    e[i] = ScmEntry{shunt ? ScmKind::kShunt : ScmKind::kKernel, 0,
                    send->files_[i]};
  }
  for (int j = 0; j < ncarried; ++j)
    e[send->n_ + j] = ScmEntry{ScmKind::kMailbox, 0, carried[j]};
  if (b->parked != 0) {
    const MailboxToken t{off, b->serial.load(std::memory_order_relaxed)};
    const int n = static_cast<int>(b->parked);
    // While only this process can reach the receiver, its kernel
    // descriptors need not leave the process.
    int rc = ncarried == 0 && ExclusiveSock(target)
                 ? MailboxParkLocal(b->mailbox, t, park, n)
                 : -EXDEV;
    if (rc != 0) rc = MailboxPark(a, b->mailbox, t, park, n, nonblock);
    if (rc != 0) {
      FreeBlock(a, b);
      return rc;
    }
  }
  // The message holds references of its own (a send that must look for
  // another receiver attaches again).
  for (int i = 0; i < send->n_; ++i) {
    if (OpenFile* f = a->Ptr<OpenFile>(send->files_[i])) {
      FileGet(f);
      f->inflight.fetch_add(1, std::memory_order_release);
    }
  }
  *block = off;
  return 0;
}

Off ScmAttachCreds(ScmSend* send) {
  if (!send->attached_.valid) return 0;
  ScmBlock* b = NewBlock(send->arena_, 0, send->attached_);
  return b == nullptr ? 0 : send->arena_->OffsetOf(b);
}

ScmCred ScmCredOf(Arena* a, Off block) {
  const ScmBlock* b = block == 0 ? nullptr : a->Ptr<ScmBlock>(block);
  return b == nullptr ? ScmCred{} : b->cred;
}

bool ScmTokenLive(Arena* a, const MailboxToken& t) {
  const ScmBlock* b = a->Ptr<ScmBlock>(t.block);
  return b != nullptr && t.serial != 0 &&
         b->serial.load(std::memory_order_acquire) == t.serial;
}

void ScmRelease(Arena* a, Off block) {
  if (block == 0) return;  // most segments carry no block
  ScmReceived dropped(a);
  ScmTake(a, block, false, true, &dropped);
  if (ScmBlock* b = BlockAt(a, block)) FreeBlock(a, b);
}

bool ScmHasFds(Arena* a, Off block) {
  const ScmBlock* b = block == 0 ? nullptr : a->Ptr<ScmBlock>(block);
  return b != nullptr && b->count != 0;
}

int ScmFdCount(Arena* a, Off block) {
  ScmBlock* b = BlockAt(a, block);
  int n = 0;
  for (uint32_t i = 0; b != nullptr && i < b->count; ++i)
    n += b->entries()[i].kind != ScmKind::kMailbox;
  return n;
}

int ScmTake(Arena* a, Off block, bool peek, bool cloexec, ScmReceived* out) {
  ScmBlock* b = BlockAt(a, block);
  if (b == nullptr) return -EIO;
  int kfds[kScmMaxFd];
  int kn = 0;
  if (b->parked != 0) {
    // A mailbox this process cannot reach keeps the descriptors until a
    // search there finds the block gone (fd/mailbox.cc).
    const MailboxToken t{block, b->serial.load(std::memory_order_relaxed)};
    if (MailboxFetch(a, b->mailbox, t, cloexec, peek, kfds, &kn) != 0) kn = 0;
  }
  int k = 0;
  const ScmEntry* e = b->entries();
  for (uint32_t i = 0; i < b->count; ++i) {
    switch (e[i].kind) {
      case ScmKind::kShunt:
        if (OpenFile* f = a->Ptr<OpenFile>(e[i].value)) {
          if (peek)
            FileGet(f);  // scm_fp_dup
          else
            f->inflight.fetch_sub(1, std::memory_order_release);
          out->kind_[out->n_] = ScmKind::kShunt;
          out->value_[out->n_++] = e[i].value;
        }
        break;
      case ScmKind::kKernel:
        if (k < kn) {
          out->kind_[out->n_] = ScmKind::kKernel;
          out->value_[out->n_++] = static_cast<uint64_t>(kfds[k++]);
        } else if (out->deliverable_ > out->n_) {
          out->deliverable_ = out->n_;  // its number could not be had
        }
        break;
      case ScmKind::kMailbox:
        if (k < kn) {
          MailboxAdopt(e[i].value, kfds[k++]);
          out->mailbox_[out->mailboxes_++] = e[i].value;
        }
        break;
    }
    if (out->n_ == kScmMaxFd) break;
  }
  for (; k < kn; ++k) close(kfds[k]);
  if (!peek) b->count = b->parked = 0;  // the credentials stay
  return 0;
}

void ScmReceived::Release(int from) {
  for (int i = from; i < n_; ++i) {
    if (kind_[i] == ScmKind::kShunt)
      FilePut(arena_, arena_->Ptr<OpenFile>(value_[i]));
    else
      close(static_cast<int>(value_[i]));
  }
  n_ = from;
}

ScmReceived::~ScmReceived() {
  Release(0);
  for (int j = 0; j < mailboxes_; ++j)
    MailboxForgetIfUnused(arena_, mailbox_[j]);
}

// net/core/scm.c: put_cmsg: a header and as much of the data as fits; no
// buffer at all is truncation whatever its length says.
void PutCmsg(MsgArgs* m, int level, int type, const void* data, size_t len) {
  if (m->control == nullptr || m->controllen < sizeof(cmsghdr)) {
    m->msg_flags |= MSG_CTRUNC;
    return;
  }
  size_t cmlen = CMSG_LEN(len);
  if (m->controllen < cmlen) {
    m->msg_flags |= MSG_CTRUNC;
    cmlen = m->controllen;
  }
  cmsghdr h{};
  h.cmsg_len = cmlen;
  h.cmsg_level = level;
  h.cmsg_type = type;
  auto* out = static_cast<uint8_t*>(m->control);
  if (m->control_user) {
    if (!CopyUser(out, &h, sizeof h) ||
        !CopyUser(out + sizeof h, data, cmlen - sizeof h))
      return;
  } else {
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, data, cmlen - sizeof h);
  }
  cmlen = CMSG_SPACE(len) < m->controllen ? CMSG_SPACE(len) : m->controllen;
  m->control = out + cmlen;
  m->controllen -= cmlen;
  m->control_used += cmlen;
}

void ScmDeliver(ScmReceived* in, MsgArgs* m, bool passcred, bool passsec) {
  // A kernel descriptor that found no number ends the message there.
  if (in->deliverable_ != kScmMaxFd) m->msg_flags |= MSG_CTRUNC;
  const bool has_fds = in->n_ != 0 || in->peeked_ != 0;
  // __scm_recv_common: no control buffer at all truncates what there is
  // or might be to report.
  if (m->control == nullptr) {
    if (has_fds || passcred || passsec) m->msg_flags |= MSG_CTRUNC;
    return;
  }
  if (!has_fds && !passcred) return;
  if (passcred) {
    // A message sent before SO_PASSCRED was set carries none: pid 0 and
    // the overflow ids (INVALID_UID munged). With no message at all the
    // receiver's zeroed scm_cookie is what scm_recv reports: all zero.
    const ScmCred& c = in->cred_;
    const ucred u = !in->message_ ? ucred{0, 0, 0}
                    : c.valid     ? ucred{c.pid, c.uid, c.gid}
                                  : ucred{0, kOverflowId, kOverflowId};
    PutCmsg(m, SOL_SOCKET, SCM_CREDENTIALS, &u, sizeof u);
  }
  if (in->peeked_ != 0) {
    // NonStop: the space the descriptors need, and nothing written.
    size_t need = CMSG_SPACE(in->peeked_ * sizeof(int));
    if (need > m->controllen) need = m->controllen;
    m->control_used += need;
    return;
  }
  // A kernel-style caller's buffer gets no descriptors (scm_detach_fds
  // refuses kernel buffers).
  if (in->n_ == 0 || !m->control_user) return;
  const size_t room = m->controllen;
  int fdmax = room <= sizeof(cmsghdr)
                  ? 0
                  : static_cast<int>((room - sizeof(cmsghdr)) / sizeof(int));
  if (fdmax > in->n_) fdmax = in->n_;
  if (fdmax > in->deliverable_) fdmax = in->deliverable_;
  const bool cloexec = m->msg_flags & MSG_CMSG_CLOEXEC;
  // The kernel descriptors already have numbers (the lowest free, in
  // order). If a shunt one comes first, they are moved aside and numbered
  // again in message order, as receive_fd numbers them.
  bool reorder = false;
  bool shunt_seen = false;
  for (int i = 0; i < fdmax; ++i) {
    if (in->kind_[i] == ScmKind::kShunt)
      shunt_seen = true;
    else if (shunt_seen)
      reorder = true;
  }
  if (reorder) {
    int high = 0;
    for (int i = 0; i < fdmax; ++i)
      if (in->kind_[i] == ScmKind::kKernel && int(in->value_[i]) > high)
        high = static_cast<int>(in->value_[i]);
    for (int i = 0; i < fdmax; ++i) {
      if (in->kind_[i] != ScmKind::kKernel) continue;
      const int old = static_cast<int>(in->value_[i]);
      const int moved = fcntl(old, F_DUPFD_CLOEXEC, high + 1);
      if (moved < 0) continue;
      close(old);
      in->value_[i] = static_cast<uint64_t>(moved);
    }
  }
  int fds[kScmMaxFd];
  int i = 0;
  for (; i < fdmax; ++i) {
    if (in->kind_[i] == ScmKind::kKernel) {
      int fd = static_cast<int>(in->value_[i]);
      if (reorder) {
        const int renumbered =
            fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
        if (renumbered < 0) break;
        close(fd);
        fd = renumbered;
        in->value_[i] = static_cast<uint64_t>(fd);
      }
      fds[i] = fd;
      continue;
    }
    OpenFile* f = in->arena_->Ptr<OpenFile>(in->value_[i]);
    const bool nonblock = f->status.load(std::memory_order_relaxed) & 04000;
    const int fd = NewPlaceholder((cloexec ? SOCK_CLOEXEC : 0) |
                                  (nonblock ? SOCK_NONBLOCK : 0));
    if (fd < 0) break;
    fds[i] = fd;
  }
  const int got = i;
  if (got > 0) {
    // The header and the numbers, then the entries become the caller's.
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(got * sizeof(int));
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = SCM_RIGHTS;
    auto* out = static_cast<uint8_t*>(m->control);
    if (!CopyUser(out, &h, sizeof h) ||
        !CopyUser(out + CMSG_LEN(0), fds, got * sizeof(int))) {
      for (int j = 0; j < got; ++j)
        if (in->kind_[j] == ScmKind::kShunt) DropPlaceholder(fds[j]);
      in->Release(0);
      m->msg_flags |= MSG_CTRUNC;
      return;
    }
    for (int j = 0; j < got; ++j)
      if (in->kind_[j] == ScmKind::kShunt) InstallFd(fds[j], in->value_[j]);
    size_t used = CMSG_SPACE(got * sizeof(int));
    if (used > room) used = room;
    m->control = out + used;
    m->controllen -= used;
    m->control_used += used;
  }
  // Delivered entries are the caller's now; the rest is released.
  if (got < in->n_ || in->deliverable_ != kScmMaxFd) m->msg_flags |= MSG_CTRUNC;
  in->Release(got);
  in->n_ = 0;
}

}  // namespace shunt

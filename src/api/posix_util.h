// Helpers shared by the POSIX-shaped calls: errno conversion, arena
// attachment, and copying caller structures in and out the way net/socket.c
// does (EFAULT for bad pointers, its length rules).
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "arena/arena.h"
#include "base/export.h"
#include "base/user_copy.h"
#include "fd/fd_table.h"
#include "net/sock.h"

namespace shunt {

// Converts a socket-layer result (negative errno) to the POSIX convention.
inline long PosixResult(long r) {
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

// MSG_CMSG_COMPAT: refused from user space by the msghdr-taking calls.
constexpr int kMsgCmsgCompat = static_cast<int>(0x80000000u);

// MAX_RW_COUNT: the most one call moves.
constexpr size_t kMaxRwCount = 0x7ffff000;

// An address copied in from the caller (move_addr_to_kernel), with room
// for the terminator unix_mkname_bsd adds.
struct KernelAddr {
  sockaddr_storage storage;
  char terminator;
  socklen_t len;
};
int CopyAddrIn(const sockaddr* uaddr, socklen_t ulen, KernelAddr* out);
// net/socket.c: move_addr_to_user: stores the full length in *ulen (unless
// *ulen is negative: EINVAL), then copies min(*ulen, name.len) bytes. The
// callers that take a null uaddr to mean no name (accept, recvfrom,
// recvmsg) check it themselves; getsockname does not.
int CopyAddrOut(const UnixAddress& name, sockaddr* uaddr, socklen_t* ulen);

// A msghdr and its iovec copied in (copy_msghdr_from_user, import_iovec).
struct KernelMsg {
  msghdr hdr{};
  iovec fast_iov[8];
  iovec* iov = fast_iov;
  size_t size = 0;
  size_t control_used = 0;  // receive: bytes of msg_control filled
  // An earlier message of the same recvmmsg/sendmmsg went through
  // (MsgArgs::batch_progress).
  bool batch_progress = false;
  KernelAddr name;
  KernelMsg() = default;
  KernelMsg(const KernelMsg&) = delete;
  KernelMsg& operator=(const KernelMsg&) = delete;
  ~KernelMsg();
};
// `sending`: the name is a destination to copy in.
int CopyMsgIn(const msghdr* umsg, bool sending, KernelMsg* out);
// Validates and sums an iovec array already in our memory.
int ImportIovec(const iovec* uiov, size_t n, KernelMsg* out);

// The receive and send paths of every call in the family.
ssize_t RecvOn(const Sock& s, KernelMsg* km, int flags, UnixAddress* from);
ssize_t SendOn(const Sock& s, KernelMsg* km, int flags);
// Completes a recvmsg: name, msg_flags and msg_controllen written back.
int FinishRecvmsg(msghdr* umsg, const KernelMsg& km, const UnixAddress& from,
                  int msg_flags);
// The end of FinishRecvmsg, for a receive that reports no name: msg_flags,
// then msg_controllen (the bytes of control messages written). Inline: the
// recvmsg fast path ends with it.
[[gnu::always_inline]] inline int PutRecvmsgResult(msghdr* umsg, int msg_flags,
                                                   size_t control_used) {
  if (!CopyUser(&umsg->msg_flags, &msg_flags, sizeof msg_flags)) return -EFAULT;
  if (!CopyUser(&umsg->msg_controllen, &control_used, sizeof control_used))
    return -EFAULT;
  return 0;
}

}  // namespace shunt

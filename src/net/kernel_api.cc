// The kernel-style C interface of the socket layer (shunt_sock_*,
// shunt_kernel_*): the same operations the POSIX layer calls, on
// caller-held socket handles, returning negative errnos.
#include "net/kernel_api.h"

#include <errno.h>
#include <fcntl.h>
#include <shunt/shunt.h>
#include <string.h>

#include <vector>

#include "base/export.h"
#include "net/sock.h"

using namespace shunt;  // NOLINT: C boundary

namespace {

static_assert(sizeof(kvec) == sizeof(iovec) &&
              offsetof(kvec, iov_len) == offsetof(iovec, iov_len));

bool ToSock(struct shunt_socket* s, Sock* out, int flags = 0) {
  if (s == nullptr || !SockFromFile(s->arena, s->file, out)) return false;
  NoteSockChange();  // any call may change the socket (net/pair_view.h)
  out->extra_status = static_cast<uint32_t>(flags & O_NONBLOCK);
  return true;
}

// The kernel-style calls report errors only by return value: whatever the
// layers below leave in errno (mknod, stat, ...) is put back.
class ErrnoGuard {
 public:
  ErrnoGuard() : saved_(errno) {}
  ~ErrnoGuard() { errno = saved_; }

 private:
  int saved_;
};

// Message arguments for the first `size` bytes of vec[0..num), which the
// kernel's iov_iter_kvec would cover (no limit on num); `iov` receives the
// entries and must outlive the arguments.
MsgArgs KvecArgs(const kvec* vec, size_t num, size_t size,
                 std::vector<iovec>* iov) {
  MsgArgs m{};
  for (size_t i = 0; i < num && size > 0; ++i) {
    const size_t len = vec[i].iov_len < size ? vec[i].iov_len : size;
    iov->push_back(iovec{vec[i].iov_base, len});
    m.size += len;
    size -= len;
  }
  m.iov = iov->data();
  m.iovlen = iov->size();
  return m;
}

}  // namespace

extern "C" {

SHUNT_EXPORT int shunt_sock_create(int family, int type, int protocol,
                                   struct shunt_socket** res) {
  ErrnoGuard keep_errno;
  int err = 0;
  Arena* a = AttachArena(&err);
  if (a == nullptr) return err;
  Off file = 0;
  if (const int rc = SockCreate(a, family, type, protocol, &file); rc != 0)
    return rc;
  *res = new ShuntSocketHandle{a, file};
  return 0;
}

SHUNT_EXPORT void shunt_sock_release(struct shunt_socket* sock) {
  ErrnoGuard keep_errno;
  if (sock == nullptr) return;
  if (OpenFile* f = sock->arena->Ptr<OpenFile>(sock->file))
    FilePut(sock->arena, f);
  delete sock;
}

SHUNT_EXPORT int shunt_kernel_bind(struct shunt_socket* sock,
                                   const sockaddr* addr, int addrlen) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s)) return -EBADF;
  return SockBind(s, addr, static_cast<socklen_t>(addrlen));
}

SHUNT_EXPORT int shunt_kernel_connect(struct shunt_socket* sock,
                                      const sockaddr* addr, int addrlen,
                                      int flags) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s, flags)) return -EBADF;
  return SockConnect(s, addr, static_cast<socklen_t>(addrlen));
}

SHUNT_EXPORT int shunt_kernel_listen(struct shunt_socket* sock, int backlog) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s)) return -EBADF;
  return SockListen(s, backlog);
}

SHUNT_EXPORT int shunt_kernel_accept(struct shunt_socket* sock,
                                     struct shunt_socket** newsock, int flags) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s, flags)) return -EBADF;
  Off file = 0;
  if (const int rc = SockAccept(s, false, &file, nullptr); rc != 0) return rc;
  *newsock = new ShuntSocketHandle{s.arena, file};
  return 0;
}

SHUNT_EXPORT int shunt_kernel_shutdown(struct shunt_socket* sock, int how) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s)) return -EBADF;
  return SockShutdown(s, how);
}

SHUNT_EXPORT int shunt_kernel_sendmsg(struct shunt_socket* sock, msghdr* msg,
                                      kvec* vec, size_t num, size_t size) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s)) return -EBADF;
  std::vector<iovec> iov;
  MsgArgs m = KvecArgs(vec, num, size, &iov);
  m.name = static_cast<const sockaddr*>(msg->msg_name);
  m.namelen = msg->msg_name != nullptr ? msg->msg_namelen : 0;
  // Control messages in the caller's (kernel) memory, as kernel_sendmsg
  // passes them; descriptors are this process's.
  m.control = msg->msg_control;
  m.controllen = msg->msg_control != nullptr ? msg->msg_controllen : 0;
  return static_cast<int>(SockSendmsg(s, &m, msg->msg_flags));
}

SHUNT_EXPORT int shunt_kernel_recvmsg(struct shunt_socket* sock, msghdr* msg,
                                      kvec* vec, size_t num, size_t size,
                                      int flags) {
  ErrnoGuard keep_errno;
  Sock s;
  if (!ToSock(sock, &s)) return -EBADF;
  std::vector<iovec> iov;
  MsgArgs m = KvecArgs(vec, num, size, &iov);
  UnixAddress from{};
  m.from = msg->msg_name != nullptr ? &from : nullptr;
  // A control buffer in kernel memory: put_cmsg fills it and advances
  // msg_control, shrinking msg_controllen; descriptors are not installed
  // for kernel callers (scm_detach_fds), they are released.
  m.control = msg->msg_control;
  m.controllen = msg->msg_control != nullptr ? msg->msg_controllen : 0;
  m.control_user = false;
  const ssize_t r = SockRecvmsg(s, &m, flags);
  msg->msg_flags |= m.msg_flags;
  msg->msg_control = m.control;
  msg->msg_controllen = m.controllen;
  if (r < 0) return static_cast<int>(r);
  // unix_copy_addr: only a sender with a name is reported.
  if (msg->msg_name != nullptr && from.len != 0) {
    const size_t n = from.len < msg->msg_namelen ? from.len : msg->msg_namelen;
    memcpy(msg->msg_name, from.bytes, n);
    msg->msg_namelen = from.len;
  }
  // Leave the unfilled portion in vec, as kernel_recvmsg(9) documents.
  size_t left = m.copied;
  for (size_t i = 0; i < num && left > 0; ++i) {
    const size_t k = vec[i].iov_len < left ? vec[i].iov_len : left;
    vec[i].iov_base = static_cast<char*>(vec[i].iov_base) + k;
    vec[i].iov_len -= k;
    left -= k;
  }
  return static_cast<int>(r);
}

}  // extern "C"

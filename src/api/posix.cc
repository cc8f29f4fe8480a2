// The POSIX-shaped calls: look the descriptor up, call the socket layer,
// convert the result. A descriptor that is not a shunt socket goes to the
// kernel unchanged. Argument copying follows net/socket.c so that bad
// pointers and lengths get the kernel's errno.
#include <fcntl.h>
#include <limits.h>
#include <shunt/shunt.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "api/posix_util.h"
#include "base/user_copy.h"
#include "net/fast_path.h"
#include "net/kernel_api.h"

using namespace shunt;  // NOLINT: this file is the C boundary

namespace {

// fs/fcntl.c: setfl. The flags F_SETFL may change on a socket; the others
// are ignored, and O_DIRECT is refused (sockets have no direct I/O).
int SetStatusFlags(OpenFile* of, long arg) {
  constexpr uint32_t kSettable = O_APPEND | O_NONBLOCK | O_ASYNC | O_NOATIME;
  if (arg & O_DIRECT) return -EINVAL;
  uint32_t old = of->status.load();
  while (!of->status.compare_exchange_weak(
      old, (old & ~kSettable) | (static_cast<uint32_t>(arg) & kSettable))) {
  }
  return 0;
}

int NewSocketFd(Arena* a, Off file, int type_flags) {
  return static_cast<int>(PosixResult(InstallNewFd(a, file, type_flags)));
}

// Common body of recvfrom and read: one caller buffer (the twin of
// SendSimple).
ssize_t RecvSimple(const Sock& s, void* buf, size_t len, int flags,
                   sockaddr* uaddr, socklen_t* ulen) {
  KernelMsg km;
  if (len > kMaxRwCount) len = kMaxRwCount;
  km.iov[0] = iovec{buf, len};
  km.hdr.msg_iov = km.iov;
  km.hdr.msg_iovlen = 1;
  km.size = len;
  UnixAddress from{};
  const ssize_t r = RecvOn(s, &km, flags, uaddr != nullptr ? &from : nullptr);
  if (r >= 0 && uaddr != nullptr) {
    if (const int rc = CopyAddrOut(from, uaddr, ulen); rc != 0) return rc;
  }
  return r;
}

ssize_t SendSimple(const Sock& s, const void* buf, size_t len, int flags,
                   const sockaddr* addr, socklen_t addrlen) {
  KernelMsg km;
  if (len > kMaxRwCount) len = kMaxRwCount;
  km.iov[0] = iovec{const_cast<void*>(buf), len};
  km.hdr.msg_iov = km.iov;
  km.hdr.msg_iovlen = 1;
  km.size = len;
  if (addr != nullptr) {
    if (const int rc = CopyAddrIn(addr, addrlen, &km.name); rc != 0) return rc;
    km.hdr.msg_namelen = addrlen;
  }
  return SendOn(s, &km, flags);
}

int SockTypeFlags(const Sock& s) {
  return s.sk->type == SOCK_SEQPACKET ? MSG_EOR : 0;
}

}  // namespace

extern "C" {

SHUNT_EXPORT int shunt_is_socket(int fd) { return PeekFd(fd) != 0; }

// sockfd_lookup: the fd layer's bridge into the kernel-style interface.
SHUNT_EXPORT struct shunt_socket* shunt_sockfd_lookup(int fd, int* err) {
  FileRef ref;
  if (!LookupFd(fd, &ref)) {
    const int saved = errno;  // the kernel-style API never sets errno
    *err = fcntl(fd, F_GETFD) < 0 ? -EBADF : -ENOTSOCK;
    errno = saved;
    return nullptr;
  }
  FileGet(ref.sock().file);
  return new ShuntSocketHandle{ref.sock().arena,
                               ref.sock().arena->OffsetOf(ref.sock().file)};
}

SHUNT_EXPORT int shunt_socket(int domain, int type, int protocol) {
  if (domain != AF_UNIX) return socket(domain, type, protocol);
  int err = 0;
  Arena* a = AttachArena(&err);
  if (a == nullptr) return static_cast<int>(PosixResult(err));
  Off file = 0;
  if (const int rc = SockCreate(a, domain, type, protocol, &file); rc != 0)
    return static_cast<int>(PosixResult(rc));
  return NewSocketFd(a, file, type);
}

SHUNT_EXPORT int shunt_socketpair(int domain, int type, int protocol,
                                  int sv[2]) {
  if (domain != AF_UNIX) return socketpair(domain, type, protocol, sv);
  // __sys_socketpair's order: flag bits, then two descriptor numbers,
  // written out before the sockets exist (a later failure leaves them in
  // sv), then the sockets.
  if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
    return static_cast<int>(PosixResult(-EINVAL));
  int err = 0;
  Arena* a = AttachArena(&err);
  if (a == nullptr) return static_cast<int>(PosixResult(err));
  int fds[2] = {NewPlaceholder(type), -1};
  if (fds[0] < 0) return static_cast<int>(PosixResult(fds[0]));
  fds[1] = NewPlaceholder(type);
  if (fds[1] < 0) {
    DropPlaceholder(fds[0]);
    return static_cast<int>(PosixResult(fds[1]));
  }
  Off files[2];
  if (!CopyUser(sv, fds, sizeof fds)) {
    err = -EFAULT;
  } else {
    err = SockPair(a, domain, type, protocol, files);
  }
  if (err != 0) {
    DropPlaceholder(fds[0]);
    DropPlaceholder(fds[1]);
    return static_cast<int>(PosixResult(err));
  }
  InstallFd(fds[0], files[0]);
  InstallFd(fds[1], files[1]);
  return 0;
}

SHUNT_EXPORT int shunt_bind(int fd, const sockaddr* addr, socklen_t len) {
  FileRef f;
  if (!LookupFd(fd, &f)) return bind(fd, addr, len);
  KernelAddr ka;
  if (const int rc = CopyAddrIn(addr, len, &ka); rc != 0)
    return static_cast<int>(PosixResult(rc));
  return static_cast<int>(PosixResult(
      SockBind(f.sock(), reinterpret_cast<const sockaddr*>(&ka.storage), len)));
}

SHUNT_EXPORT int shunt_listen(int fd, int backlog) {
  FileRef f;
  if (!LookupFd(fd, &f)) return listen(fd, backlog);
  return static_cast<int>(PosixResult(SockListen(f.sock(), backlog)));
}

SHUNT_EXPORT int shunt_accept4(int fd, sockaddr* addr, socklen_t* len,
                               int flags) {
  FileRef f;
  if (!LookupFd(fd, &f)) return accept4(fd, addr, len, flags);
  // __sys_accept4: the descriptor first (EBADF), then the flags.
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
    return static_cast<int>(PosixResult(-EINVAL));
  // Then the number, before any wait (get_unused_fd_flags): with none
  // free, EMFILE at once and the connection stays queued.
  const int nfd = NewPlaceholder(flags);
  if (nfd < 0) return static_cast<int>(PosixResult(nfd));
  Off file = 0;
  UnixAddress peer{};
  const int rc = SockAccept(f.sock(), flags & SOCK_NONBLOCK, &file, &peer);
  if (rc != 0) {
    DropPlaceholder(nfd);  // put_unused_fd
    return static_cast<int>(PosixResult(rc));
  }
  InstallFd(nfd, file);
  if (const int crc = addr != nullptr ? CopyAddrOut(peer, addr, len) : 0;
      crc != 0) {
    shunt_close(nfd);  // do_accept: the connection is lost with the error
    return static_cast<int>(PosixResult(crc));
  }
  return nfd;
}

SHUNT_EXPORT int shunt_accept(int fd, sockaddr* addr, socklen_t* len) {
  return shunt_accept4(fd, addr, len, 0);  // accept(2) is accept4 with 0
}

SHUNT_EXPORT int shunt_connect(int fd, const sockaddr* addr, socklen_t len) {
  FileRef f;
  if (!LookupFd(fd, &f)) return connect(fd, addr, len);
  KernelAddr ka;
  if (const int rc = CopyAddrIn(addr, len, &ka); rc != 0)
    return static_cast<int>(PosixResult(rc));
  return static_cast<int>(PosixResult(SockConnect(
      f.sock(), reinterpret_cast<const sockaddr*>(&ka.storage), len)));
}

SHUNT_EXPORT ssize_t shunt_sendto(int fd, const void* buf, size_t len,
                                  int flags, const sockaddr* addr,
                                  socklen_t addrlen) {
  FileRef f;
  if (!LookupFd(fd, &f)) return sendto(fd, buf, len, flags, addr, addrlen);
  return PosixResult(SendSimple(f.sock(), buf, len, flags, addr, addrlen));
}

namespace {

// shunt_send and shunt_recv past their single-threaded fast path. A
// multi-threaded process tries the (locked) fast path here, after the
// lookup; a single-threaded one already has, and must not again: a pair
// view made now, after the lookup moved the socket epoch, would not see
// what the general path then changes (net/pair_view.h).
[[gnu::noinline]] ssize_t SendGeneral(int fd, const void* buf, size_t len,
                                      int flags) {
  FileRef f;
  if (!LookupFd(fd, &f)) return send(fd, buf, len, flags);
  if (len > kMaxRwCount) len = kMaxRwCount;
  if (!__libc_single_threaded) {
    const long r = SockSendFast(f.sock().arena, f.sock().sk, buf, len, flags);
    if (r != kWouldBlock) return r;
  }
  // __sys_sendto with no address, as send is in Linux.
  return PosixResult(SendSimple(f.sock(), buf, len, flags, nullptr, 0));
}

[[gnu::noinline]] ssize_t RecvGeneral(int fd, void* buf, size_t len,
                                      int flags) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return recv(fd, buf, len, flags);
  if (len > kMaxRwCount) len = kMaxRwCount;
  if (!__libc_single_threaded) {
    const long r = SockRecvFast(f.sock().arena, f.sock().sk, buf, len, flags);
    if (r != kWouldBlock) return r;
  }
  // __sys_recvfrom with no address, as recv is in Linux.
  return PosixResult(RecvSimple(f.sock(), buf, len, flags, nullptr, nullptr));
}

// The longest iovec array the vectored fast paths copy in.
constexpr size_t kFastIovMax = 8;

// The fast path of readv and recvmsg (single-threaded, sk borrowed): copies
// in 1 to kFastIovMax entries and receives into them. kWouldBlock, having
// changed nothing, for anything ImportIovec would refuse, clamp or find
// empty: the general path gives those their answers.
[[gnu::always_inline]] inline long RecvIovFast(SockState* sk, const iovec* uiov,
                                               size_t n, int flags,
                                               int* msg_flags) {
  if (n - 1 >= kFastIovMax) return kWouldBlock;
  iovec iov[kFastIovMax];
  if (!CopyUser(iov, uiov, n * sizeof(iovec))) return kWouldBlock;
  size_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    if (iov[i].iov_len > kMaxRwCount) return kWouldBlock;
    size += iov[i].iov_len;
  }
  if (size == 0 || size > kMaxRwCount) return kWouldBlock;
  // A borrowed entry implies the arena is attached.
  return SockRecvmsgFast(Arena::IfAttached(), sk, iov, n, size, flags,
                         msg_flags);
}

// recvmsg asking for no name, with plain flags: ___sys_recvmsg's copy-in and
// write-back around RecvIovFast.
[[gnu::always_inline]] inline long RecvmsgFast(SockState* sk, msghdr* umsg,
                                               int flags) {
  if (flags & ~(MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) return kWouldBlock;
  msghdr h;
  if (!CopyUser(&h, umsg, sizeof h) || h.msg_name != nullptr)
    return kWouldBlock;
  int msg_flags = flags & MSG_CMSG_CLOEXEC;  // ___sys_recvmsg echoes it
  const long r = RecvIovFast(sk, h.msg_iov, h.msg_iovlen, flags & MSG_DONTWAIT,
                             &msg_flags);
  if (r == kWouldBlock) return r;
  if (const int rc = PutRecvmsgResult(umsg, msg_flags, 0); rc != 0)
    return PosixResult(rc);
  return r;
}

// read: recv with no flags, but a read of nothing returns 0 at once.
[[gnu::always_inline]] inline long ReadFast(SockState* sk, void* buf,
                                            size_t count) {
  if (count == 0) return kWouldBlock;
  return SockRecvFast(Arena::IfAttached(), sk, buf, count, 0);
}

// write: send with no flags; a seqpacket write is a record (MSG_EOR),
// which the fast path leaves to the general one.
[[gnu::always_inline]] inline long WriteFast(SockState* sk, const void* buf,
                                             size_t count) {
  if (sk->type == SOCK_SEQPACKET) return kWouldBlock;
  return SockSendFast(Arena::IfAttached(), sk, buf, count, 0);
}

[[gnu::always_inline]] inline long ReadvFast(SockState* sk, const iovec* iov,
                                             int iovcnt) {
  if (iovcnt <= 0) return kWouldBlock;
  int msg_flags = 0;  // readv reports no truncation
  return RecvIovFast(sk, iov, static_cast<size_t>(iovcnt), 0, &msg_flags);
}

[[gnu::noinline]] ssize_t ReadGeneral(int fd, void* buf, size_t count) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return read(fd, buf, count);
  if (!__libc_single_threaded) {  // see SendGeneral
    const long r = ReadFast(f.sock().sk, buf, count);
    if (r != kWouldBlock) return r;
  }
  if (count == 0) return 0;  // sock_read_iter: SysV behaviour
  return PosixResult(RecvSimple(f.sock(), buf, count, 0, nullptr, nullptr));
}

[[gnu::noinline]] ssize_t WriteGeneral(int fd, const void* buf, size_t count) {
  FileRef f;
  if (!LookupFd(fd, &f)) return write(fd, buf, count);
  if (!__libc_single_threaded) {
    const long r = WriteFast(f.sock().sk, buf, count);
    if (r != kWouldBlock) return r;
  }
  // sock_write_iter: seqpacket writes are records (MSG_EOR).
  return PosixResult(
      SendSimple(f.sock(), buf, count, SockTypeFlags(f.sock()), nullptr, 0));
}

[[gnu::noinline]] ssize_t ReadvGeneral(int fd, const iovec* iov, int iovcnt) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return readv(fd, iov, iovcnt);
  if (!__libc_single_threaded) {
    const long r = ReadvFast(f.sock().sk, iov, iovcnt);
    if (r != kWouldBlock) return r;
  }
  if (iovcnt < 0 || iovcnt > IOV_MAX) return PosixResult(-EINVAL);
  KernelMsg km;
  if (const int rc = ImportIovec(iov, static_cast<size_t>(iovcnt), &km);
      rc != 0)
    return PosixResult(rc);
  if (km.size == 0) return 0;  // sock_read_iter
  return PosixResult(RecvOn(f.sock(), &km, 0, nullptr));
}

[[gnu::noinline]] ssize_t RecvmsgGeneral(int fd, msghdr* msg, int flags) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return recvmsg(fd, msg, flags);
  if (!__libc_single_threaded) {
    const long r = RecvmsgFast(f.sock().sk, msg, flags);
    if (r != kWouldBlock) return r;
  }
  if (flags & kMsgCmsgCompat) return PosixResult(-EINVAL);
  KernelMsg km;
  if (const int rc = CopyMsgIn(msg, false, &km); rc != 0)
    return PosixResult(rc);
  UnixAddress from{};
  const ssize_t r = RecvOn(f.sock(), &km, flags, &from);
  if (r < 0) return PosixResult(r);
  if (const int rc = FinishRecvmsg(msg, km, from, km.hdr.msg_flags); rc != 0)
    return PosixResult(rc);
  return r;
}

}  // namespace

// The fast paths need no clamp to kMaxRwCount: they take far less.
SHUNT_EXPORT ssize_t shunt_send(int fd, const void* buf, size_t len,
                                int flags) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    // A borrowed entry implies the arena is attached.
    const long r = SockSendFast(Arena::IfAttached(), sk, buf, len, flags);
    if (r != kWouldBlock) return r;
  }
  return SendGeneral(fd, buf, len, flags);
}

SHUNT_EXPORT ssize_t shunt_write(int fd, const void* buf, size_t count) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    const long r = WriteFast(sk, buf, count);
    if (r != kWouldBlock) return r;
  }
  return WriteGeneral(fd, buf, count);
}

SHUNT_EXPORT ssize_t shunt_writev(int fd, const iovec* iov, int iovcnt) {
  FileRef f;
  if (!LookupFd(fd, &f)) return writev(fd, iov, iovcnt);
  if (iovcnt < 0 || iovcnt > IOV_MAX) return PosixResult(-EINVAL);
  KernelMsg km;
  if (const int rc = ImportIovec(iov, static_cast<size_t>(iovcnt), &km);
      rc != 0)
    return PosixResult(rc);
  // vfs_writev: a vector of no bytes returns 0 without calling the socket.
  if (km.size == 0) return 0;
  return PosixResult(SendOn(f.sock(), &km, SockTypeFlags(f.sock())));
}

SHUNT_EXPORT ssize_t shunt_sendmsg(int fd, const msghdr* msg, int flags) {
  FileRef f;
  if (!LookupFd(fd, &f)) return sendmsg(fd, msg, flags);
  if (flags & kMsgCmsgCompat) return PosixResult(-EINVAL);
  KernelMsg km;
  if (const int rc = CopyMsgIn(msg, true, &km); rc != 0) return PosixResult(rc);
  return PosixResult(SendOn(f.sock(), &km, flags));
}

SHUNT_EXPORT int shunt_sendmmsg(int fd, mmsghdr* vec, unsigned int vlen,
                                int flags) {
  FileRef f;
  if (!LookupFd(fd, &f)) return sendmmsg(fd, vec, vlen, flags);
  if (flags & kMsgCmsgCompat) return static_cast<int>(PosixResult(-EINVAL));
  // __sys_sendmmsg: at most UIO_MAXIOV messages; stop at the first error
  // or short send; an error after some messages is not reported.
  if (vlen > IOV_MAX) vlen = IOV_MAX;
  unsigned int done = 0;
  long err = 0;
  const int saved_errno = errno;  // a call that sent something sets none
  while (done < vlen) {
    KernelMsg km;
    err = CopyMsgIn(&vec[done].msg_hdr, true, &km);
    km.batch_progress = done != 0;
    if (err == 0) err = SendOn(f.sock(), &km, flags);
    if (err < 0) break;
    const unsigned int sent = static_cast<unsigned int>(err);
    if (!CopyUser(&vec[done].msg_len, &sent, sizeof sent)) {
      err = -EFAULT;
      break;
    }
    ++done;
    if (static_cast<size_t>(err) < km.size) break;
  }
  if (done != 0) {
    errno = saved_errno;
    return static_cast<int>(done);
  }
  return static_cast<int>(PosixResult(err));
}

SHUNT_EXPORT ssize_t shunt_recvfrom(int fd, void* buf, size_t len, int flags,
                                    sockaddr* addr, socklen_t* addrlen) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead))
    return recvfrom(fd, buf, len, flags, addr, addrlen);
  return PosixResult(RecvSimple(f.sock(), buf, len, flags, addr, addrlen));
}

SHUNT_EXPORT ssize_t shunt_recv(int fd, void* buf, size_t len, int flags) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    const long r = SockRecvFast(Arena::IfAttached(), sk, buf, len, flags);
    if (r != kWouldBlock) return r;
  }
  return RecvGeneral(fd, buf, len, flags);
}

SHUNT_EXPORT ssize_t shunt_read(int fd, void* buf, size_t count) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    const long r = ReadFast(sk, buf, count);
    if (r != kWouldBlock) return r;
  }
  return ReadGeneral(fd, buf, count);
}

SHUNT_EXPORT ssize_t shunt_readv(int fd, const iovec* iov, int iovcnt) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    const long r = ReadvFast(sk, iov, iovcnt);
    if (r != kWouldBlock) return r;
  }
  return ReadvGeneral(fd, iov, iovcnt);
}

SHUNT_EXPORT ssize_t shunt_recvmsg(int fd, msghdr* msg, int flags) {
  if (SockState* sk = LookupFdBorrowed(fd)) {
    const long r = RecvmsgFast(sk, msg, flags);
    if (r != kWouldBlock) return r;
  }
  return RecvmsgGeneral(fd, msg, flags);
}

SHUNT_EXPORT int shunt_recvmmsg(int fd, mmsghdr* vec, unsigned int vlen,
                                int flags, timespec* timeout) {
  FileRef f;
  if (!LookupFd(fd, &f)) return recvmmsg(fd, vec, vlen, flags, timeout);
  if (flags & kMsgCmsgCompat) return static_cast<int>(PosixResult(-EINVAL));
  // __sys_recvmmsg / do_recvmmsg.
  // The time left is kept here and written back once, at the end.
  timespec left{};
  timespec end{};
  if (timeout != nullptr) {
    if (!CopyUser(&left, timeout, sizeof left))
      return static_cast<int>(PosixResult(-EFAULT));
    if (left.tv_sec < 0 || left.tv_nsec < 0 || left.tv_nsec >= 1000000000)
      return static_cast<int>(PosixResult(-EINVAL));
    end = DeadlineAfter(left);
  }
  // No cap on vlen: do_recvmmsg has none (sendmmsg's is UIO_MAXIOV).
  const Sock& s = f.sock();
  // do_recvmmsg: a pending error first, except for MSG_ERRQUEUE.
  if (!(flags & MSG_ERRQUEUE)) {
    if (const int err = SockTakeError(s.sk); err != 0)
      return static_cast<int>(PosixResult(err));
  }
  unsigned int done = 0;
  long err = 0;
  while (done < vlen) {
    KernelMsg km;
    err = CopyMsgIn(&vec[done].msg_hdr, false, &km);
    km.batch_progress = done != 0;
    UnixAddress from{};
    if (err == 0) err = RecvOn(s, &km, flags & ~MSG_WAITFORONE, &from);
    if (err < 0) break;
    if (const int rc =
            FinishRecvmsg(&vec[done].msg_hdr, km, from, km.hdr.msg_flags);
        rc != 0) {
      err = rc;
      break;
    }
    const unsigned int got = static_cast<unsigned int>(err);
    if (!CopyUser(&vec[done].msg_len, &got, sizeof got)) {
      err = -EFAULT;
      break;
    }
    err = 0;
    ++done;
    if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
    if (timeout != nullptr) {
      const int64_t ns = NsUntil(end);
      left = timespec{ns / 1000000000, ns % 1000000000};
      if (ns == 0) break;
    }
    if (km.hdr.msg_flags & MSG_OOB) break;
  }
  if (done == 0) return static_cast<int>(PosixResult(err));
  // Messages were received: the error waits in SO_ERROR (EAGAIN aside).
  // A signal is sock_intr_errno's: ERESTARTSYS (512, which then reaches
  // the caller as it is) for a wait with no SO_RCVTIMEO, else EINTR.
  constexpr long kErestartsys = 512;
  if (err == -EINTR && s.sk->rcvtimeo.load() == 0) err = -kErestartsys;
  if (err != 0 && err != -EAGAIN) s.sk->err.store(static_cast<int32_t>(-err));
  // __sys_recvmmsg: the time left goes back only with messages received,
  // and failing to write it fails the call (they stay consumed).
  if (timeout != nullptr && !CopyUser(timeout, &left, sizeof left))
    return static_cast<int>(PosixResult(-EFAULT));
  return static_cast<int>(done);
}

SHUNT_EXPORT int shunt_shutdown(int fd, int how) {
  FileRef f;
  if (!LookupFd(fd, &f)) return shutdown(fd, how);
  return static_cast<int>(PosixResult(SockShutdown(f.sock(), how)));
}

SHUNT_EXPORT int shunt_close(int fd) {
  const Off file = CloseFd(fd);  // the placeholder too: its number is free
  if (file == 0) return close(fd);
  if (Arena* a = Arena::IfAttached()) ReleaseEntry(a, file);
  return 0;
}

SHUNT_EXPORT int shunt_getsockopt(int fd, int level, int optname, void* optval,
                                  socklen_t* optlen) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead))
    return getsockopt(fd, level, optname, optval, optlen);
  // The network namespace is the one this process's placeholder socket
  // lives in, so the kernel answers (docs/DIFFERENCES.md).
  if (level == SOL_SOCKET && optname == SO_NETNS_COOKIE)
    return getsockopt(fd, level, optname, optval, optlen);
  return static_cast<int>(
      PosixResult(SockGetOpt(f.sock(), level, optname, optval, optlen)));
}

SHUNT_EXPORT int shunt_setsockopt(int fd, int level, int optname,
                                  const void* optval, socklen_t optlen) {
  FileRef f;
  if (!LookupFd(fd, &f)) return setsockopt(fd, level, optname, optval, optlen);
  // net/socket.c: do_sock_setsockopt refuses a negative optlen first.
  if (static_cast<int>(optlen) < 0)
    return static_cast<int>(PosixResult(-EINVAL));
  return static_cast<int>(
      PosixResult(SockSetOpt(f.sock(), level, optname, optval, optlen)));
}

SHUNT_EXPORT int shunt_getsockname(int fd, sockaddr* addr, socklen_t* len) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return getsockname(fd, addr, len);
  UnixAddress name{};
  if (const int rc = SockGetName(f.sock(), false, &name); rc != 0)
    return static_cast<int>(PosixResult(rc));
  return static_cast<int>(PosixResult(CopyAddrOut(name, addr, len)));
}

SHUNT_EXPORT int shunt_getpeername(int fd, sockaddr* addr, socklen_t* len) {
  FileRef f;
  if (!LookupFd(fd, &f, FdUse::kRead)) return getpeername(fd, addr, len);
  UnixAddress name{};
  if (const int rc = SockGetName(f.sock(), true, &name); rc != 0)
    return static_cast<int>(PosixResult(rc));
  return static_cast<int>(PosixResult(CopyAddrOut(name, addr, len)));
}

SHUNT_EXPORT int shunt_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  const long arg = va_arg(ap, long);
  va_end(ap);
  const Off file = PeekFd(fd);
  if (file == 0) return fcntl(fd, cmd, arg);
  Arena* a = Arena::IfAttached();
  OpenFile* of = a->Ptr<OpenFile>(file);
  if (of == nullptr) return static_cast<int>(PosixResult(-EIO));
  // File status flags belong to the open file description, which is ours
  // (OpenFile::status): the placeholder is shared (fd/fd_table.h).
  switch (cmd) {
    case F_GETFL:
      return static_cast<int>(of->status.load());
    case F_SETFL:
      return static_cast<int>(PosixResult(SetStatusFlags(of, arg)));
    default:
      break;
  }
  SockState* sk = a->Ptr<SockState>(of->sock);
  if (sk == nullptr) return static_cast<int>(PosixResult(-EIO));
  // The owner for SIGURG is the socket's (sk_send_sigurg): F_GETOWN and
  // F_GETOWN_EX read it from there; F_SETOWN and F_SETOWN_EX have the
  // kernel check their arguments on the placeholder first.
  if (cmd == F_GETOWN) return SockOwnerValue(sk);
  if (cmd == F_GETOWN_EX) {
    const SigOwner o = SockGetOwner(sk);
    const f_owner_ex ex{static_cast<__pid_type>(o.type), o.pid};
    return CopyUser(reinterpret_cast<void*>(arg), &ex, sizeof ex)
               ? 0
               : static_cast<int>(PosixResult(-EFAULT));
  }
  if (cmd == F_SETOWN_EX) {
    // Read once: the kernel checks the very owner that is stored.
    f_owner_ex ex;
    if (!CopyUser(&ex, reinterpret_cast<const void*>(arg), sizeof ex))
      return static_cast<int>(PosixResult(-EFAULT));
    const int r = fcntl(fd, F_SETOWN_EX, &ex);
    if (r == 0) SockSetOwner(sk, SigOwner{ex.type, ex.pid});
    return r;
  }
  const int r = fcntl(fd, cmd, arg);
  if (r < 0) return r;
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) InstallDupFd(a, r, file);
  if (cmd == F_SETOWN) SockSetOwner(sk, OwnerFromValue(static_cast<int>(arg)));
  return r;
}

SHUNT_EXPORT int shunt_ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  FileRef f;
  if (!LookupFd(fd, &f)) return ioctl(fd, request, arg);
  if (request == FIONBIO || request == FIOASYNC) {
    // fs/ioctl.c: ioctl_fionbio, ioctl_fioasync: one status flag each.
    int on;
    if (!CopyUser(&on, arg, sizeof on))
      return static_cast<int>(PosixResult(-EFAULT));
    const uint32_t flag = request == FIONBIO ? O_NONBLOCK : O_ASYNC;
    if (on)
      f.sock().file->status.fetch_or(flag);
    else
      f.sock().file->status.fetch_and(~flag);
    return 0;
  }
  if (request == FIOSETOWN || request == SIOCSPGRP) {
    // sock_ioctl: f_setown with the int at arg, checked by the kernel on
    // the placeholder (ESRCH, EINVAL) as for F_SETOWN.
    int who;
    if (!CopyUser(&who, arg, sizeof who))
      return static_cast<int>(PosixResult(-EFAULT));
    if (fcntl(fd, F_SETOWN, who) < 0) return -1;
    SockSetOwner(f.sock().sk, OwnerFromValue(who));
    return 0;
  }
  bool handled = false;
  int value = 0;
  const int rc = SockIoctl(f.sock(), request, &value, &handled);
  if (!handled) return ioctl(fd, request, arg);
  if (rc != 0) return static_cast<int>(PosixResult(rc));
  if (!CopyUser(arg, &value, sizeof value))
    return static_cast<int>(PosixResult(-EFAULT));
  return 0;
}

SHUNT_EXPORT int shunt_dup(int fd) {
  const Off file = PeekFd(fd);
  const int r = dup(fd);
  if (r >= 0 && file != 0) InstallDupFd(Arena::IfAttached(), r, file);
  return r;
}

namespace {
int Dup3Common(int oldfd, int newfd, int r) {
  if (r < 0 || oldfd == newfd) return r;
  if (const Off file = PeekFd(oldfd); file != 0) {
    InstallDupFd(Arena::IfAttached(), newfd, file);
  } else if (const Off old = RemoveFd(newfd); old != 0) {
    // newfd was a shunt socket; the kernel closed its placeholder.
    ReleaseEntry(Arena::IfAttached(), old);
  }
  return r;
}
}  // namespace

SHUNT_EXPORT int shunt_dup2(int oldfd, int newfd) {
  return Dup3Common(oldfd, newfd, dup2(oldfd, newfd));
}

SHUNT_EXPORT int shunt_dup3(int oldfd, int newfd, int flags) {
  return Dup3Common(oldfd, newfd, dup3(oldfd, newfd, flags));
}

}  // extern "C"

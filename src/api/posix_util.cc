#include "api/posix_util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/user_copy.h"

namespace shunt {

int CopyAddrIn(const sockaddr* uaddr, socklen_t ulen, KernelAddr* out) {
  if (static_cast<int>(ulen) < 0 || ulen > sizeof(sockaddr_storage))
    return -EINVAL;
  memset(&out->storage, 0, sizeof out->storage);
  out->terminator = 0;
  out->len = ulen;
  if (ulen != 0 && !CopyUser(&out->storage, uaddr, ulen)) return -EFAULT;
  return 0;
}

int CopyAddrOut(const UnixAddress& name, sockaddr* uaddr, socklen_t* ulen) {
  int len;
  if (!CopyUser(&len, ulen, sizeof len)) return -EFAULT;
  const int klen = static_cast<int>(name.len);
  if (len > klen) len = klen;
  // Linux 6.x writes the full length before it copies the name, so a bad
  // name pointer still leaves the length updated.
  if (len >= 0 && !CopyUser(ulen, &klen, sizeof klen)) return -EFAULT;
  if (len == 0) return 0;
  if (len < 0) return -EINVAL;
  return CopyUser(uaddr, name.bytes, static_cast<size_t>(len)) ? 0 : -EFAULT;
}

KernelMsg::~KernelMsg() {
  if (iov != fast_iov) free(iov);
}

int ImportIovec(const iovec* uiov, size_t n, KernelMsg* out) {
  if (n > IOV_MAX) return -EMSGSIZE;
  if (n > sizeof out->fast_iov / sizeof out->fast_iov[0]) {
    out->iov = static_cast<iovec*>(malloc(n * sizeof(iovec)));
    if (out->iov == nullptr) {
      out->iov = out->fast_iov;
      return -ENOMEM;
    }
  }
  if (n != 0 && !CopyUser(out->iov, uiov, n * sizeof(iovec))) return -EFAULT;
  // iov_iter: a negative length is EINVAL; the total is capped at
  // MAX_RW_COUNT by shortening the entry that crosses it.
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t len = out->iov[i].iov_len;
    if (static_cast<ssize_t>(len) < 0) return -EINVAL;
    if (len > kMaxRwCount - total) {
      len = kMaxRwCount - total;
      out->iov[i].iov_len = len;
    }
    total += len;
  }
  out->hdr.msg_iov = out->iov;
  out->hdr.msg_iovlen = n;
  out->size = total;
  return 0;
}

int CopyMsgIn(const msghdr* umsg, bool sending, KernelMsg* out) {
  if (!CopyUser(&out->hdr, umsg, sizeof out->hdr)) return -EFAULT;
  msghdr& h = out->hdr;
  // __copy_msghdr: a null name means no name; the length is a signed int.
  if (h.msg_name == nullptr) h.msg_namelen = 0;
  if (static_cast<int>(h.msg_namelen) < 0) return -EINVAL;
  if (h.msg_namelen > sizeof(sockaddr_storage))
    h.msg_namelen = sizeof(sockaddr_storage);
  if (sending && h.msg_namelen != 0) {
    if (const int rc = CopyAddrIn(static_cast<const sockaddr*>(h.msg_name),
                                  h.msg_namelen, &out->name);
        rc != 0)
      return rc;
  }
  if (const int rc = ImportIovec(h.msg_iov, h.msg_iovlen, out); rc != 0)
    return rc;
  // Then ____sys_sendmsg refuses a control buffer above INT_MAX; a receive
  // takes any length.
  if (sending && h.msg_controllen > INT_MAX) return -ENOBUFS;
  return 0;
}

ssize_t RecvOn(const Sock& s, KernelMsg* km, int flags, UnixAddress* from) {
  MsgArgs m{};
  m.iov = km->iov;
  m.iovlen = km->hdr.msg_iovlen;
  m.size = km->size;
  m.from = from;
  m.msg_flags = flags & MSG_CMSG_CLOEXEC;  // ___sys_recvmsg echoes it
  m.control = km->hdr.msg_control;
  m.controllen = km->hdr.msg_controllen;
  m.control_user = true;
  m.batch_progress = km->batch_progress;
  const ssize_t r = SockRecvmsg(s, &m, flags);
  km->hdr.msg_flags = m.msg_flags;
  km->control_used = m.control_used;
  return r;
}

ssize_t SendOn(const Sock& s, KernelMsg* km, int flags) {
  MsgArgs m{};
  m.iov = km->iov;
  m.iovlen = km->hdr.msg_iovlen;
  m.size = km->size;
  m.batch_progress = km->batch_progress;
  if (km->hdr.msg_namelen != 0) {
    m.name = reinterpret_cast<const sockaddr*>(&km->name.storage);
    m.namelen = km->hdr.msg_namelen;
  }
  // ____sys_sendmsg copies the control messages in before the protocol
  // sees them: a buffer above optmem_max is ENOBUFS (sock_kmalloc), an
  // unreadable one EFAULT.
  const size_t ctl_len = km->hdr.msg_controllen;
  if (ctl_len == 0) return SockSendmsg(s, &m, flags);
  if (ctl_len > s.arena->limits().optmem_max) return -ENOBUFS;
  alignas(cmsghdr) uint8_t small[CMSG_SPACE(sizeof(int) * 8)];
  uint8_t* ctl = small;
  if (ctl_len > sizeof small) {
    ctl = static_cast<uint8_t*>(malloc(ctl_len));
    if (ctl == nullptr) return -ENOBUFS;
  }
  ssize_t r = -EFAULT;
  if (CopyUser(ctl, km->hdr.msg_control, ctl_len)) {
    m.control = ctl;
    m.controllen = ctl_len;
    r = SockSendmsg(s, &m, flags);
  }
  if (ctl != small) free(ctl);
  return r;
}

int FinishRecvmsg(msghdr* umsg, const KernelMsg& km, const UnixAddress& from,
                  int msg_flags) {
  // ___sys_recvmsg: the name through move_addr_to_user, then the rest.
  if (km.hdr.msg_name != nullptr) {
    if (const int rc = CopyAddrOut(
            from, static_cast<sockaddr*>(km.hdr.msg_name), &umsg->msg_namelen);
        rc != 0)
      return rc;
  }
  return PutRecvmsgResult(umsg, msg_flags, km.control_used);
}

}  // namespace shunt

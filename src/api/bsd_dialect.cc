// The 4.3BSD msghdr dialect (shunt_osendmsg, shunt_orecvmsg): access rights
// as a plain array of descriptors, carried as one SCM_RIGHTS message of the
// modern call. Linux has no such calls; the rules follow the 4.3BSD
// manual's recvmsg(2)/sendmsg(2) (see include/shunt/shunt.h).
#include <errno.h>
#include <shunt/shunt.h>
#include <string.h>

#include "api/posix_util.h"
#include "base/user_copy.h"
#include "net/scm.h"

using namespace shunt;  // NOLINT: this file is the C boundary

namespace {

// Room for the most descriptors any message carries, and the credentials
// a receiver with SO_PASSCRED gets with them.
union ControlBuffer {
  cmsghdr align;
  char bytes[CMSG_SPACE(sizeof(int) * kScmMaxFd) + CMSG_SPACE(sizeof(ucred))];
};

// The modern msghdr for o, without control messages (-EINVAL for negative
// lengths, as the 4.3BSD calls had them).
int ToMsghdr(const shunt_omsghdr& o, msghdr* m) {
  if (o.msg_namelen < 0 || o.msg_iovlen < 0 || o.msg_accrightslen < 0)
    return -EINVAL;
  *m = msghdr{};
  m->msg_name = o.msg_name;
  m->msg_namelen = static_cast<socklen_t>(o.msg_namelen);
  m->msg_iov = o.msg_iov;
  m->msg_iovlen = static_cast<size_t>(o.msg_iovlen);
  return 0;
}

}  // namespace

extern "C" {

SHUNT_EXPORT ssize_t shunt_osendmsg(int fd, const shunt_omsghdr* umsg,
                                    int flags) {
  shunt_omsghdr o;
  if (!CopyUser(&o, umsg, sizeof o)) return PosixResult(-EFAULT);
  msghdr m;
  if (const int rc = ToMsghdr(o, &m); rc != 0) return PosixResult(rc);
  const size_t n = static_cast<size_t>(o.msg_accrightslen) / sizeof(int);
  if (n > static_cast<size_t>(kScmMaxFd)) return PosixResult(-EINVAL);
  ControlBuffer control;
  if (n != 0) {
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(n * sizeof(int));
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = SCM_RIGHTS;
    memcpy(control.bytes, &h, sizeof h);
    if (!CopyUser(control.bytes + CMSG_LEN(0), o.msg_accrights,
                  n * sizeof(int)))
      return PosixResult(-EFAULT);
    m.msg_control = control.bytes;
    m.msg_controllen = CMSG_SPACE(n * sizeof(int));
  }
  return shunt_sendmsg(fd, &m, flags);
}

SHUNT_EXPORT ssize_t shunt_orecvmsg(int fd, shunt_omsghdr* umsg, int flags) {
  shunt_omsghdr o;
  if (!CopyUser(&o, umsg, sizeof o)) return PosixResult(-EFAULT);
  msghdr m;
  if (const int rc = ToMsghdr(o, &m); rc != 0) return PosixResult(rc);
  ControlBuffer control;
  m.msg_control = control.bytes;
  m.msg_controllen = sizeof control.bytes;
  const ssize_t r = shunt_recvmsg(fd, &m, flags);
  if (r < 0) return r;
  // The descriptors that fit in msg_accrights are the caller's; the
  // others are closed.
  const size_t room = static_cast<size_t>(o.msg_accrightslen) / sizeof(int);
  int fds[kScmMaxFd];
  size_t n = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && n < static_cast<size_t>(kScmMaxFd); ++i)
      memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  const size_t kept = n < room ? n : room;
  const int len = static_cast<int>(kept * sizeof(int));
  const int namelen = static_cast<int>(m.msg_namelen);
  bool ok = (kept == 0 || CopyUser(o.msg_accrights, fds, kept * sizeof(int))) &&
            CopyUser(&umsg->msg_accrightslen, &len, sizeof len) &&
            (o.msg_name == nullptr ||
             CopyUser(&umsg->msg_namelen, &namelen, sizeof namelen));
  for (size_t i = ok ? kept : 0; i < n; ++i) shunt_close(fds[i]);
  return ok ? r : PosixResult(-EFAULT);
}

}  // extern "C"

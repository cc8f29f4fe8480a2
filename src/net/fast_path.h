// The socket layer's fast paths: the common send and receive of one flat
// buffer, and the receive into a short iovec array, with plain flags, tried
// by the POSIX layer before it builds a message. Each protocol's fast path
// does exactly what its general path would when nothing has to wait, fail
// or be reported, and otherwise returns kWouldBlock having changed nothing
// (net/unix_stream.h, net/unix_dgram.h).
#pragma once

#include "net/sock.h"
#include "net/unix_dgram.h"
#include "net/unix_stream.h"

namespace shunt {

// The caller has looked sk up in arena a and keeps it alive.
[[gnu::always_inline]] inline long SockSendFast(Arena* a, SockState* sk,
                                                const void* buf, size_t n,
                                                int flags) {
  return sk->type == SOCK_STREAM ? StreamSendFast(a, sk, buf, n, flags)
                                 : DgramSendFast(a, sk, buf, n, flags);
}
[[gnu::always_inline]] inline long SockRecvFast(Arena* a, SockState* sk,
                                                void* buf, size_t n,
                                                int flags) {
  FlatCursor to(buf);
  int msg_flags = 0;  // recv reports no truncation
  return sk->type == SOCK_STREAM
             ? StreamRecvFast(a, sk, &to, n, flags)
             : DgramRecvFast(a, sk, &to, n, flags, &msg_flags);
}

// The receive of recvmsg and readv into an iovec array (already copied in
// and validated, `size` its total) with no name asked for, plain flags and
// nothing to report in control messages: with SO_PASSCRED set a read
// reports credentials (scm_recv), with SO_INQ the bytes left (SCM_INQ), so
// it takes the general path. Adds
// MSG_TRUNC to *msg_flags for a truncated datagram.
[[gnu::always_inline]] inline long SockRecvmsgFast(Arena* a, SockState* sk,
                                                   const iovec* iov,
                                                   size_t iovlen, size_t size,
                                                   int flags, int* msg_flags) {
  if (ReadReportsControl(sk)) return kWouldBlock;
  IovCursor to(iov, iovlen);
  return sk->type == SOCK_STREAM
             ? StreamRecvFast(a, sk, &to, size, flags)
             : DgramRecvFast(a, sk, &to, size, flags, msg_flags);
}

}  // namespace shunt

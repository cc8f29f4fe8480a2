/*
 * shunt: the Linux AF_UNIX socket layer in user space.
 *
 * Two interfaces live here, both usable from C and C++:
 *
 *  - The POSIX layer: shunt_<call> has exactly the signature and errno
 *    behaviour of the Linux call of the same name. Descriptors returned by
 *    shunt_socket/shunt_socketpair/shunt_accept are real kernel descriptor
 *    numbers (reserved by a placeholder object) whose socket lives in the
 *    shunt arena. A descriptor that is not a shunt socket is passed to the
 *    kernel unchanged: shunt_recv on a pipe fails with ENOTSOCK, shunt_read on
 *    a file reads the file.
 *
 *  - The kernel-style socket layer (shunt_sock_*, shunt_kernel_*), which the
 *    POSIX layer is built on. These return 0/bytes or a negative errno and
 *    never touch errno.
 *
 * The arena is named shared memory, one per user by default; SHUNT_ARENA
 * overrides the name. All processes attached to the same arena can connect to
 * each other's names.
 */
#ifndef SHUNT_SHUNT_H_
#define SHUNT_SHUNT_H_

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* Declared by glibc only under _GNU_SOURCE; named here so that plain C
 * translation units can include this header. */
struct mmsghdr;
struct timespec;

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ---- shunt-specific socket options (level SOL_SHUNT) ---------------------
 * SHUNT_SO_SPIN_NS: int, nanoseconds a blocking call on this socket spins
 * before it sleeps. The default comes from the SHUNT_SPIN_NS environment
 * variable read when the arena is first attached in a process (0 if unset).
 */
#define SOL_SHUNT 0x5348 /* 'SH' */
#define SHUNT_SO_SPIN_NS 1

/* SHUNT_SO_PERSONALITY: int, whose descriptor-passing rules the socket
 * follows. The default for new sockets is SHUNT_PERSONALITY_LINUX, or
 * SHUNT_PERSONALITY_NONSTOP if the environment of the process that created
 * the arena had SHUNT_PERSONALITY=nonstop. Other values: EINVAL.
 *
 *  SHUNT_PERSONALITY_LINUX: exactly Linux's (net/core/scm.c).
 *    - up to SCM_MAX_FD (253) descriptors per message, EINVAL beyond;
 *    - MSG_PEEK duplicates the descriptors of the message (new descriptor
 *      numbers), and the next read delivers them again;
 *    - a control buffer too small for all of them gets as many as fit,
 *      MSG_CTRUNC is set and the rest are closed.
 *
 *  SHUNT_PERSONALITY_NONSTOP: the HPE NonStop OSS rules.
 *    - up to 16 descriptors per message, EINVAL beyond (checked on the
 *      sending socket);
 *    - MSG_PEEK with a control buffer reports in msg_controllen the space
 *      the descriptors need (at most the buffer's size) but delivers none
 *      and writes no SCM_RIGHTS message: they stay for the next read;
 *    - a control buffer too small: as for Linux, MSG_CTRUNC and the
 *      excess is discarded (closed).
 *  Credentials (SCM_CREDENTIALS) are the same under both.
 */
#define SHUNT_SO_PERSONALITY 2
#define SHUNT_PERSONALITY_LINUX 0
#define SHUNT_PERSONALITY_NONSTOP 1

/* ---- POSIX layer ------------------------------------------------------- */
int shunt_socket(int domain, int type, int protocol);
int shunt_socketpair(int domain, int type, int protocol, int sv[2]);
int shunt_bind(int fd, const struct sockaddr *addr, socklen_t len);
int shunt_listen(int fd, int backlog);
int shunt_accept(int fd, struct sockaddr *addr, socklen_t *len);
int shunt_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int shunt_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t shunt_send(int fd, const void *buf, size_t len, int flags);
ssize_t shunt_sendto(int fd, const void *buf, size_t len, int flags,
                     const struct sockaddr *addr, socklen_t addrlen);
ssize_t shunt_sendmsg(int fd, const struct msghdr *msg, int flags);
int shunt_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
ssize_t shunt_recv(int fd, void *buf, size_t len, int flags);
ssize_t shunt_recvfrom(int fd, void *buf, size_t len, int flags,
                       struct sockaddr *addr, socklen_t *addrlen);
ssize_t shunt_recvmsg(int fd, struct msghdr *msg, int flags);
int shunt_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                   struct timespec *timeout);
ssize_t shunt_read(int fd, void *buf, size_t count);
ssize_t shunt_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t shunt_write(int fd, const void *buf, size_t count);
ssize_t shunt_writev(int fd, const struct iovec *iov, int iovcnt);
int shunt_shutdown(int fd, int how);
int shunt_close(int fd);
int shunt_getsockopt(int fd, int level, int optname, void *optval,
                     socklen_t *optlen);
int shunt_setsockopt(int fd, int level, int optname, const void *optval,
                     socklen_t optlen);
int shunt_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int shunt_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int shunt_fcntl(int fd, int cmd, ... /* arg */);
int shunt_ioctl(int fd, unsigned long request, ... /* arg */);
int shunt_dup(int fd);
int shunt_dup2(int oldfd, int newfd);
int shunt_dup3(int oldfd, int newfd, int flags);
int shunt_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int shunt_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
                const sigset_t *sigmask);
int shunt_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                 struct timeval *timeout);
int shunt_pselect(int nfds, fd_set *readfds, fd_set *writefds,
                  fd_set *exceptfds, const struct timespec *timeout,
                  const sigset_t *sigmask);

/* 1 if fd is currently a shunt socket descriptor in this process, else 0. */
int shunt_is_socket(int fd);

/* ---- 4.3BSD dialect --------------------------------------------------------
 * The 4.3BSD msghdr: descriptors ("access rights") travel as a plain array
 * of ints in msg_accrights, msg_accrightslen bytes long, instead of
 * control messages. shunt_osendmsg passes msg_accrightslen / sizeof(int)
 * descriptors (EINVAL for a negative length or more than the socket's
 * limit, see SHUNT_SO_PERSONALITY). shunt_orecvmsg stores as many
 * received descriptors as msg_accrightslen has room for, sets
 * msg_accrightslen to the bytes it stored and closes the others; it sets
 * msg_namelen like recvmsg. Both work on kernel sockets too. */
struct shunt_omsghdr {
  void *msg_name;
  int msg_namelen;
  struct iovec *msg_iov;
  int msg_iovlen;
  void *msg_accrights;
  int msg_accrightslen;
};
ssize_t shunt_orecvmsg(int fd, struct shunt_omsghdr *msg, int flags);
ssize_t shunt_osendmsg(int fd, const struct shunt_omsghdr *msg, int flags);

/* ---- Kernel-style socket layer ------------------------------------------
 * struct shunt_socket is one open socket (the kernel's struct socket plus
 * its struct file): it holds a reference on the arena socket. Every function
 * returns 0 or a byte count on success and -errno on failure, and leaves
 * errno alone. A handle belongs to the process that made it, like an
 * in-kernel socket: a forked child must neither use nor release its
 * parent's handles (descriptors, unlike handles, are inherited).
 */
struct shunt_socket;

#ifndef SHUNT_NO_KVEC
/* Mirrors the kernel's struct kvec. */
struct kvec {
  void *iov_base;
  size_t iov_len;
};
#endif

/* Creates a socket; *res receives it with one reference. */
int shunt_sock_create(int family, int type, int protocol,
                      struct shunt_socket **res);
/* Drops one reference; the last one closes the socket. */
void shunt_sock_release(struct shunt_socket *sock);
/* The socket behind shunt descriptor fd, with a new reference, or NULL with
 * *err set to -EBADF / -ENOTSOCK. */
struct shunt_socket *shunt_sockfd_lookup(int fd, int *err);

int shunt_kernel_bind(struct shunt_socket *sock, const struct sockaddr *addr,
                      int addrlen);
int shunt_kernel_connect(struct shunt_socket *sock, const struct sockaddr *addr,
                         int addrlen, int flags);
int shunt_kernel_listen(struct shunt_socket *sock, int backlog);
/* flags: O_NONBLOCK to fail with -EAGAIN instead of waiting. */
int shunt_kernel_accept(struct shunt_socket *sock,
                        struct shunt_socket **newsock, int flags);
int shunt_kernel_shutdown(struct shunt_socket *sock, int how);
/* Sends size bytes gathered from vec[0..num) (any num). msg supplies
 * msg_name,
 * msg_flags (the send flags) and control messages (msg_control, in the
 * caller's memory: SCM_RIGHTS naming this process's descriptors,
 * SCM_CREDENTIALS); its msg_iov is ignored. */
int shunt_kernel_sendmsg(struct shunt_socket *sock, struct msghdr *msg,
                         struct kvec *vec, size_t num, size_t size);
/* Receives up to size bytes into vec[0..num) (any num). On return the kvec
 * array holds the unfilled portion of the original: entries are advanced
 * past the bytes received. msg supplies msg_name/msg_namelen (the sender's
 * name is written if it has one, at most msg_namelen bytes, and
 * msg_namelen set to its length; an unnamed sender leaves both alone) and
 * its msg_flags gain the result flags (MSG_TRUNC, MSG_CTRUNC, ...), as
 * sock_recvmsg ORs them in; its msg_iov is ignored. A control buffer (msg_control/msg_controllen)
 * receives SCM_CREDENTIALS as the kernel's put_cmsg writes it: msg_control
 * is advanced past what was written and msg_controllen reduced. As for
 * in-kernel callers, passed descriptors are not installed: they are
 * released. */
int shunt_kernel_recvmsg(struct shunt_socket *sock, struct msghdr *msg,
                         struct kvec *vec, size_t num, size_t size, int flags);

#pragma GCC visibility pop

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHUNT_SHUNT_H_ */

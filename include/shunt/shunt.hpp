// shunt.hpp: a thin C++20 veneer over the shunt POSIX layer (shunt.h).
//
// Every method here is one call into the C layer plus errno capture; there
// is no buffering, retrying or second implementation of socket behaviour.
// A call that the C layer would fail with errno E returns a Result whose
// error() is E, so the C++ API behaves exactly like the Linux calls shunt
// mirrors (including EINTR and EAGAIN, which are returned, not retried).
//
// Ownership:
//  - A shunt::Socket owns one descriptor. Its destructor closes it with
//    shunt_close(); close errors are ignored there and errno is preserved.
//    Call close() explicitly to observe the error.
//  - Sockets are move-only. A moved-from Socket owns nothing (fd() == -1).
//  - release() gives up ownership and returns the descriptor; the caller
//    must then close it with shunt_close().
//  - Socket(int fd) adopts a descriptor the caller owned (for example one
//    returned by shunt_socket()); the Socket now closes it.
//  - Buffers passed as std::span / std::string_view are only borrowed for
//    the duration of the call.
//
// Thread safety: a Socket is as thread-safe as its descriptor: concurrent
// calls on one socket are allowed exactly where the POSIX calls allow them,
// but moving, assigning, release() or close() must not race with other use
// of the same Socket object.
//
// Example:
//   auto pair = shunt::SocketPair(SOCK_STREAM);
//   if (!pair.ok()) { /* pair.message() */ }
//   auto& [a, b] = pair.value();
//   a.send("ping");
//   std::byte buf[16];
//   shunt::Result<size_t> n = b.recv(buf);

#ifndef SHUNT_SHUNT_HPP_
#define SHUNT_SHUNT_HPP_

#include <shunt/shunt.h>
#include <stddef.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace shunt {

namespace internal {

[[noreturn]] inline void DieOnError(int error) {
  std::fprintf(stderr, "shunt::Result::value() called on an error: %s\n",
               std::generic_category().message(error).c_str());
  std::abort();
}

}  // namespace internal

// Either a value of type T or an errno value (never both).
// Results are cheap to move; value() on an error result aborts the process,
// so check ok() first.
template <typename T>
class [[nodiscard]] Result {
 public:
  // A successful result holding `value`.
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose

  // A failed result carrying `error` (an errno value, must be non-zero).
  static Result FromErrno(int error) { return Result(ErrorTag{}, error); }

  bool ok() const { return value_.has_value(); }
  // The errno value, or 0 when ok().
  int error() const { return error_; }
  // strerror-style text for error(), e.g. "Connection refused".
  std::string message() const {
    return ok() ? std::string("Success")
                : std::generic_category().message(error_);
  }

  T& value() & {
    if (!ok()) internal::DieOnError(error_);
    return *value_;
  }
  const T& value() const& {
    if (!ok()) internal::DieOnError(error_);
    return *value_;
  }
  T&& value() && {
    if (!ok()) internal::DieOnError(error_);
    return std::move(*value_);
  }

 private:
  struct ErrorTag {};
  Result(ErrorTag, int error) : error_(error) {}

  std::optional<T> value_;
  int error_ = 0;
};

// Result of a call that produces no value: success or an errno value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;  // success
  static Result FromErrno(int error) {
    Result r;
    r.error_ = error;
    return r;
  }

  bool ok() const { return error_ == 0; }
  int error() const { return error_; }
  std::string message() const {
    return ok() ? std::string("Success")
                : std::generic_category().message(error_);
  }
  // For symmetry with Result<T>: aborts on error.
  void value() const {
    if (!ok()) internal::DieOnError(error_);
  }

 private:
  int error_ = 0;
};

namespace internal {

// Maps the C convention (-1 and errno) onto Result.
inline Result<void> VoidResult(int rc) {
  if (rc < 0) return Result<void>::FromErrno(errno);
  return Result<void>();
}

inline Result<size_t> SizeResult(ssize_t rc) {
  if (rc < 0) return Result<size_t>::FromErrno(errno);
  return Result<size_t>(static_cast<size_t>(rc));
}

// Builds an AF_UNIX address for `path`. A path starting with '\0' is an
// abstract name; its length is exactly path.size(). Otherwise the name is
// NUL-terminated when it fits. Returns false if path cannot fit in
// sun_path, in which case the caller reports EINVAL, the error Linux gives
// for an address longer than struct sockaddr_un.
inline bool MakeUnixAddress(std::string_view path, sockaddr_un* addr,
                            socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() > sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  size_t n = offsetof(sockaddr_un, sun_path) + path.size();
  // Filesystem names carry their terminating NUL when there is room, as
  // SUN_LEN-style callers do; the kernel accepts either form.
  if (!path.empty() && path[0] != '\0' && path.size() < sizeof(addr->sun_path))
    ++n;
  *len = static_cast<socklen_t>(n);
  return true;
}

}  // namespace internal

// RAII owner of one shunt (or, when adopted, any) socket descriptor.
class Socket {
 public:
  // An empty Socket that owns nothing.
  Socket() noexcept = default;
  // Adopts `fd`: the Socket now owns it and will close it.
  explicit Socket(int fd) noexcept : fd_(fd) {}

  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.release();
    }
    return *this;
  }

  // Closes the descriptor (if any); errors are ignored, errno preserved.
  ~Socket() { Reset(); }

  // shunt_socket(domain, type, protocol); type may include SOCK_NONBLOCK
  // and SOCK_CLOEXEC.
  static Result<Socket> Create(int domain, int type, int protocol = 0) {
    int fd = shunt_socket(domain, type, protocol);
    if (fd < 0) return Result<Socket>::FromErrno(errno);
    return Result<Socket>(Socket(fd));
  }

  // The owned descriptor, or -1. Ownership is not transferred.
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership: returns the descriptor (or -1) and leaves this
  // Socket empty. The caller must shunt_close() the result.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes now and reports shunt_close()'s result. The Socket is empty
  // afterwards even on error (Linux releases the descriptor regardless).
  Result<void> close() {
    if (fd_ < 0) return Result<void>::FromErrno(EBADF);
    return internal::VoidResult(shunt_close(release()));
  }

  Result<void> bind(const sockaddr* addr, socklen_t len) {
    return internal::VoidResult(shunt_bind(fd_, addr, len));
  }
  // Binds to an AF_UNIX path; a leading '\0' selects the abstract namespace
  // and an empty path passes only the family (Linux then autobinds).
  Result<void> bind(std::string_view path) {
    sockaddr_un addr;
    socklen_t len;
    if (!internal::MakeUnixAddress(path, &addr, &len))
      return Result<void>::FromErrno(EINVAL);
    return bind(reinterpret_cast<const sockaddr*>(&addr), len);
  }

  Result<void> listen(int backlog = SOMAXCONN) {
    return internal::VoidResult(shunt_listen(fd_, backlog));
  }

  // shunt_accept4(fd, addr, len, flags). addr/len may be null; flags may
  // hold SOCK_NONBLOCK | SOCK_CLOEXEC. The new Socket owns the connection.
  Result<Socket> accept(int flags = 0, sockaddr* addr = nullptr,
                        socklen_t* len = nullptr) {
    int fd = shunt_accept4(fd_, addr, len, flags);
    if (fd < 0) return Result<Socket>::FromErrno(errno);
    return Result<Socket>(Socket(fd));
  }

  Result<void> connect(const sockaddr* addr, socklen_t len) {
    return internal::VoidResult(shunt_connect(fd_, addr, len));
  }
  // Connects to an AF_UNIX path; a leading '\0' selects the abstract
  // namespace.
  Result<void> connect(std::string_view path) {
    sockaddr_un addr;
    socklen_t len;
    if (!internal::MakeUnixAddress(path, &addr, &len))
      return Result<void>::FromErrno(EINVAL);
    return connect(reinterpret_cast<const sockaddr*>(&addr), len);
  }

  // shunt_send(); the count may be short on stream sockets.
  Result<size_t> send(std::span<const std::byte> data, int flags = 0) {
    return internal::SizeResult(
        shunt_send(fd_, data.data(), data.size(), flags));
  }
  Result<size_t> send(std::string_view data, int flags = 0) {
    return internal::SizeResult(
        shunt_send(fd_, data.data(), data.size(), flags));
  }

  // shunt_recv(); 0 means end of stream (or an empty datagram).
  Result<size_t> recv(std::span<std::byte> buffer, int flags = 0) {
    return internal::SizeResult(
        shunt_recv(fd_, buffer.data(), buffer.size(), flags));
  }

  // how: SHUT_RD, SHUT_WR or SHUT_RDWR.
  Result<void> shutdown(int how) {
    return internal::VoidResult(shunt_shutdown(fd_, how));
  }

 private:
  void Reset() noexcept {
    if (fd_ < 0) return;
    int saved = errno;
    shunt_close(release());
    errno = saved;
  }

  int fd_ = -1;
};

// shunt_socketpair(AF_UNIX, type, protocol): two connected sockets, each
// owned by the returned pair.
inline Result<std::pair<Socket, Socket>> SocketPair(int type,
                                                    int protocol = 0) {
  int sv[2];
  if (shunt_socketpair(AF_UNIX, type, protocol, sv) < 0)
    return Result<std::pair<Socket, Socket>>::FromErrno(errno);
  return Result<std::pair<Socket, Socket>>(
      std::pair<Socket, Socket>(Socket(sv[0]), Socket(sv[1])));
}

}  // namespace shunt

#endif  // SHUNT_SHUNT_HPP_

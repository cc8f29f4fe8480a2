// AF_UNIX naming: filesystem, abstract and autobound names, bind(2)
// argument checks, and the exact lengths getsockname/getpeername report.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "backend.h"

namespace {

using shunt_test::AbstractName;
using shunt_test::Bytes;
using shunt_test::kPathOffset;
using shunt_test::PathName;
using shunt_test::RunAsNobody;
using shunt_test::UnixName;

// Abstract names live in one namespace per network namespace: make them
// unique per process so concurrent test binaries do not collide.
std::string UniqueTag(const std::string& tag) {
  return "shunt-names-" + std::to_string(getpid()) + "-" + tag;
}

// Sets the process umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }

 private:
  mode_t old_;
};

// Naming helpers; BothBackends closes every socket opened through Socket() at
// the end of the test even when an assertion fails.
class NamesTest : public shunt_test::BothBackends {
 protected:
  // getsockname into a full-size buffer; returns the reported length.
  socklen_t SockName(int fd, sockaddr_storage* ss) {
    memset(ss, 0xAA, sizeof(*ss));
    socklen_t len = sizeof(*ss);
    EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(ss), &len), 0)
        << strerror(errno);
    return len;
  }

  socklen_t PeerName(int fd, sockaddr_storage* ss) {
    memset(ss, 0xAA, sizeof(*ss));
    socklen_t len = sizeof(*ss);
    EXPECT_EQ(api().getpeername(fd, reinterpret_cast<sockaddr*>(ss), &len), 0)
        << strerror(errno);
    return len;
  }

  // The bytes of the name `fd` is bound to (family included).
  std::string NameBytes(int fd) {
    sockaddr_storage ss;
    const socklen_t len = SockName(fd, &ss);
    return std::string(reinterpret_cast<const char*>(&ss), len);
  }

  // Sends one byte from a fresh unbound datagram socket to `to`; returns the
  // sendto result (errno preserved).
  ssize_t Poke(const UnixName& to) {
    const int s = Socket(SOCK_DGRAM);
    const ssize_t r = api().sendto(s, "x", 1, MSG_DONTWAIT, to.sa(), to.len);
    const int saved = errno;
    ExpectClose(s);
    errno = saved;
    return r;
  }

  // True if a datagram is waiting on `fd` (consumes it).
  bool Drain(int fd) {
    char c;
    return api().recv(fd, &c, 1, MSG_DONTWAIT) == 1;
  }
};

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// ---------------------------------------------------------------------------
// Filesystem names.
class FilesystemBind : public NamesTest {};

TEST_P(FilesystemBind, CreatesSocketFileWithUmaskMode) {
  const struct {
    mode_t mask;
    mode_t mode;
  } cases[] = {{022, 0755}, {077, 0700}, {0, 0777}, {0227, 0550}};
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mask);
    const std::string path = TempPath("s" + std::to_string(i++));
    const int fd = Socket(SOCK_STREAM);
    {
      ScopedUmask um(c.mask);
      ASSERT_EQ(Bind(fd, PathName(path)), 0) << strerror(errno);
    }
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, c.mode);
    EXPECT_EQ(st.st_uid, 0u);
    ExpectClose(fd);
  }
}

TEST_P(FilesystemBind, EverySocketTypeCreatesAFile) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    const std::string path = TempPath("t" + std::to_string(type));
    const int fd = Socket(type);
    ASSERT_EQ(Bind(fd, PathName(path)), 0) << strerror(errno);
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    ExpectClose(fd);
    // Closing the socket leaves the file behind.
    EXPECT_EQ(lstat(path.c_str(), &st), 0);
  }
}

TEST_P(FilesystemBind, ExistingRegularFileGivesEaddrinuse) {
  const std::string path = TempPath("file");
  const int f = open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(f, 0);
  close(f);
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(Bind(fd, PathName(path)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // The failed bind leaves the socket unbound.
  EXPECT_EQ(NameBytes(fd).size(), kPathOffset);
}

TEST_P(FilesystemBind, ExistingDirectoryAndSymlinkGiveEaddrinuse) {
  const std::string dir = TempPath("dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  // A dangling symlink is not followed: the name itself exists.
  const std::string link = TempPath("dangling");
  ASSERT_EQ(symlink(TempPath("nowhere").c_str(), link.c_str()), 0);
  const int fd = Socket(SOCK_DGRAM);
  EXPECT_EQ(Bind(fd, PathName(dir)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  EXPECT_EQ(Bind(fd, PathName(link)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  struct stat st;
  EXPECT_EQ(lstat(TempPath("nowhere").c_str(), &st), -1);
}

TEST_P(FilesystemBind, LiveOrStaleSocketFileGivesEaddrinuse) {
  const std::string path = TempPath("s");
  const int first = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(first, PathName(path)), 0);
  const int second = Socket(SOCK_STREAM);
  EXPECT_EQ(Bind(second, PathName(path)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  ExpectClose(first);
  // The file outlives the socket; the name is still taken.
  EXPECT_EQ(Bind(second, PathName(path)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // Other types collide too: it is the file that is in use.
  const int dgram = Socket(SOCK_DGRAM);
  EXPECT_EQ(Bind(dgram, PathName(path)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
}

TEST_P(FilesystemBind, UnlinkFreesTheNameForRebinding) {
  const std::string path = TempPath("s");
  const int first = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(first, PathName(path)), 0);
  ASSERT_EQ(unlink(path.c_str()), 0);
  const int second = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(second, PathName(path)), 0) << strerror(errno);
  // The first socket keeps reporting its name, but the path now reaches
  // the second socket only.
  EXPECT_EQ(NameBytes(first), Bytes(PathName(path)));
  EXPECT_EQ(NameBytes(second), Bytes(PathName(path)));
  ASSERT_EQ(Poke(PathName(path)), 1);
  EXPECT_FALSE(Drain(first));
  EXPECT_TRUE(Drain(second));
}

TEST_P(FilesystemBind, UnlinkedNameIsUnreachable) {
  const std::string path = TempPath("s");
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, PathName(path)), 0);
  ASSERT_EQ(unlink(path.c_str()), 0);
  EXPECT_EQ(Poke(PathName(path)), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_P(FilesystemBind, RenamedFileStillReachesTheSocket) {
  const std::string path = TempPath("s");
  const std::string moved = TempPath("moved");
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, PathName(path)), 0);
  ASSERT_EQ(rename(path.c_str(), moved.c_str()), 0);
  // Lookup goes through the inode, not the name bound.
  ASSERT_EQ(Poke(PathName(moved)), 1);
  EXPECT_TRUE(Drain(fd));
  EXPECT_EQ(NameBytes(fd), Bytes(PathName(path)));
}

TEST_P(FilesystemBind, MissingDirectoryGivesEnoent) {
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(Bind(fd, PathName(TempPath("nodir/s"))), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_P(FilesystemBind, FileAsDirectoryGivesEnotdir) {
  const std::string file = TempPath("file");
  const int f = open(file.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(f, 0);
  close(f);
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(Bind(fd, PathName(file + "/s")), -1);
  EXPECT_EQ(errno, ENOTDIR);
}

TEST_P(FilesystemBind, SymlinkLoopGivesEloop) {
  const std::string loop = TempPath("loop");
  ASSERT_EQ(symlink(loop.c_str(), loop.c_str()), 0);
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(Bind(fd, PathName(loop + "/s")), -1);
  EXPECT_EQ(errno, ELOOP);
}

TEST_P(FilesystemBind, UnwritableDirectoryGivesEaccesToUnprivileged) {
  ASSERT_EQ(chmod(TempDir().c_str(), 0755), 0);
  const std::string path = TempPath("s");
  const auto& a = api();
  const int status = RunAsNobody([&] {
    const int fd = a.socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return 201;
    const UnixName n = PathName(path);
    const int r = a.bind(fd, n.sa(), n.len);
    const int err = errno;
    a.close(fd);
    return r == 0 ? 0 : err;
  });
  EXPECT_EQ(status, EACCES);
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), -1);
  // Control: a writable directory lets the same child bind.
  ASSERT_EQ(chmod(TempDir().c_str(), 0777), 0);
  EXPECT_EQ(RunAsNobody([&] {
              const int fd = a.socket(AF_UNIX, SOCK_STREAM, 0);
              if (fd < 0) return 201;
              const UnixName n = PathName(path);
              const int r = a.bind(fd, n.sa(), n.len);
              const int err = errno;
              a.close(fd);
              return r == 0 ? 0 : err;
            }),
            0);
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

TEST_P(FilesystemBind, RelativePathIsReportedAsGiven) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir(TempDir().c_str()), 0);
  const int fd = Socket(SOCK_DGRAM);
  const int r = Bind(fd, PathName("rel"));
  const int err = errno;
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_EQ(r, 0) << strerror(err);
  struct stat st;
  EXPECT_EQ(lstat(TempPath("rel").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(NameBytes(fd), Bytes(PathName("rel")));
}

TEST_P(FilesystemBind, BytesAfterTheNulAreIgnored) {
  const std::string path = TempPath("s");
  UnixName n = PathName(path);
  // Garbage after the terminator, and the whole structure passed.
  memset(n.sun.sun_path + path.size() + 1, 'G',
         sizeof(n.sun.sun_path) - path.size() - 1);
  n.len = sizeof(sockaddr_un);
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, n), 0) << strerror(errno);
  // The name is cut at the NUL: offsetof(sun_path) + strlen + 1.
  sockaddr_storage ss;
  EXPECT_EQ(SockName(fd, &ss), kPathOffset + path.size() + 1);
  EXPECT_EQ(NameBytes(fd), Bytes(PathName(path)));
}

TEST_P(FilesystemBind, LengthWithoutTheNulIsAccepted) {
  const std::string path = TempPath("s");
  UnixName n = PathName(path);
  n.len = kPathOffset + path.size();  // no terminator counted
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, n), 0) << strerror(errno);
  // The kernel terminates the name itself and reports the NUL.
  // net/unix/af_unix.c: unix_mkname_bsd
  EXPECT_EQ(NameBytes(fd), Bytes(PathName(path)));
}

TEST_P(FilesystemBind, PathFillingSunPathWithoutNul) {
  // Exactly 108 bytes in sun_path, none of them NUL.
  std::string path = TempDir() + "/";
  path += std::string(sizeof(sockaddr_un::sun_path) - path.size(), 'p');
  ASSERT_EQ(path.size(), sizeof(sockaddr_un::sun_path));
  UnixName n = PathName(path);
  ASSERT_EQ(n.len, sizeof(sockaddr_un));
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, n), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // getsockname reports 111 = 2 + 108 + a NUL that does not fit in a
  // sockaddr_un: the kernel stored the name terminated.
  sockaddr_storage ss;
  const socklen_t len = SockName(fd, &ss);
  EXPECT_EQ(len, sizeof(sockaddr_un) + 1);
  const char* bytes = reinterpret_cast<const char*>(&ss);
  EXPECT_EQ(std::string(bytes + kPathOffset, path.size()), path);
  EXPECT_EQ(bytes[sizeof(sockaddr_un)], '\0');
  // With a sockaddr_un-sized buffer the name is truncated (no NUL).
  sockaddr_un sun;
  memset(&sun, 0xAA, sizeof(sun));
  socklen_t short_len = sizeof(sun);
  ASSERT_EQ(
      api().getsockname(fd, reinterpret_cast<sockaddr*>(&sun), &short_len), 0);
  EXPECT_EQ(short_len, sizeof(sockaddr_un) + 1);
  EXPECT_EQ(std::string(sun.sun_path, sizeof(sun.sun_path)), path);
  // The same 108-byte name reaches the socket.
  ASSERT_EQ(Poke(n), 1);
  EXPECT_TRUE(Drain(fd));
}

// ---------------------------------------------------------------------------
// bind(2) argument and state checks.
class BindValidation : public NamesTest {};

TEST_P(BindValidation, SecondBindGivesEinval) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(fd, PathName(TempPath("a"))), 0);
  EXPECT_EQ(Bind(fd, PathName(TempPath("b"))), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Bind(fd, AbstractName(UniqueTag("b"))), -1);
  EXPECT_EQ(errno, EINVAL);
  // The second path was never created.
  struct stat st;
  EXPECT_EQ(lstat(TempPath("b").c_str(), &st), -1);

  const int abs = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(abs, AbstractName(UniqueTag("c"))), 0);
  EXPECT_EQ(Bind(abs, PathName(TempPath("c"))), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Bind(abs, AbstractName(UniqueTag("c"))), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(BindValidation, AddrlenShorterThanFamilyGivesEinval) {
  const int fd = Socket(SOCK_DGRAM);
  const UnixName n = PathName(TempPath("s"));
  for (socklen_t len : {0u, 1u}) {
    SCOPED_TRACE(len);
    EXPECT_EQ(api().bind(fd, n.sa(), len), -1);
    EXPECT_EQ(errno, EINVAL);
  }
  EXPECT_EQ(NameBytes(fd).size(), kPathOffset);
}

TEST_P(BindValidation, WrongFamilyGivesEinval) {
  const int fd = Socket(SOCK_STREAM);
  UnixName n = PathName(TempPath("s"));
  for (sa_family_t family : {AF_INET, AF_UNSPEC, AF_INET6}) {
    SCOPED_TRACE(family);
    n.sun.sun_family = family;
    EXPECT_EQ(api().bind(fd, n.sa(), n.len), -1);
    EXPECT_EQ(errno, EINVAL);
    // Not an autobind request either.
    EXPECT_EQ(api().bind(fd, n.sa(), sizeof(sa_family_t)), -1);
    EXPECT_EQ(errno, EINVAL);
  }
  struct stat st;
  EXPECT_EQ(lstat(TempPath("s").c_str(), &st), -1);
}

TEST_P(BindValidation, AddrlenLongerThanSockaddrUnGivesEinval) {
  const int fd = Socket(SOCK_STREAM);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  reinterpret_cast<sockaddr_un*>(&ss)->sun_family = AF_UNIX;
  memcpy(reinterpret_cast<sockaddr_un*>(&ss)->sun_path, "\0x", 2);
  for (socklen_t len :
       {socklen_t{sizeof(sockaddr_un) + 1}, socklen_t{sizeof(ss)},
        socklen_t{sizeof(ss) + 1}, socklen_t{4096}}) {
    SCOPED_TRACE(len);
    EXPECT_EQ(api().bind(fd, reinterpret_cast<sockaddr*>(&ss), len), -1);
    EXPECT_EQ(errno, EINVAL);
  }
}

TEST_P(BindValidation, BadAddressPointerGivesEfault) {
  void* page =
      mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  const int fd = Socket(SOCK_STREAM);
  EXPECT_EQ(api().bind(fd, static_cast<sockaddr*>(page), sizeof(sockaddr_un)),
            -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(api().bind(fd, nullptr, sizeof(sockaddr_un)), -1);
  EXPECT_EQ(errno, EFAULT);
  // A null pointer with length 0 copies nothing: the length check fails.
  EXPECT_EQ(api().bind(fd, nullptr, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  munmap(page, 4096);
}

TEST_P(BindValidation, NonSocketDescriptors) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const UnixName n = PathName(TempPath("s"));
  EXPECT_EQ(api().bind(p[0], n.sa(), n.len), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(api().bind(-1, n.sa(), n.len), -1);
  EXPECT_EQ(errno, EBADF);
  const int fd = Socket(SOCK_STREAM);
  ExpectClose(fd);
  EXPECT_EQ(api().bind(fd, n.sa(), n.len), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_P(BindValidation, SocketpairMemberCanBeBound) {
  int sv[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Track(sv[0]);
  Track(sv[1]);
  ASSERT_EQ(Bind(sv[0], PathName(TempPath("s"))), 0) << strerror(errno);
  EXPECT_EQ(NameBytes(sv[0]), Bytes(PathName(TempPath("s"))));
  // The peer sees the new name.
  sockaddr_storage ss;
  const socklen_t len = PeerName(sv[1], &ss);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ss), len),
            Bytes(PathName(TempPath("s"))));
}

// ---------------------------------------------------------------------------
// Abstract names (leading NUL byte).
class AbstractNamespace : public NamesTest {};

TEST_P(AbstractNamespace, NameIsReportedWithItsExactLength) {
  const UnixName n = AbstractName(UniqueTag("exact"));
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(fd, n), 0) << strerror(errno);
  sockaddr_storage ss;
  EXPECT_EQ(SockName(fd, &ss), n.len);
  // No terminator is added: the byte after the name is untouched.
  EXPECT_EQ(reinterpret_cast<unsigned char*>(&ss)[n.len], 0xAA);
  EXPECT_EQ(NameBytes(fd), Bytes(n));
}

TEST_P(AbstractNamespace, TrailingBytesAreSignificant) {
  const std::string tag = UniqueTag("trail");
  const UnixName short_name = AbstractName(tag);
  const UnixName nul_name = AbstractName(tag + std::string(1, '\0'));
  const UnixName long_name = AbstractName(tag + std::string(3, '\0'));
  const int a = Socket(SOCK_DGRAM);
  const int b = Socket(SOCK_DGRAM);
  const int c = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(a, short_name), 0);
  ASSERT_EQ(Bind(b, nul_name), 0) << strerror(errno);
  ASSERT_EQ(Bind(c, long_name), 0) << strerror(errno);
  EXPECT_EQ(NameBytes(b), Bytes(nul_name));
  ASSERT_EQ(Poke(nul_name), 1);
  EXPECT_FALSE(Drain(a));
  EXPECT_TRUE(Drain(b));
  EXPECT_FALSE(Drain(c));
  ASSERT_EQ(Poke(short_name), 1);
  EXPECT_TRUE(Drain(a));
  EXPECT_FALSE(Drain(b));
  // Two NULs: no such name.
  EXPECT_EQ(Poke(AbstractName(tag + std::string(2, '\0'))), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST_P(AbstractNamespace, EmbeddedNulsAndFullLength) {
  std::string name = UniqueTag("full");
  name += std::string(1, '\0') + "x";
  name += std::string(sizeof(sockaddr_un::sun_path) - 1 - name.size(), 'z');
  const UnixName n = AbstractName(name);
  ASSERT_EQ(n.len, sizeof(sockaddr_un));
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, n), 0) << strerror(errno);
  EXPECT_EQ(NameBytes(fd), Bytes(n));
  ASSERT_EQ(Poke(n), 1);
  EXPECT_TRUE(Drain(fd));
}

TEST_P(AbstractNamespace, SingleNulIsAValidName) {
  // sun_path = "" with the NUL counted is not a path: it is the abstract
  // name of length 1. Only one socket may hold it.
  const int fd = Socket(SOCK_DGRAM);
  const UnixName empty = AbstractName("");
  ASSERT_EQ(empty.len, kPathOffset + 1);
  const int r = Bind(fd, empty);
  if (r != 0) {
    // Someone else on the machine holds it.
    ASSERT_EQ(errno, EADDRINUSE);
    GTEST_SKIP() << "abstract name \\0 in use";
  }
  EXPECT_EQ(NameBytes(fd), Bytes(empty));
  const int other = Socket(SOCK_DGRAM);
  EXPECT_EQ(Bind(other, empty), -1);
  EXPECT_EQ(errno, EADDRINUSE);
}

TEST_P(AbstractNamespace, DuplicateOfTheSameTypeGivesEaddrinuse) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    const UnixName n = AbstractName(UniqueTag("dup" + std::to_string(type)));
    const int a = Socket(type);
    ASSERT_EQ(Bind(a, n), 0);
    const int b = Socket(type);
    EXPECT_EQ(Bind(b, n), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    EXPECT_EQ(NameBytes(b).size(), kPathOffset);
    ExpectClose(a);
    ExpectClose(b);
  }
}

TEST_P(AbstractNamespace, EachSocketTypeHasItsOwnNamespace) {
  // The abstract hash mixes in the socket type, so one name can be bound
  // once per type, and lookups never cross types: a stream client gets
  // ECONNREFUSED (not EPROTOTYPE, as for paths) when only a dgram socket
  // holds the name. net/unix/af_unix.c: unix_abstract_hash,
  // unix_find_abstract
  const UnixName n = AbstractName(UniqueTag("pertype"));
  const int stream = Socket(SOCK_STREAM);
  const int dgram = Socket(SOCK_DGRAM);
  const int seqpacket = Socket(SOCK_SEQPACKET);
  ASSERT_EQ(Bind(dgram, n), 0);
  const int client = Socket(SOCK_STREAM);
  EXPECT_EQ(api().connect(client, n.sa(), n.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ASSERT_EQ(Bind(stream, n), 0) << strerror(errno);
  ASSERT_EQ(Bind(seqpacket, n), 0) << strerror(errno);
  ASSERT_EQ(api().listen(stream, 1), 0);
  // Each lookup finds the socket of its own type.
  EXPECT_EQ(api().connect(client, n.sa(), n.len), 0) << strerror(errno);
  ASSERT_EQ(Poke(n), 1);
  EXPECT_TRUE(Drain(dgram));
  const int sp = Socket(SOCK_SEQPACKET);
  EXPECT_EQ(api().connect(sp, n.sa(), n.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);  // bound but not listening
}

TEST_P(AbstractNamespace, CloseFreesTheName) {
  const UnixName n = AbstractName(UniqueTag("free"));
  const int a = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(a, n), 0);
  ExpectClose(a);
  EXPECT_EQ(Poke(n), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  const int b = Socket(SOCK_DGRAM);
  EXPECT_EQ(Bind(b, n), 0) << strerror(errno);
  ASSERT_EQ(Poke(n), 1);
  EXPECT_TRUE(Drain(b));
}

TEST_P(AbstractNamespace, NameHeldWhileADuplicateIsOpen) {
  const UnixName n = AbstractName(UniqueTag("dupfd"));
  const int a = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(a, n), 0);
  const int d = Track(api().dup(a));
  ASSERT_GE(d, 0);
  ExpectClose(a);
  // The socket lives on through the duplicate and keeps its name.
  const int b = Socket(SOCK_DGRAM);
  EXPECT_EQ(Bind(b, n), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  ExpectClose(d);
  EXPECT_EQ(Bind(b, n), 0);
}

TEST_P(AbstractNamespace, CreatesNoFile) {
  // An abstract name whose bytes spell a path creates nothing there.
  const std::string path = TempPath("abs");
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, AbstractName(path)), 0);
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), -1);
  EXPECT_EQ(lstat(path.substr(1).c_str(), &st), -1);
}

// ---------------------------------------------------------------------------
// Autobind: the kernel picks an abstract name of five hex digits.
class AutobindNames : public NamesTest {
 protected:
  // Asserts `fd` holds an autobind-shaped name and returns its bytes.
  std::string ExpectAutobound(int fd) {
    sockaddr_storage ss;
    const socklen_t len = SockName(fd, &ss);
    const auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
    EXPECT_EQ(len, kPathOffset + 1 + 5);
    EXPECT_EQ(sun->sun_family, AF_UNIX);
    EXPECT_EQ(sun->sun_path[0], '\0');
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE(IsLowerHex(sun->sun_path[i])) << int{sun->sun_path[i]};
    }
    return std::string(reinterpret_cast<const char*>(&ss), len);
  }
  std::string ExpectUnbound(int fd) {
    sockaddr_storage ss;
    EXPECT_EQ(SockName(fd, &ss), kPathOffset);
    EXPECT_EQ(reinterpret_cast<sockaddr_un*>(&ss)->sun_family, AF_UNIX);
    return std::string();
  }
  int Autobind(int fd) {
    sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    return api().bind(fd, reinterpret_cast<sockaddr*>(&sun),
                      sizeof(sa_family_t));
  }
  void PassCred(int fd) {
    const int one = 1;
    ASSERT_EQ(api().setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)),
              0);
  }
};

TEST_P(AutobindNames, BindWithFamilyOnlyPicksFiveHexDigits) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    const int fd = Socket(type);
    ASSERT_EQ(Autobind(fd), 0) << strerror(errno);
    ExpectAutobound(fd);
    ExpectClose(fd);
  }
}

TEST_P(AutobindNames, NamesAreDistinctAndReachable) {
  const int a = Socket(SOCK_DGRAM);
  const int b = Socket(SOCK_DGRAM);
  ASSERT_EQ(Autobind(a), 0);
  ASSERT_EQ(Autobind(b), 0);
  const std::string na = ExpectAutobound(a);
  const std::string nb = ExpectAutobound(b);
  EXPECT_NE(na, nb);
  UnixName n;
  memcpy(&n.sun, na.data(), na.size());
  n.len = na.size();
  ASSERT_EQ(Poke(n), 1);
  EXPECT_TRUE(Drain(a));
  EXPECT_FALSE(Drain(b));
}

TEST_P(AutobindNames, AutoboundSocketCannotBeRenamed) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Autobind(fd), 0);
  const std::string name = ExpectAutobound(fd);
  EXPECT_EQ(Bind(fd, PathName(TempPath("s"))), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(NameBytes(fd), name);
}

TEST_P(AutobindNames, AutobindOnABoundSocketSucceedsAndChangesNothing) {
  // net/unix/af_unix.c: unix_autobind returns 0 when an address is set.
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, PathName(TempPath("s"))), 0);
  EXPECT_EQ(Autobind(fd), 0);
  EXPECT_EQ(NameBytes(fd), Bytes(PathName(TempPath("s"))));
  const int a = Socket(SOCK_DGRAM);
  ASSERT_EQ(Autobind(a), 0);
  const std::string name = ExpectAutobound(a);
  EXPECT_EQ(Autobind(a), 0);
  EXPECT_EQ(NameBytes(a), name);
}

TEST_P(AutobindNames, ListenOnUnboundStreamGivesEinval) {
  // No implicit autobind on listen: an unnamed socket cannot listen.
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    const int fd = Socket(type);
    EXPECT_EQ(api().listen(fd, 5), -1);
    EXPECT_EQ(errno, EINVAL);
    ExpectUnbound(fd);
    ASSERT_EQ(Autobind(fd), 0);
    EXPECT_EQ(api().listen(fd, 5), 0) << strerror(errno);
    ExpectClose(fd);
  }
}

TEST_P(AutobindNames, DgramConnectAutobindsOnlyWithPasscred) {
  const UnixName target = AbstractName(UniqueTag("dgconn"));
  const int server = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(server, target), 0);
  const int plain = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().connect(plain, target.sa(), target.len), 0);
  ExpectUnbound(plain);
  const int cred = Socket(SOCK_DGRAM);
  PassCred(cred);
  ASSERT_EQ(api().connect(cred, target.sa(), target.len), 0);
  ExpectAutobound(cred);
}

TEST_P(AutobindNames, SendtoAutobindsOnlyWithPasscred) {
  const UnixName target = AbstractName(UniqueTag("dgsend"));
  const int server = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(server, target), 0);

  const int plain = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().sendto(plain, "a", 1, 0, target.sa(), target.len), 1);
  ExpectUnbound(plain);
  sockaddr_storage from;
  socklen_t from_len = sizeof(from);
  char c;
  ASSERT_EQ(api().recvfrom(server, &c, 1, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len),
            1);
  EXPECT_EQ(from_len, 0u);  // unnamed sender: no address at all

  const int cred = Socket(SOCK_DGRAM);
  PassCred(cred);
  ASSERT_EQ(api().sendto(cred, "b", 1, 0, target.sa(), target.len), 1);
  const std::string name = ExpectAutobound(cred);
  from_len = sizeof(from);
  ASSERT_EQ(api().recvfrom(server, &c, 1, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len),
            1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&from), from_len), name);
}

TEST_P(AutobindNames, StreamConnectAutobindsOnlyWithPasscred) {
  const UnixName target = AbstractName(UniqueTag("stconn"));
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, target), 0);
  ASSERT_EQ(api().listen(listener, 5), 0);
  const int plain = Socket(SOCK_STREAM);
  ASSERT_EQ(api().connect(plain, target.sa(), target.len), 0);
  ExpectUnbound(plain);
  const int cred = Socket(SOCK_STREAM);
  PassCred(cred);
  ASSERT_EQ(api().connect(cred, target.sa(), target.len), 0);
  const std::string name = ExpectAutobound(cred);
  // The accepted sockets see the clients' names as their peers.
  const int a1 = Track(api().accept(listener, nullptr, nullptr));
  const int a2 = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(a1, 0);
  ASSERT_GE(a2, 0);
  sockaddr_storage ss;
  EXPECT_EQ(PeerName(a1, &ss), kPathOffset);
  const socklen_t len = PeerName(a2, &ss);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ss), len), name);
}

TEST_P(AutobindNames, PasscredDgramSendAutobindsEvenOnSocketpair) {
  // net/unix/af_unix.c: unix_dgram_sendmsg autobinds any unnamed sender
  // that passes credentials, connected or not.
  int sv[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  Track(sv[0]);
  Track(sv[1]);
  PassCred(sv[0]);
  ExpectUnbound(sv[0]);
  ASSERT_EQ(api().send(sv[0], "x", 1, 0), 1);
  const std::string name = ExpectAutobound(sv[0]);
  sockaddr_storage from;
  socklen_t from_len = sizeof(from);
  char c;
  ASSERT_EQ(api().recvfrom(sv[1], &c, 1, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len),
            1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&from), from_len), name);
  ExpectUnbound(sv[1]);
}

TEST_P(AutobindNames, PasscredStreamSendDoesNotAutobind) {
  int sv[2];
  ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Track(sv[0]);
  Track(sv[1]);
  PassCred(sv[0]);
  ASSERT_EQ(api().send(sv[0], "x", 1, 0), 1);
  char c;
  ASSERT_EQ(api().recv(sv[1], &c, 1, MSG_DONTWAIT), 1);
  ExpectUnbound(sv[0]);
}

// ---------------------------------------------------------------------------
// getsockname / getpeername lengths and truncation.
class ReportedNames : public NamesTest {};

TEST_P(ReportedNames, UnboundSocketReportsFamilyOnly) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    const int fd = Socket(type);
    sockaddr_storage ss;
    EXPECT_EQ(SockName(fd, &ss), kPathOffset);
    EXPECT_EQ(reinterpret_cast<sockaddr_un*>(&ss)->sun_family, AF_UNIX);
    // Only the family was written.
    EXPECT_EQ(reinterpret_cast<unsigned char*>(&ss)[kPathOffset], 0xAA);
    ExpectClose(fd);
  }
}

TEST_P(ReportedNames, PathNameLengthCountsTheNul) {
  const std::string path = TempPath("named");
  const int fd = Socket(SOCK_SEQPACKET);
  ASSERT_EQ(Bind(fd, PathName(path)), 0);
  sockaddr_storage ss;
  EXPECT_EQ(SockName(fd, &ss), kPathOffset + path.size() + 1);
  const char* bytes = reinterpret_cast<const char*>(&ss);
  EXPECT_EQ(std::string(bytes + kPathOffset), path);
  EXPECT_EQ(bytes[kPathOffset + path.size()], '\0');
  EXPECT_EQ(static_cast<unsigned char>(bytes[kPathOffset + path.size() + 1]),
            0xAA);
}

TEST_P(ReportedNames, ShortBufferIsTruncatedAndFullLengthReported) {
  const std::string path = TempPath("trunc");
  const int fd = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(fd, PathName(path)), 0);
  const std::string full = Bytes(PathName(path));
  for (socklen_t given : {0u, 1u, 2u, 5u, socklen_t(full.size() - 1)}) {
    SCOPED_TRACE(given);
    unsigned char buf[sizeof(sockaddr_storage)];
    memset(buf, 0xAA, sizeof(buf));
    socklen_t len = given;
    ASSERT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(buf), &len), 0);
    EXPECT_EQ(len, full.size());
    EXPECT_EQ(memcmp(buf, full.data(), given), 0);
    EXPECT_EQ(buf[given], 0xAA);
  }
}

TEST_P(ReportedNames, ShortBufferForAbstractPeerName) {
  const UnixName n = AbstractName(UniqueTag("peer"));
  const int server = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(server, n), 0);
  const int client = Socket(SOCK_DGRAM);
  ASSERT_EQ(api().connect(client, n.sa(), n.len), 0);
  unsigned char buf[sizeof(sockaddr_storage)];
  memset(buf, 0xAA, sizeof(buf));
  socklen_t len = 4;
  ASSERT_EQ(api().getpeername(client, reinterpret_cast<sockaddr*>(buf), &len),
            0);
  EXPECT_EQ(len, n.len);
  EXPECT_EQ(memcmp(buf, &n.sun, 4), 0);
  EXPECT_EQ(buf[4], 0xAA);
  sockaddr_storage ss;
  const socklen_t full = PeerName(client, &ss);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ss), full), Bytes(n));
}

TEST_P(ReportedNames, NegativeLengthGivesEinval) {
  const int fd = Socket(SOCK_STREAM);
  sockaddr_storage ss;
  socklen_t len = static_cast<socklen_t>(-1);
  EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(ReportedNames, BadPointersGiveEfault) {
  const int fd = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(fd, PathName(TempPath("s"))), 0);
  sockaddr_storage ss;
  EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(&ss), nullptr),
            -1);
  EXPECT_EQ(errno, EFAULT);
  socklen_t len = sizeof(ss);
  EXPECT_EQ(api().getsockname(fd, nullptr, &len), -1);
  EXPECT_EQ(errno, EFAULT);
  // move_addr_to_user writes the full length before it copies the name.
  const socklen_t full = len;
  EXPECT_GT(full, sizeof(sa_family_t));
  len = 100;
  EXPECT_EQ(api().getsockname(fd, reinterpret_cast<sockaddr*>(8), &len), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(len, full);
}

// A zero length asks for no bytes of the name: no pointer is needed, and
// the full length comes back; a negative one is EINVAL, name or not.
TEST_P(ReportedNames, ZeroLengthNeedsNoBuffer) {
  int sv[2];
  Pair(SOCK_STREAM, sv);
  socklen_t len = 0;
  EXPECT_EQ(api().getsockname(sv[0], nullptr, &len), 0);
  EXPECT_EQ(len, sizeof(sa_family_t));
  len = 0;
  EXPECT_EQ(api().getpeername(sv[0], nullptr, &len), 0);
  EXPECT_EQ(len, sizeof(sa_family_t));
  len = static_cast<socklen_t>(-5);
  EXPECT_EQ(api().getpeername(sv[0], nullptr, &len), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(ReportedNames, GetpeernameWithoutPeerGivesEnotconn) {
  const int stream = Socket(SOCK_STREAM);
  const int bound = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(bound, PathName(TempPath("b"))), 0);
  const int listener = Socket(SOCK_SEQPACKET);
  ASSERT_EQ(Bind(listener, PathName(TempPath("l"))), 0);
  ASSERT_EQ(api().listen(listener, 1), 0);
  const int dgram = Socket(SOCK_DGRAM);
  ASSERT_EQ(Bind(dgram, PathName(TempPath("d"))), 0);
  for (int fd : {stream, bound, listener, dgram}) {
    SCOPED_TRACE(fd);
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    EXPECT_EQ(api().getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len),
              -1);
    EXPECT_EQ(errno, ENOTCONN);
    EXPECT_EQ(len, sizeof(ss));
  }
}

TEST_P(ReportedNames, SocketpairMembersAreUnnamed) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, type, 0, sv), 0);
    for (int fd : sv) {
      sockaddr_storage ss;
      EXPECT_EQ(SockName(fd, &ss), kPathOffset);
      EXPECT_EQ(reinterpret_cast<sockaddr_un*>(&ss)->sun_family, AF_UNIX);
      EXPECT_EQ(PeerName(fd, &ss), kPathOffset);
      EXPECT_EQ(reinterpret_cast<sockaddr_un*>(&ss)->sun_family, AF_UNIX);
    }
    api().close(sv[0]);
    api().close(sv[1]);
  }
}

TEST_P(ReportedNames, ConnectedStreamNames) {
  const std::string lpath = TempPath("listener");
  const std::string cpath = TempPath("client");
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, PathName(lpath)), 0);
  ASSERT_EQ(api().listen(listener, 1), 0);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(client, PathName(cpath)), 0);
  const UnixName target = PathName(lpath);
  ASSERT_EQ(api().connect(client, target.sa(), target.len), 0);
  // Before accept the client already knows its peer.
  sockaddr_storage ss;
  socklen_t len = PeerName(client, &ss);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&ss), len), Bytes(target));
  const int server = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(server, 0);
  EXPECT_EQ(NameBytes(server), Bytes(target));
  len = PeerName(server, &ss);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&ss), len),
            Bytes(PathName(cpath)));
}

TEST_P(ReportedNames, StreamPeerNameSurvivesPeerClose) {
  const UnixName target = PathName(TempPath("s"));
  const int listener = Socket(SOCK_STREAM);
  ASSERT_EQ(Bind(listener, target), 0);
  ASSERT_EQ(api().listen(listener, 1), 0);
  const int client = Socket(SOCK_STREAM);
  ASSERT_EQ(api().connect(client, target.sa(), target.len), 0);
  const int server = Track(api().accept(listener, nullptr, nullptr));
  ASSERT_GE(server, 0);
  ExpectClose(server);
  sockaddr_storage ss;
  const socklen_t len = PeerName(client, &ss);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&ss), len), Bytes(target));
}

TEST_P(ReportedNames, NonSocketDescriptors) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  EXPECT_EQ(api().getsockname(p[0], reinterpret_cast<sockaddr*>(&ss), &len),
            -1);
  EXPECT_EQ(errno, ENOTSOCK);
  EXPECT_EQ(api().getpeername(p[0], reinterpret_cast<sockaddr*>(&ss), &len),
            -1);
  EXPECT_EQ(errno, ENOTSOCK);
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(api().getsockname(-1, reinterpret_cast<sockaddr*>(&ss), &len), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(api().getpeername(-1, reinterpret_cast<sockaddr*>(&ss), &len), -1);
  EXPECT_EQ(errno, EBADF);
}

SHUNT_BOTH_BACKENDS(FilesystemBind);
SHUNT_BOTH_BACKENDS(BindValidation);
SHUNT_BOTH_BACKENDS(AbstractNamespace);
SHUNT_BOTH_BACKENDS(AutobindNames);
SHUNT_BOTH_BACKENDS(ReportedNames);

}  // namespace

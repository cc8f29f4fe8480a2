// Test entry point: every test binary gets a private arena, named after its
// process, so test runs never share state with each other or with a user's
// own arena. The arena is unlinked when the binary exits.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "backend.h"

// A poll over a shunt socket and a kernel descriptor creates this thread's
// wake socket and the process's wake sender, kernel descriptors shunt keeps
// for the life of the thread and process. Made before any test counts
// descriptors, so that they are not taken for leaks.
void WarmUp() {
  int sv[2], pp[2];
  if (shunt_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(pp) != 0) {
    perror("warm-up");
    exit(1);
  }
  pollfd p[2] = {{sv[0], POLLIN, 0}, {pp[0], POLLIN, 0}};
  shunt_poll(p, 2, 1);
  shunt_close(sv[0]);
  shunt_close(sv[1]);
  close(pp[0]);
  close(pp[1]);
}

// Child mode for tests of unrelated processes: an exec'd copy of this binary
// attaches to the arena by name (as any program would), connects to the
// path in SHUNT_TEST_CONNECT, sends its pid as text and waits for EOF.
sockaddr_un PathAddr(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  return addr;
}

int RunConnectChild(const char* path) {
  const int fd = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un addr = PathAddr(path);
  if (fd < 0 || shunt_connect(fd, reinterpret_cast<const sockaddr*>(&addr),
                              sizeof addr) != 0)
    return 2;
  const std::string msg = std::to_string(getpid());
  if (shunt_send(fd, msg.data(), msg.size(), 0) !=
      static_cast<ssize_t>(msg.size()))
    return 3;
  char c;
  if (shunt_recv(fd, &c, 1, 0) != 0) return 4;
  return shunt_close(fd) == 0 ? 0 : 5;
}

// What the passing child modes start from: a stream socket connected to
// `path`, a pipe holding "pipe-data" and a new stream pair, made with the
// kernel's calls if SHUNT_TEST_KERNEL is set, else shunt's; false on a
// failure.
struct PassingChild {
  bool kernel = getenv("SHUNT_TEST_KERNEL") != nullptr;
  ssize_t (*sendmsg_fn)(int, const msghdr*, int) = kernel ? sendmsg
                                                          : shunt_sendmsg;
  int fd = -1;
  int p[2] = {-1, -1};
  int sv[2] = {-1, -1};

  bool Start(const char* path) {
    fd = (kernel ? socket : shunt_socket)(AF_UNIX, SOCK_STREAM, 0);
    const sockaddr_un addr = PathAddr(path);
    return fd >= 0 &&
           (kernel ? connect : shunt_connect)(
               fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) ==
               0 &&
           pipe(p) == 0 && write(p[1], "pipe-data", 9) == 9 &&
           (kernel ? socketpair : shunt_socketpair)(AF_UNIX, SOCK_STREAM, 0,
                                                    sv) == 0;
  }
};

// Child mode for descriptor passing between unrelated processes: connects
// to the path in SHUNT_TEST_PASS_FDS, sends "F" with three descriptors: the
// read end of the pipe and both ends of the pair, one holding "queued".
// Then exits at once, closing everything of its own.
int RunPassFdsChild(const char* path) {
  PassingChild c;
  if (!c.Start(path) ||
      (c.kernel ? send : shunt_send)(c.sv[1], "queued", 6, 0) != 6)
    return 2;
  return shunt_test::SendRights(c.sendmsg_fn, c.fd, {c.p[0], c.sv[0], c.sv[1]},
                                0, 'F') == 1
             ? 0
             : 3;
}

// Child mode for a passed socket with descriptors queued: connects to the
// path in SHUNT_TEST_PASS_QUEUED, sends the pipe's read end from one end of
// the pair to the other, sends that other end over the connection and
// exits, closing everything of its own.
int RunPassQueuedChild(const char* path) {
  PassingChild c;
  if (!c.Start(path)) return 2;
  if (shunt_test::SendRights(c.sendmsg_fn, c.sv[0], {c.p[0]}) != 1) return 3;
  return shunt_test::SendRights(c.sendmsg_fn, c.fd, {c.sv[1]}) == 1 ? 0 : 4;
}

// Child mode for the mailbox limit (docs/DIFFERENCES.md 9): connects to
// the path in SHUNT_TEST_FLOOD and sends, without waiting, up to twelve
// one-byte messages each carrying a pipe end; exits with how many it sent.
int RunFloodChild(const char* path) {
  const int fd = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un addr = PathAddr(path);
  int p[2];
  if (fd < 0 ||
      shunt_connect(fd, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof addr) != 0 ||
      pipe(p) != 0)
    return 100;
  int sent = 0;
  while (sent < 12 &&
         shunt_test::SendRights(shunt_sendmsg, fd, {p[0]}, MSG_DONTWAIT) == 1)
    ++sent;
  return sent;
}

// Child mode for a process that exits with a message unread: connects to
// the path in SHUNT_TEST_EXIT_UNREAD, waits (at most 5 s) until something
// arrives and exits without reading it. SIGALRM ends it if exit hangs.
int RunExitUnreadChild(const char* path) {
  alarm(10);
  PassingChild c;
  if (!c.Start(path)) return 2;
  pollfd p{c.fd, POLLIN, 0};
  if ((c.kernel ? poll : shunt_poll)(&p, 1, 5000) != 1) return 3;
  return 0;  // exit(), with the message and everything else still open
}

// Child mode for fork: registers a fork prepare handler that leaves errno
// at EAGAIN before its first socket, forks a child that closes a pair and
// exits, then checks the pair still works here. 0 if it does.
int RunForkErrnoChild() {
  const bool kernel = getenv("SHUNT_TEST_KERNEL") != nullptr;
  pthread_atfork([] { errno = EAGAIN; }, nullptr, nullptr);
  int sv[2];
  if ((kernel ? socketpair : shunt_socketpair)(AF_UNIX, SOCK_STREAM, 0, sv) !=
      0)
    return 2;
  auto close_fn = kernel ? close : shunt_close;
  const pid_t pid = fork();
  if (pid == 0) exit(close_fn(sv[0]) == 0 && close_fn(sv[1]) == 0 ? 0 : 1);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0) return 3;
  char buf[4];
  if ((kernel ? send : shunt_send)(sv[0], "ab", 2, 0) != 2) return 4;
  if ((kernel ? recv : shunt_recv)(sv[1], buf, sizeof buf, MSG_DONTWAIT) != 2)
    return 5;
  return (kernel ? fcntl(sv[0], F_GETFL) : shunt_fcntl(sv[0], F_GETFL)) ==
                 O_RDWR
             ? 0
             : 6;
}

// Child mode for exit: an atexit handler registered before the first
// socket still finds the pair working; it exits with 7 if not.
int g_atexit_pair[2];
void AtexitProbe() {
  const bool kernel = getenv("SHUNT_TEST_KERNEL") != nullptr;
  char c = 0;
  if ((kernel ? send : shunt_send)(g_atexit_pair[0], "z", 1, 0) != 1 ||
      (kernel ? recv : shunt_recv)(g_atexit_pair[1], &c, 1, MSG_DONTWAIT) !=
          1 ||
      c != 'z')
    _exit(7);
}
int RunAtexitChild() {
  const bool kernel = getenv("SHUNT_TEST_KERNEL") != nullptr;
  atexit(AtexitProbe);
  return (kernel ? socketpair : shunt_socketpair)(AF_UNIX, SOCK_STREAM, 0,
                                                  g_atexit_pair) == 0
             ? 0
             : 2;
}

int main(int argc, char** argv) {
  if (const char* path = getenv("SHUNT_TEST_CONNECT"))
    return RunConnectChild(path);
  if (const char* path = getenv("SHUNT_TEST_PASS_FDS"))
    return RunPassFdsChild(path);
  if (const char* path = getenv("SHUNT_TEST_PASS_QUEUED"))
    return RunPassQueuedChild(path);
  if (const char* path = getenv("SHUNT_TEST_FLOOD")) return RunFloodChild(path);
  if (const char* path = getenv("SHUNT_TEST_EXIT_UNREAD"))
    return RunExitUnreadChild(path);
  if (getenv("SHUNT_TEST_FORK_ERRNO") != nullptr) return RunForkErrnoChild();
  if (getenv("SHUNT_TEST_ATEXIT") != nullptr) return RunAtexitChild();
  const std::string arena = "/shunt-test-" + std::to_string(getpid());
  // A test binary that died left its arena behind; one with our pid is not
  // ours to attach to (it may even have an older layout).
  shm_unlink(arena.c_str());
  setenv("SHUNT_ARENA", arena.c_str(), 1);
  ::testing::InitGoogleTest(&argc, argv);
  WarmUp();
  const int rc = RUN_ALL_TESTS();
  shm_unlink(arena.c_str());
  return rc;
}

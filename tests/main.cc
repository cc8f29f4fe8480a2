// Test entry point: every test binary gets a private arena, named after its
// process, so test runs never share state with each other or with a user's
// own arena. The arena is unlinked when the binary exits.
#include <gtest/gtest.h>
#include <poll.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

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
int RunConnectChild(const char* path) {
  const int fd = shunt_socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (fd < 0 ||
      shunt_connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return 2;
  const std::string msg = std::to_string(getpid());
  if (shunt_send(fd, msg.data(), msg.size(), 0) !=
      static_cast<ssize_t>(msg.size()))
    return 3;
  char c;
  if (shunt_recv(fd, &c, 1, 0) != 0) return 4;
  return shunt_close(fd) == 0 ? 0 : 5;
}

int main(int argc, char** argv) {
  if (const char* path = getenv("SHUNT_TEST_CONNECT"))
    return RunConnectChild(path);
  const std::string arena = "/shunt-test-" + std::to_string(getpid());
  setenv("SHUNT_ARENA", arena.c_str(), 1);
  ::testing::InitGoogleTest(&argc, argv);
  WarmUp();
  const int rc = RUN_ALL_TESTS();
  shm_unlink(arena.c_str());
  return rc;
}

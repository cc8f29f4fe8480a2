// Test entry point: every test binary gets a private arena, named after its
// process, so test runs never share state with each other or with a user's
// own arena. The arena is unlinked when the binary exits.
#include <gtest/gtest.h>
#include <poll.h>
#include <shunt/shunt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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

int main(int argc, char** argv) {
  const std::string arena = "/shunt-test-" + std::to_string(getpid());
  setenv("SHUNT_ARENA", arena.c_str(), 1);
  ::testing::InitGoogleTest(&argc, argv);
  WarmUp();
  const int rc = RUN_ALL_TESTS();
  shm_unlink(arena.c_str());
  return rc;
}

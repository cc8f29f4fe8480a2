// Test entry point: every test binary gets a private arena, named after its
// process, so test runs never share state with each other or with a user's
// own arena. The arena is unlinked when the binary exits.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  const std::string arena = "/shunt-test-" + std::to_string(getpid());
  setenv("SHUNT_ARENA", arena.c_str(), 1);
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  shm_unlink(arena.c_str());
  return rc;
}

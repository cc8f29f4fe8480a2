// libFuzzer target: the fuzzer's input bytes drive the `shunt diff`
// generator (every choice the generator makes is read from the input), the
// sequence runs on kernel and shunt sockets, and a divergence aborts with
// the shrunk listing, so libFuzzer keeps the input as a crash. Built with
// -DSHUNT_BUILD_FUZZ=ON and clang (see README.md).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "generator.h"
#include "oracle.h"

namespace {

shunt_diff::WorldConfig* g_world = nullptr;
std::string* g_arena = nullptr;

void Cleanup() {
  if (g_world != nullptr) {
    shunt_diff::CleanDir(g_world->dir);
    rmdir(g_world->dir.c_str());
  }
  if (g_arena != nullptr) shm_unlink(g_arena->c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_arena = new std::string("/shunt-diff-fuzz-" + std::to_string(getpid()));
  shm_unlink(g_arena->c_str());  // a dead run's, if our pid was reused
  setenv("SHUNT_ARENA", g_arena->c_str(), 1);
  char dir[] = "/tmp/shunt-diff-XXXXXX";
  if (mkdtemp(dir) == nullptr) abort();
  g_world = new shunt_diff::WorldConfig{
      dir, "shunt-diff-fuzz-" + std::to_string(getpid()) + "-"};
  atexit(Cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static shunt_diff::Oracle oracle(shunt_diff::KernelApi(),
                                   shunt_diff::ShuntApi(), *g_world);
  const shunt_diff::Generator gen{shunt_diff::GeneratorOptions{}};
  shunt_diff::Rng rng(data, size);
  shunt_diff::Generator::Model model;
  shunt_diff::Sequence seq;
  const size_t ops = size / 8 < 64 ? size / 8 + 1 : 64;
  for (size_t i = 0; i < ops; ++i) seq.push_back(gen.Next(rng, model));
  const shunt_diff::Check c = oracle.Run(seq);
  if (!c.verdict.diverged) return 0;
  shunt_diff::Check shrunk;
  const shunt_diff::Sequence small = oracle.Shrink(seq, &shrunk);
  fprintf(stderr, "shunt diff (fuzz): divergence: %s\n%s",
          c.verdict.what.c_str(), shunt_diff::Listing(small, shrunk).c_str());
  abort();
}

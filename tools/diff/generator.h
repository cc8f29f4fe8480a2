// Generator: turns a seed into a Sequence of socket operations. It keeps a
// rough model of the world (which slots it expects to be live, of which
// type, which names it has bound) only to make useful ops likely; the model
// may be wrong (an op can fail) and nothing depends on it being right.
// Promise: Generate(seed, n) is a pure function of (options, seed, n).
#ifndef SHUNT_TOOLS_DIFF_GENERATOR_H_
#define SHUNT_TOOLS_DIFF_GENERATOR_H_

#include <cstdint>

#include "op.h"
#include "rng.h"

namespace shunt_diff {

struct GeneratorOptions {
  // sendmsg with SCM_RIGHTS / SCM_CREDENTIALS and SO_PASSCRED=1 (off by
  // default so that runs of the engine alone stay comparable; CI turns it
  // on: DIFFERENCES.md, "How shunt diff treats each entry", #7).
  bool ancillary = false;
  // send(MSG_OOB) on streams (the same).
  bool oob_send = false;
};

class Generator {
 public:
  explicit Generator(GeneratorOptions options) : options_(options) {}

  Sequence Generate(uint64_t seed, int ops) const;
  // The next op from rng for a world the model says looks like `m`; used by
  // Generate and by the fuzzer, which feeds its own bytes as the rng.
  struct Model {
    bool live[kSlots] = {};
    int type[kSlots] = {};
    bool bound[4] = {};
  };
  Op Next(Rng& rng, Model& m) const;

 private:
  int8_t PickTarget(Rng& rng, const Model& m) const;
  int8_t PickFreeSlot(Rng& rng, const Model& m) const;
  int PickType(Rng& rng) const;
  uint32_t PickName(Rng& rng, const Model& m, bool for_connect) const;
  void FillSend(Rng& rng, const Model& m, Op* op) const;
  void FillRecv(Rng& rng, Op* op) const;
  void FillOption(Rng& rng, Op* op, bool set) const;

  GeneratorOptions options_;
};

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_GENERATOR_H_

// Outcome: everything one op made observable in one world, as named fields
// in a fixed order (return value, errno, bytes, flags, names, control
// messages, revents, option values). Descriptor numbers never appear; names
// the kernel picks (autobind) appear canonicalised by first appearance.
#ifndef SHUNT_TOOLS_DIFF_OUTCOME_H_
#define SHUNT_TOOLS_DIFF_OUTCOME_H_

#include <string>
#include <vector>

namespace shunt_diff {

struct Field {
  std::string name;
  std::string value;
  bool operator==(const Field&) const = default;
};

struct Outcome {
  long ret = 0;
  int err = 0;           // errno when the call failed, else 0
  bool skipped = false;  // not run because it could have blocked
  std::vector<Field> fields;
  // Socket type (SOCK_STREAM, ...) of the op's descriptor target in this
  // world, 0 if the target is not a live socket slot. Poll entries: types[i].
  int type = 0;
  int types[3] = {0, 0, 0};

  void Add(std::string name, std::string value) {
    fields.push_back({std::move(name), std::move(value)});
  }
  void Add(std::string name, long value) {
    fields.push_back({std::move(name), std::to_string(value)});
  }
  // "3" or "-1 EAGAIN" or "skipped".
  std::string Result() const;
};

// Printable text of bytes: C escapes, long runs summarised with a hash.
std::string BytesText(const std::string& bytes);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_OUTCOME_H_

#include "outcome.h"

#include <string.h>

#include <cstdio>

namespace shunt_diff {

std::string Outcome::Result() const {
  if (skipped) return "skipped";
  std::string s = std::to_string(ret);
  if (ret < 0) {
    const char* name = strerrorname_np(err);
    s += " ";
    s += name != nullptr ? name : std::to_string(err);
  }
  return s;
}

std::string BytesText(const std::string& bytes) {
  // FNV-1a, to tell long buffers apart in a listing.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  std::string s = "\"";
  const size_t shown = bytes.size() <= 24 ? bytes.size() : 16;
  for (size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char esc[8];
      snprintf(esc, sizeof esc, "\\x%02x", c);
      s += esc;
    }
  }
  s += "\"";
  if (shown < bytes.size()) {
    char tail[64];
    snprintf(tail, sizeof tail, "... (%zu bytes, fnv %016llx)", bytes.size(),
             static_cast<unsigned long long>(h));
    s += tail;
  }
  return s;
}

}  // namespace shunt_diff

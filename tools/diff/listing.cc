// Listing: the shrunk sequence as C-like statements with each world's result.
#include <cstdio>

#include "oracle.h"

namespace shunt_diff {
namespace {

std::string FieldText(const Field& f) {
  if (f.name.ends_with("msg_flags") || f.name == "guard") return f.value;
  if (f.name.starts_with("revents"))
    return EventsText(std::atoi(f.value.c_str()));
  bool numeric = !f.value.empty();
  for (char c : f.value)
    if (!(c == '-' || (c >= '0' && c <= '9'))) numeric = false;
  return numeric ? f.value : BytesText(f.value);
}

}  // namespace

std::string Listing(const Sequence& seq, const Check& check) {
  std::string out;
  const Verdict& v = check.verdict;
  for (size_t i = 0; i < seq.size(); ++i) {
    char num[32];
    snprintf(num, sizeof num, "/* %2zu */ ", i);
    std::string line = std::string("  ") + num + Describe(seq[i]) + ";";
    const bool here = v.diverged && v.index == i;
    if (i < check.reference.size() && i < check.candidate.size()) {
      const Outcome& k = check.reference[i];
      const Outcome& s = check.candidate[i];
      if (line.size() < 72) line.resize(72, ' ');
      line += "  // kernel " + k.Result() + ", shunt " + s.Result();
      if (here) line += "   <<< DIVERGES";
      out += line + "\n";
      if (here) {
        const size_t nf = std::max(k.fields.size(), s.fields.size());
        for (size_t f = 0; f < nf; ++f) {
          const std::string kn = f < k.fields.size() ? k.fields[f].name : "-";
          const std::string kv =
              f < k.fields.size() ? FieldText(k.fields[f]) : "-";
          const std::string sv =
              f < s.fields.size() ? FieldText(s.fields[f]) : "-";
          const bool same = f < k.fields.size() && f < s.fields.size() &&
                            k.fields[f] == s.fields[f];
          out += "  //        " + kn +
                 (same ? ": " + kv
                       : ": kernel " + kv + " | shunt " + sv + "  <<<") +
                 "\n";
        }
      }
    } else {
      out += line + "\n";
    }
  }
  if (v.diverged) out += "  // divergence: " + v.what + "\n";
  return out;
}

}  // namespace shunt_diff

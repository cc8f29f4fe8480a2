#include "bench.h"

#include <regex.h>
#include <sched.h>
#include <shunt/shunt.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace shunt_tool {
namespace {

// The two backends a row is instantiated for. Rows are written once as
// templates over Api so both sides run byte-for-byte the same loop.
struct KernelApi {
  static constexpr bool kIsShunt = false;
  static int socketpair(int d, int t, int p, int sv[2]) {
    return ::socketpair(d, t, p, sv);
  }
  static ssize_t send(int fd, const void* b, size_t n, int f) {
    return ::send(fd, b, n, f);
  }
  static ssize_t recv(int fd, void* b, size_t n, int f) {
    return ::recv(fd, b, n, f);
  }
  static int close(int fd) { return ::close(fd); }
};

struct ShuntApi {
  static constexpr bool kIsShunt = true;
  static int socketpair(int d, int t, int p, int sv[2]) {
    return shunt_socketpair(d, t, p, sv);
  }
  static ssize_t send(int fd, const void* b, size_t n, int f) {
    return shunt_send(fd, b, n, f);
  }
  static ssize_t recv(int fd, void* b, size_t n, int f) {
    return shunt_recv(fd, b, n, f);
  }
  static int close(int fd) { return shunt_close(fd); }
};

using Clock = std::chrono::steady_clock;

std::string Errno(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

template <typename Api>
bool MakePair(int type, int sv[2], std::string* error) {
  if (Api::socketpair(AF_UNIX, type, 0, sv) < 0) {
    *error = Errno("socketpair");
    return false;
  }
  // A shunt row that silently measured kernel sockets would be worthless.
  if (Api::kIsShunt && !shunt_is_socket(sv[0])) {
    *error = "shunt_socketpair returned a non-shunt descriptor";
    Api::close(sv[0]);
    Api::close(sv[1]);
    return false;
  }
  return true;
}

// ---- Row: same-thread nonblocking send+recv of 64 bytes -----------------
template <typename Api>
bool SendRecvSameThread64(long iterations, double* per_op, std::string* error) {
  constexpr size_t kSize = 64;
  int sv[2];
  if (!MakePair<Api>(SOCK_STREAM, sv, error)) return false;
  char out[kSize];
  char in[kSize];
  std::memset(out, 'x', sizeof(out));
  bool ok = true;
  auto one = [&]() {
    if (Api::send(sv[0], out, kSize, MSG_DONTWAIT) !=
        static_cast<ssize_t>(kSize)) {
      *error = Errno("send");
      return false;
    }
    if (Api::recv(sv[1], in, kSize, MSG_DONTWAIT) !=
        static_cast<ssize_t>(kSize)) {
      *error = Errno("recv");
      return false;
    }
    return true;
  };
  // Warm caches and lazily created state outside the timed region.
  for (int i = 0; i < 64 && ok; ++i) ok = one();
  if (ok && std::memcmp(in, out, kSize) != 0) {
    *error = "received bytes differ from sent bytes";
    ok = false;
  }
  Clock::time_point start = Clock::now();
  for (long i = 0; i < iterations && ok; ++i) ok = one();
  Clock::time_point end = Clock::now();
  Api::close(sv[0]);
  Api::close(sv[1]);
  if (!ok) return false;
  *per_op = std::chrono::duration<double, std::nano>(end - start).count() /
            static_cast<double>(iterations);
  return true;
}

// Quantile with linear interpolation over sorted samples.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

struct Summary {
  double median, p10, p90;
};

Summary Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {Quantile(samples, 0.5), Quantile(samples, 0.1),
          Quantile(samples, 0.9)};
}

struct RowResult {
  const Row* row;
  Summary kernel, shunt;
  double ratio;
};

std::string JsonString(const char* s) {
  std::string out = "\"";
  for (; *s; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool WriteJson(const std::string& path, const std::vector<RowResult>& rs) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "shunt bench: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  std::fprintf(f, "[");
  for (size_t i = 0; i < rs.size(); ++i) {
    std::fprintf(f,
                 "%s\n  {\"name\": %s, \"unit\": %s, \"kernel\": %.3f, "
                 "\"shunt\": %.3f, \"ratio\": %.4f}",
                 i ? "," : "", JsonString(rs[i].row->name).c_str(),
                 JsonString(rs[i].row->unit).c_str(), rs[i].kernel.median,
                 rs[i].shunt.median, rs[i].ratio);
  }
  std::fprintf(f, "%s]\n", rs.empty() ? "" : "\n");
  if (std::fclose(f) != 0) {
    std::fprintf(stderr, "shunt bench: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  return true;
}

int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  return CPU_COUNT(&set);
}

}  // namespace

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"same-thread nonblocking send+recv 64 B, stream socketpair", "ns/op",
       20000, &SendRecvSameThread64<KernelApi>,
       &SendRecvSameThread64<ShuntApi>},
  };
  return rows;
}

int RunBench(const BenchOptions& options) {
  // POSIX extended regex: std::regex trips GCC 12 -Wmaybe-uninitialized
  // false positives under ASan, and this needs nothing more.
  regex_t filter;
  const bool filtering = !options.filter.empty();
  if (filtering) {
    int rc = regcomp(&filter, options.filter.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char msg[256];
      regerror(rc, &filter, msg, sizeof(msg));
      std::fprintf(stderr, "shunt bench: bad --filter regex '%s': %s\n",
                   options.filter.c_str(), msg);
      return 2;
    }
  }
  std::vector<const Row*> selected;
  size_t width = 3;
  for (const Row& row : Rows()) {
    if (filtering && regexec(&filter, row.name, 0, nullptr, 0) != 0) continue;
    selected.push_back(&row);
    width = std::max(width, std::strlen(row.name));
  }
  if (filtering) regfree(&filter);
  if (selected.empty()) {
    std::fprintf(stderr, "shunt bench: no row matches --filter '%s'\n",
                 options.filter.c_str());
    return 2;
  }

  const int reps = options.quick ? 11 : 30;
  const long divisor = options.quick ? 2 : 1;
  std::printf(
      "shunt bench: %ld CPUs online, %d usable, threads not pinned; "
      "%d alternating kernel/shunt batches per row%s\n",
      sysconf(_SC_NPROCESSORS_ONLN), UsableCpus(), reps,
      options.quick ? " (--quick)" : "");
  std::printf(
      "medians of per-batch means; spread = p10-p90 of batch means; "
      "ratio = kernel/shunt (>1: shunt faster)\n");
  std::printf("%-*s  %14s %-17s  %14s %-17s  %7s\n", static_cast<int>(width),
              "row", "kernel", "(p10-p90)", "shunt", "(p10-p90)", "ratio");
  std::fflush(stdout);

  std::vector<RowResult> results;
  bool failed = false;
  for (const Row* row : selected) {
    const long iterations = std::max(1L, row->iterations / divisor);
    std::vector<double> kernel, shunt;
    std::string error;
    bool ok = true;
    auto run = [&](bool is_shunt, bool record) {
      double per_op = 0;
      BatchFn fn = is_shunt ? row->shunt : row->kernel;
      if (!fn(iterations, &per_op, &error)) {
        std::fprintf(stderr, "shunt bench: %s: %s side failed: %s\n", row->name,
                     is_shunt ? "shunt" : "kernel", error.c_str());
        return false;
      }
      if (record) (is_shunt ? shunt : kernel).push_back(per_op);
      return true;
    };
    // One unrecorded warm-up batch per side, then alternate which side goes
    // first so neither systematically benefits from a warmer machine.
    ok = run(false, false) && run(true, false);
    for (int r = 0; r < reps && ok; ++r) {
      bool shunt_first = (r % 2) == 1;
      ok = run(shunt_first, true) && run(!shunt_first, true);
    }
    if (!ok) {
      failed = true;
      continue;
    }
    RowResult res{row, Summarize(kernel), Summarize(shunt), 0};
    res.ratio = res.shunt.median > 0 ? res.kernel.median / res.shunt.median : 0;
    char kvalue[48], kspread[48], svalue[48], sspread[48];
    std::snprintf(kvalue, sizeof(kvalue), "%.1f %s", res.kernel.median,
                  row->unit);
    std::snprintf(kspread, sizeof(kspread), "(%.1f-%.1f)", res.kernel.p10,
                  res.kernel.p90);
    std::snprintf(svalue, sizeof(svalue), "%.1f %s", res.shunt.median,
                  row->unit);
    std::snprintf(sspread, sizeof(sspread), "(%.1f-%.1f)", res.shunt.p10,
                  res.shunt.p90);
    std::printf("%-*s  %14s %-17s  %14s %-17s  %6.2fx\n",
                static_cast<int>(width), row->name, kvalue, kspread, svalue,
                sspread, res.ratio);
    std::fflush(stdout);
    results.push_back(res);
  }

  if (!options.json_path.empty() && !WriteJson(options.json_path, results))
    failed = true;
  return failed ? 1 : 0;
}

}  // namespace shunt_tool

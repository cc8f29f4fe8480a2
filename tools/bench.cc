#include "bench.h"

#include <regex.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace shunt_tool {
namespace {

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
  double kernel_p99_us = 0, shunt_p99_us = 0;  // latency rows only
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
                 "%s\n  {\"name\": %s, \"unit\": %s, \"kernel\": %.4f, "
                 "\"shunt\": %.4f, \"ratio\": %.4f",
                 i ? "," : "", JsonString(rs[i].row->name).c_str(),
                 JsonString(rs[i].row->unit).c_str(), rs[i].kernel.median,
                 rs[i].shunt.median, rs[i].ratio);
    if (rs[i].row->latency)
      std::fprintf(f, ", \"kernel_p99_us\": %.4f, \"shunt_p99_us\": %.4f",
                   rs[i].kernel_p99_us, rs[i].shunt_p99_us);
    std::fprintf(f, "}");
  }
  std::fprintf(f, "%s]\n", rs.empty() ? "" : "\n");
  if (std::fclose(f) != 0) {
    std::fprintf(stderr, "shunt bench: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  return true;
}

// Everything one row measured, per side.
struct RowSamples {
  std::vector<double> kernel, shunt, kernel_lat, shunt_lat;
};

// The row's batches: one unrecorded warm-up batch per side, then `reps`
// recorded ones per side, alternating which side goes first so neither
// systematically benefits from a warmer machine.
bool RunRow(const Row& row, long iterations, int reps, RowSamples* out) {
  std::string error;
  auto run = [&](bool is_shunt, bool record) {
    Batch batch;
    BatchFn fn = is_shunt ? row.shunt : row.kernel;
    if (!fn(iterations, &batch, &error)) {
      std::fprintf(stderr, "shunt bench: %s: %s side failed: %s\n", row.name,
                   is_shunt ? "shunt" : "kernel", error.c_str());
      return false;
    }
    if (record) {
      (is_shunt ? out->shunt : out->kernel).push_back(batch.value);
      auto& lat = is_shunt ? out->shunt_lat : out->kernel_lat;
      lat.insert(lat.end(), batch.latencies_ns.begin(),
                 batch.latencies_ns.end());
    }
    return true;
  };
  bool ok = run(false, false) && run(true, false);
  for (int r = 0; r < reps && ok; ++r) {
    const bool shunt_first = (r % 2) == 1;
    ok = run(shunt_first, true) && run(!shunt_first, true);
  }
  return ok;
}

bool WriteAll(int fd, const void* p, size_t n) {
  const auto* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = write(fd, b, n);
    if (k <= 0) return false;
    b += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
bool ReadAll(int fd, void* p, size_t n) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = read(fd, b, n);
    if (k <= 0) return false;
    b += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// Runs the row in a forked child so that every row starts as a fresh
// single-threaded process: a row with threads (ping-pong, bulk) leaves the
// process multi-threaded for good (glibc's __libc_single_threaded), which
// would take the following rows off the single-threaded fast paths the
// kernel side has no equivalent of. The samples come back over a pipe.
bool RunRowInChild(const Row& row, long iterations, int reps, RowSamples* out) {
  int p[2];
  if (pipe(p) != 0) return false;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return false;
  }
  std::vector<double>* parts[] = {&out->kernel, &out->shunt, &out->kernel_lat,
                                  &out->shunt_lat};
  if (pid == 0) {
    close(p[0]);
    bool ok = RunRow(row, iterations, reps, out);
    for (std::vector<double>* v : parts) {
      const uint64_t n = ok ? v->size() : 0;
      ok = WriteAll(p[1], &n, sizeof n) &&
           WriteAll(p[1], v->data(), n * sizeof(double)) && ok;
    }
    close(p[1]);
    std::exit(ok ? 0 : 1);  // exit, not _exit: shunt closes at exit
  }
  close(p[1]);
  bool ok = true;
  for (std::vector<double>* v : parts) {
    uint64_t n = 0;
    ok = ok && ReadAll(p[0], &n, sizeof n) && n < (uint64_t{1} << 32);
    if (ok) {
      v->resize(n);
      ok = ReadAll(p[0], v->data(), n * sizeof(double));
    }
  }
  close(p[0]);
  int status = 0;
  const bool exited = waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                      WEXITSTATUS(status) == 0;
  return ok && exited && !out->kernel.empty() && !out->shunt.empty();
}

}  // namespace

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
  const long divisor = options.quick ? 4 : 1;
  const Placement& place = CpuPlacement();
  if (place.pinned) {
    std::printf(
        "shunt bench: %ld CPUs online; two-sided rows pin their threads to "
        "CPUs %d and %d (one-CPU rows: both on %d)\n",
        sysconf(_SC_NPROCESSORS_ONLN), place.cpu_a, place.cpu_b, place.cpu_a);
  } else {
    std::printf("shunt bench: %ld CPUs online; threads not pinned\n",
                sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::printf(
      "%d alternating kernel/shunt batches per row%s; medians of batch "
      "figures; spread = p10-p90 of batches;\n"
      "p99 = 99th percentile of single round trips; ratio > 1: shunt "
      "faster\n",
      reps, options.quick ? " (--quick)" : "");
  std::printf("%-*s  %16s %-17s %9s  %16s %-17s %9s  %7s\n",
              static_cast<int>(width), "row", "kernel", "(p10-p90)", "p99",
              "shunt", "(p10-p90)", "p99", "ratio");
  std::fflush(stdout);

  std::vector<RowResult> results;
  bool failed = false;
  for (const Row* row : selected) {
    const long iterations = std::max(1L, row->iterations / divisor);
    RowSamples samples;
    if (!RunRowInChild(*row, iterations, reps, &samples)) {
      failed = true;
      continue;
    }
    std::vector<double>& kernel = samples.kernel;
    std::vector<double>& shunt = samples.shunt;
    std::vector<double>& kernel_lat = samples.kernel_lat;
    std::vector<double>& shunt_lat = samples.shunt_lat;
    RowResult res{row, Summarize(kernel), Summarize(shunt)};
    if (row->latency) {
      std::sort(kernel_lat.begin(), kernel_lat.end());
      std::sort(shunt_lat.begin(), shunt_lat.end());
      res.kernel_p99_us = Quantile(kernel_lat, 0.99) / 1000.0;
      res.shunt_p99_us = Quantile(shunt_lat, 0.99) / 1000.0;
    }
    const double num =
        row->higher_is_better ? res.shunt.median : res.kernel.median;
    const double den =
        row->higher_is_better ? res.kernel.median : res.shunt.median;
    res.ratio = den > 0 ? num / den : 0;
    auto cell = [](double v, const char* unit) {
      char buf[48];
      std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : "%.1f %s", v, unit);
      return std::string(buf);
    };
    auto spread = [](const Summary& x) {
      char buf[48];
      std::snprintf(buf, sizeof buf, x.p10 < 10 ? "(%.2f-%.2f)" : "(%.1f-%.1f)",
                    x.p10, x.p90);
      return std::string(buf);
    };
    auto p99 = [&](double v) {
      if (!row->latency) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f us", v);
      return std::string(buf);
    };
    std::printf("%-*s  %16s %-17s %9s  %16s %-17s %9s  %6.2fx\n",
                static_cast<int>(width), row->name,
                cell(res.kernel.median, row->unit).c_str(),
                spread(res.kernel).c_str(), p99(res.kernel_p99_us).c_str(),
                cell(res.shunt.median, row->unit).c_str(),
                spread(res.shunt).c_str(), p99(res.shunt_p99_us).c_str(),
                res.ratio);
    std::fflush(stdout);
    results.push_back(res);
  }

  if (!options.json_path.empty() && !WriteJson(options.json_path, results))
    failed = true;
  return failed ? 1 : 0;
}

}  // namespace shunt_tool

// Why: see BenchUtil.hpp.
#include "bench/BenchUtil.hpp"

#include <malloc.h>
#include <unistd.h>
#include <cstdio>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/Error.hpp"

namespace diffuser::bench {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

int int_option(const std::string& option, const std::string& value, int min_value) {
  int out = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, out);
  DIFFUSER_CHECK(!value.empty() && ec == std::errc() && ptr == end,
                 "option {}: '{}' is not an integer{}", option, value,
                 ec == std::errc::result_out_of_range ? " (out of range)" : "");
  DIFFUSER_CHECK(out >= min_value, "option {}: {} must be >= {}", option, out, min_value);
  return out;
}

double number_option(const std::string& option, const std::string& value) {
  double out = 0.0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, out);
  DIFFUSER_CHECK(!value.empty() && ec == std::errc() && ptr == end && std::isfinite(out),
                 "option {}: '{}' is not a finite number", option, value);
  return out;
}

std::uint64_t uint64_option(const std::string& option, const std::string& value) {
  std::uint64_t out = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, out);
  DIFFUSER_CHECK(!value.empty() && ec == std::errc() && ptr == end,
                 "option {}: '{}' is not an unsigned 64-bit integer", option, value);
  return out;
}

double proc_status_bytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::strlen(field) + 1)) * 1024.0;
  }
  return 0.0;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

nlohmann::json machine_json() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const double memory_gb = pages > 0 && page > 0 ? static_cast<double>(pages) * page / 1e9 : 0.0;
  return {{"cpu", cpu_model()},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"memory_gb", memory_gb}};
}

PeakMeter::PeakMeter() {
  malloc_trim(0);
  std::ofstream reset("/proc/self/clear_refs");
  reset << "5";
  reset.close();
  supported_ = reset.good();
  baseline_ = proc_status_bytes("VmRSS:");
}

double PeakMeter::peak_mb() const {
  if (!supported_) return -1.0;
  return (proc_status_bytes("VmHWM:") - baseline_) / kMiB;
}

bool help_requested(int argc, char** argv, const char* usage) {
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return true;
    }
  }
  return false;
}

}  // namespace diffuser::bench

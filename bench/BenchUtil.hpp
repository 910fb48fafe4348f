// Why: the helpers every benchmark program needs — wall-clock timing, medians, the machine's
// description and the resident-set peak of a measured section — in one place, so that the
// benchmarks report them the same way (docs/benchmarks.md); and their numeric options parsed
// strictly, so that a typo is an error naming the option, not a std::stoi message.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace diffuser::bench {

using Clock = std::chrono::steady_clock;

inline constexpr double kMiB = 1048576.0;

/// Milliseconds elapsed since t0.
double ms_since(Clock::time_point t0);

/// Seconds elapsed since t0.
double seconds_since(Clock::time_point t0);

/// Median of v (mean of the two middle values for an even count; 0 for an empty v).
double median(std::vector<double> v);

/// A "Vm...: N kB" field of /proc/self/status (e.g. "VmHWM:"), in bytes; 0 when unavailable.
double proc_status_bytes(const char* field);

/// The CPU's model name from /proc/cpuinfo ("unknown" when unavailable).
std::string cpu_model();

/// {"cpu", "hardware_threads", "memory_gb" (physical memory)} of this machine.
nlohmann::json machine_json();

/// The value of a numeric option `--name value`: int_option() wants the whole string to be an
/// integer in [min_value, INT_MAX], number_option() a finite number. Anything else ("abc",
/// "12x", "1e999", "nan") throws diffuser::Error naming the option and the value.
int int_option(const std::string& option, const std::string& value,
               int min_value = std::numeric_limits<int>::min());
double number_option(const std::string& option, const std::string& value);
/// The same for an unsigned 64-bit value (a seed): digits only.
std::uint64_t uint64_option(const std::string& option, const std::string& value);

/// True (after printing `usage` to stdout) when an argument is --help or -h: the program then
/// exits 0 without measuring anything.
bool help_requested(int argc, char** argv, const char* usage);

/// Peak resident memory of a section: the constructor trims the heap, resets the kernel's
/// high-water mark (/proc/self/clear_refs, "5") and remembers the resident set; peak_mb() is the
/// high-water mark since then minus that baseline, or -1 where the reset is not supported.
class PeakMeter {
 public:
  PeakMeter();
  double peak_mb() const;

 private:
  double baseline_ = 0;
  bool supported_ = false;
};

}  // namespace diffuser::bench

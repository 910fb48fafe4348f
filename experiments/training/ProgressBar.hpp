// Why: a training run takes minutes to hours; on a terminal the user wants to see how far it is,
// how fast it goes and when it will end, while logs redirected to files must stay clean. The bar
// draws itself (on stderr, in place) only when stderr is a terminal. Debian has no C++
// progress-bar library (TOOLCHAIN.md), so this is a small one of our own.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace diffuser::experiments {

/// A one-line progress display `label [#####.....] done/total rate/s ETA 1m23s suffix`,
/// redrawn in place at most every `min_interval` seconds.
class ProgressBar {
 public:
  /// `total` >= 1 units (e.g. optimiser steps); `start` units are already done (a resumed run),
  /// so the rate counts only this session's work. Enabled when `out` is a terminal.
  ProgressBar(std::int64_t total, std::string label, std::int64_t start = 0,
              std::FILE* out = stderr);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Forces the display on or off (tests; `--progress`-style flags).
  void set_enabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }

  /// Reports `done` units finished; `suffix` (e.g. "loss 1.234") is shown after the ETA.
  void update(std::int64_t done, const std::string& suffix = "");

  /// Prints one status line to the bar's stream without garbling the bar: clears the bar's
  /// line first (when drawn); the next update() redraws it below the message.
  void message(const std::string& text);

  /// Draws the final state and ends the line (idempotent; also run by the destructor).
  void finish();

  /// The text of the bar for `done` units after `elapsed_s` seconds of this session (no
  /// terminal codes): what update() draws. Exposed for tests.
  std::string render(std::int64_t done, double elapsed_s, const std::string& suffix) const;

  /// "42s", "3m05s", "2h01m": a duration for humans.
  static std::string format_duration(double seconds);

 private:
  std::int64_t total_, start_;
  std::string label_;
  std::FILE* out_;
  bool enabled_ = false;
  bool drawn_ = false;
  bool finished_ = false;
  std::int64_t last_done_ = 0;
  std::string last_suffix_;
  std::chrono::steady_clock::time_point begin_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace diffuser::experiments

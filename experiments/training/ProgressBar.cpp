// Why: terminal progress with rate and ETA (see ProgressBar.hpp).
#include "experiments/training/ProgressBar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace diffuser::experiments {

namespace {
constexpr double kMinRedrawSeconds = 0.2;
constexpr int kBarWidth = 24;
}  // namespace

ProgressBar::ProgressBar(std::int64_t total, std::string label, std::int64_t start, std::FILE* out)
    : total_(std::max<std::int64_t>(total, 1)),
      start_(start),
      label_(std::move(label)),
      out_(out),
      enabled_(out != nullptr && isatty(fileno(out)) == 1),
      last_done_(start),
      begin_(std::chrono::steady_clock::now()),
      last_draw_(begin_) {}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<std::int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string ProgressBar::render(std::int64_t done, double elapsed_s,
                                const std::string& suffix) const {
  const double frac = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
  const int filled = static_cast<int>(frac * kBarWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  const double units = static_cast<double>(done - start_);
  const double rate = elapsed_s > 0 && units > 0 ? units / elapsed_s : 0.0;
  const std::string eta =
      rate > 0 ? format_duration(static_cast<double>(total_ - done) / rate) : std::string("?");
  std::string text = fmt::format("{} [{}] {}/{} {:.2f}/s ETA {}", label_, bar, done, total_, rate,
                                 done >= total_ ? std::string("0s") : eta);
  if (!suffix.empty()) text += " " + suffix;
  return text;
}

void ProgressBar::update(std::int64_t done, const std::string& suffix) {
  last_done_ = done;
  last_suffix_ = suffix;
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < kMinRedrawSeconds &&
      done < total_)
    return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - begin_).count();
  // \r returns to the line start, \033[K clears what a longer earlier line left behind.
  std::fprintf(out_, "\r%s\033[K", render(done, elapsed, suffix).c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::message(const std::string& text) {
  if (out_ == nullptr) return;
  if (enabled_ && drawn_ && !finished_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
  drawn_ = false;
}

void ProgressBar::finish() {
  if (finished_) return;
  if (enabled_) {
    drawn_ = false;  // force the last draw
    update(last_done_, last_suffix_);
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  finished_ = true;
}

}  // namespace diffuser::experiments

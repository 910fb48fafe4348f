// Why: the text graph readers (Matrix Market, edge lists) share one way of walking lines,
// splitting whitespace-separated fields and parsing numbers strictly, so every malformed file
// gets an error of the same shape: "<file>:<line>: <problem>".
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/Error.hpp"

namespace diffuser::graph {

/// Iterates over the lines of an in-memory text (LF or CRLF endings) and keeps the 1-based line
/// number for error messages.
class LineScanner {
 public:
  /// `name` is the file name used in messages.
  LineScanner(std::string_view text, std::string name) : text_(text), name_(std::move(name)) {}

  /// Next line without its terminator; false at the end of the text.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    const auto nl = text_.find('\n', pos_);
    const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_;
    return true;
  }

  /// 1-based number of the line last returned by next() (0 before the first call).
  std::int64_t line() const { return line_; }
  const std::string& name() const { return name_; }
  /// Byte offset of the start of the next line (text size at the end).
  std::size_t offset() const { return pos_; }

  /// Throws diffuser::Error "<name>:<line>: <message>".
  template <typename... Args>
  [[noreturn]] void fail_at(fmt::format_string<Args...> format, Args&&... args) const {
    diffuser::fail("{}:{}: {}", name_, line_, fmt::format(format, std::forward<Args>(args)...));
  }

  /// True when the line (or text) holds only blanks and line breaks.
  static bool blank(std::string_view line) {
    return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
  }

  /// Splits on blanks into at most `max_fields` fields; returns how many fields the line has
  /// (counting beyond max_fields, so callers can report "too many fields").
  static int split(std::string_view line, std::string_view* fields, int max_fields) {
    int count = 0;
    std::size_t p = 0;
    while (true) {
      p = line.find_first_not_of(" \t", p);
      if (p == std::string_view::npos) break;
      const auto e = line.find_first_of(" \t", p);
      const std::size_t end = e == std::string_view::npos ? line.size() : e;
      if (count < max_fields) fields[count] = line.substr(p, end - p);
      ++count;
      p = end;
    }
    return count;
  }

  /// Parses the whole field as a decimal integer.
  static bool parse_int(std::string_view s, std::int64_t& out) {
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  }

  /// Parses the whole field as a floating-point number (accepts what strtod accepts in the C
  /// locale except hexadecimal; "nan"/"inf" parse and are rejected by callers as non-finite).
  static bool parse_real(std::string_view s, double& out) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  }

 private:
  std::string_view text_;
  std::string name_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 0;
};

}  // namespace diffuser::graph

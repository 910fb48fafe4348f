// Why: one evaluator, one formatter and one TSV reader/writer for ListOps, shared by the
// generator, the CLI and the trainer. Semantics and file format follow the Long Range Arena
// description (Tay et al., "Long Range Arena", ICLR 2021; TOOLCHAIN.md), written here.
#include "experiments/data/ListOps.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ostream>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

namespace {

constexpr std::array<std::string_view, kListOpsVocabSize> kNames = {
    "<pad>", "[MIN", "[MAX", "[MED", "[SM", "]", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

bool is_operator(std::int32_t id) { return id >= kListOpsMin && id <= kListOpsSum; }
bool is_digit(std::int32_t id) { return id >= kListOpsDigit0 && id < kListOpsDigit0 + 10; }

std::int32_t apply(std::int32_t op, std::span<std::int32_t> args) {
  switch (op) {
    case kListOpsMin:
      return *std::min_element(args.begin(), args.end());
    case kListOpsMax:
      return *std::max_element(args.begin(), args.end());
    case kListOpsSum: {
      std::int64_t sum = 0;
      for (const auto v : args) sum += v;
      return static_cast<std::int32_t>(sum % 10);
    }
    default: {  // MED: numpy.median truncated to int; values are >= 0, so truncation is floor.
      std::sort(args.begin(), args.end());
      const std::size_t k = args.size();
      if (k % 2 == 1) return args[k / 2];
      return (args[k / 2 - 1] + args[k / 2]) / 2;
    }
  }
}

}  // namespace

std::string_view listops_token_name(std::int32_t id) {
  DIFFUSER_CHECK(id >= 0 && id < kListOpsVocabSize, "ListOps token id {} outside [0, {})", id,
                 kListOpsVocabSize);
  return kNames[static_cast<std::size_t>(id)];
}

std::vector<std::int32_t> tokenize_listops(std::string_view source) {
  std::vector<std::int32_t> tokens;
  tokens.reserve(source.size() / 3 + 1);
  std::size_t i = 0;
  const std::size_t n = source.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < n) {
    while (i < n && is_space(source[i])) ++i;
    if (i == n) break;
    const std::size_t begin = i;
    while (i < n && !is_space(source[i])) ++i;
    const std::string_view word = source.substr(begin, i - begin);
    if (word.size() == 1) {
      const char c = word[0];
      if (c == '(' || c == ')') continue;
      if (c >= '0' && c <= '9') {
        tokens.push_back(kListOpsDigit0 + (c - '0'));
        continue;
      }
      if (c == ']') {
        tokens.push_back(kListOpsClose);
        continue;
      }
    } else if (word == "[MIN") {
      tokens.push_back(kListOpsMin);
      continue;
    } else if (word == "[MAX") {
      tokens.push_back(kListOpsMax);
      continue;
    } else if (word == "[MED") {
      tokens.push_back(kListOpsMed);
      continue;
    } else if (word == "[SM") {
      tokens.push_back(kListOpsSum);
      continue;
    }
    fail("unknown ListOps token '{}' at column {}", word, begin + 1);
  }
  return tokens;
}

std::int32_t evaluate_listops(std::span<const std::int32_t> tokens) {
  DIFFUSER_CHECK(!tokens.empty(), "empty ListOps expression");
  struct Frame {
    std::int32_t op;
    std::size_t start;  // first argument's position in `values`
  };
  std::vector<Frame> frames;
  std::vector<std::int32_t> values;
  values.reserve(64);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::int32_t t = tokens[i];
    const bool last = i + 1 == tokens.size();
    if (is_operator(t)) {
      frames.push_back({t, values.size()});
    } else if (is_digit(t)) {
      if (frames.empty()) {
        DIFFUSER_CHECK(last, "ListOps expression: token {} ('{}') is followed by more tokens", i,
                       listops_token_name(t));
        return t - kListOpsDigit0;
      }
      values.push_back(t - kListOpsDigit0);
    } else if (t == kListOpsClose) {
      DIFFUSER_CHECK(!frames.empty(), "ListOps expression: token {} (']') closes nothing", i);
      const Frame frame = frames.back();
      frames.pop_back();
      DIFFUSER_CHECK(values.size() > frame.start,
                     "ListOps expression: operator '{}' closed at token {} has no arguments",
                     listops_token_name(frame.op), i);
      const std::int32_t result =
          apply(frame.op, std::span<std::int32_t>(values).subspan(frame.start));
      values.resize(frame.start);
      if (frames.empty()) {
        DIFFUSER_CHECK(last, "ListOps expression: tokens after the closing ']' at token {}", i);
        return result;
      }
      values.push_back(result);
    } else {
      fail("ListOps expression: token {} has id {}, not an operator, digit or ']'", i, t);
    }
  }
  fail("ListOps expression: {} operator(s) not closed by ']'", frames.size());
}

std::string listops_source(std::span<const std::int32_t> tokens) {
  evaluate_listops(tokens);  // validates the structure
  // Argument count of each operator: the number of "( " it opens is count + 1.
  std::vector<std::int32_t> argc(tokens.size(), 0);
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::int32_t t = tokens[i];
    if (t == kListOpsClose) {
      open.pop_back();
      continue;
    }
    if (!open.empty()) ++argc[open.back()];
    if (is_operator(t)) open.push_back(i);
  }
  std::string out;
  out.reserve(tokens.size() * 6);
  std::size_t depth = 0;  // operators open at this point
  auto put = [&out](std::string_view piece) {
    if (!out.empty()) out += ' ';
    out += piece;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::int32_t t = tokens[i];
    if (is_operator(t)) {
      for (std::int32_t k = 0; k <= argc[i]; ++k) put("(");
      put(kNames[static_cast<std::size_t>(t)]);
      ++depth;
    } else if (is_digit(t)) {
      put(kNames[static_cast<std::size_t>(t)]);
      if (depth > 0) put(")");
    } else {
      put("]");
      put(")");
      --depth;
      if (depth > 0) put(")");
    }
  }
  return out;
}

void write_listops_tsv(const std::string& path, const SequenceDataset& data) {
  DIFFUSER_CHECK(data.vocab_size() == kListOpsVocabSize && data.cls_id() < 0,
                 "cannot write '{}': dataset '{}' is not a ListOps dataset (vocab {}, cls id {})",
                 path, data.name(), data.vocab_size(), data.cls_id());
  write_atomic(path, [&](std::ostream& out) {
    out << "Source\tTarget\n";
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto tokens = data.tokens(i);
      const std::int32_t value = evaluate_listops(tokens);
      DIFFUSER_CHECK(value == data.label(i),
                     "cannot write '{}': example {} has label {} but evaluates to {}", path, i,
                     data.label(i), value);
      out << listops_source(tokens) << '\t' << value << '\n';
    }
  });
}

SequenceDataset read_listops_tsv(const std::string& path, const ListOpsReadOptions& options) {
  return parse_listops_tsv(read_compressed_file(path), path, options);
}

SequenceDataset parse_listops_tsv(std::string_view all, const std::string& path,
                                  const ListOpsReadOptions& options) {
  SequenceDataset data("listops:" + path, kListOpsVocabSize, kListOpsNumClasses, kListOpsPad);
  std::size_t pos = 0;
  std::size_t line_no = 0;
  std::vector<std::int32_t> tokens;
  while (pos < all.size()) {
    std::size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1) {
      DIFFUSER_CHECK(line == "Source\tTarget",
                     "{}:1: expected the header 'Source<TAB>Target', found '{}'", path,
                     line.substr(0, 60));
      continue;
    }
    DIFFUSER_CHECK(!line.empty(), "{}:{}: empty line", path, line_no);
    const std::size_t tab = line.find('\t');
    DIFFUSER_CHECK(tab != std::string_view::npos,
                   "{}:{}: expected 2 tab-separated fields (Source, Target), found 1", path,
                   line_no);
    DIFFUSER_CHECK(line.find('\t', tab + 1) == std::string_view::npos,
                   "{}:{}: expected 2 tab-separated fields (Source, Target), found more", path,
                   line_no);
    std::string_view target = line.substr(tab + 1);
    while (!target.empty() && target.front() == ' ') target.remove_prefix(1);
    while (!target.empty() && target.back() == ' ') target.remove_suffix(1);
    std::int32_t label = -1;
    const auto [ptr, ec] = std::from_chars(target.data(), target.data() + target.size(), label);
    DIFFUSER_CHECK(
        ec == std::errc() && ptr == target.data() + target.size() && label >= 0 && label <= 9,
        "{}:{}: Target '{}' is not a digit 0..9", path, line_no, target);
    std::int32_t value = 0;
    try {
      tokens = tokenize_listops(line.substr(0, tab));
      value = evaluate_listops(tokens);
    } catch (const Error& e) {
      fail("{}:{}: {}", path, line_no, e.what());
    }
    DIFFUSER_CHECK(!options.verify_labels || value == label,
                   "{}:{}: Target is {} but the Source evaluates to {}", path, line_no, label,
                   value);
    data.add(tokens, label);
  }
  DIFFUSER_CHECK(line_no >= 1, "{}: empty file (expected the header 'Source<TAB>Target')", path);
  return data;
}

}  // namespace diffuser::experiments

// Why: parsing and writing of labelled-text files, with every malformed line reported by
// file and line.
#include "experiments/data/TextDataset.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

namespace {

// Calls fn(line_number, line) for each line of `text`, without the line end (LF or CRLF).
// A final line end does not start another line.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(++line_no, line);
    pos = end + 1;
  }
}

}  // namespace

std::string escape_text_field(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string unescape_text_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\\' && i + 1 < field.size()) {
      const char next = field[i + 1];
      const char decoded = next == 'n'    ? '\n'
                           : next == 't'  ? '\t'
                           : next == 'r'  ? '\r'
                           : next == '\\' ? '\\'
                                          : '\0';
      if (decoded != '\0') {
        out += decoded;
        ++i;
        continue;
      }
    }
    out += c;
  }
  return out;
}

TextDataset read_text_tsv(const std::string& path, const std::vector<std::string>& class_names) {
  const std::string content = read_compressed_file(path);
  struct Row {
    std::size_t line_no;
    std::string_view label;
    std::string text;
  };
  std::vector<Row> rows;
  for_each_line(content, [&](std::size_t line_no, std::string_view line) {
    if (line.empty()) return;  // blank lines separate nothing; they are skipped
    const std::size_t tab = line.find('\t');
    DIFFUSER_CHECK(tab != std::string_view::npos, "{}:{}: expected 'label<TAB>text', found no tab",
                   path, line_no);
    DIFFUSER_CHECK(tab > 0, "{}:{}: empty label", path, line_no);
    DIFFUSER_CHECK(tab + 1 < line.size(), "{}:{}: empty text", path, line_no);
    rows.push_back({line_no, line.substr(0, tab), unescape_text_field(line.substr(tab + 1))});
  });
  DIFFUSER_CHECK(!rows.empty(), "{}: no documents", path);
  TextDataset data;
  if (class_names.empty()) {
    std::set<std::string_view> distinct;
    for (const auto& row : rows) distinct.insert(row.label);
    data.class_names.assign(distinct.begin(), distinct.end());
  } else {
    data.class_names = class_names;
  }
  std::map<std::string_view, std::int32_t> ids;
  for (std::size_t c = 0; c < data.class_names.size(); ++c) {
    ids.emplace(data.class_names[c], static_cast<std::int32_t>(c));
  }
  data.examples.reserve(rows.size());
  for (auto& row : rows) {
    const auto it = ids.find(row.label);
    if (it == ids.end()) {
      fail("{}:{}: label '{}' is not one of the {} known classes", path, row.line_no, row.label,
           data.class_names.size());
    }
    data.examples.push_back({it->second, std::move(row.text)});
  }
  return data;
}

void write_text_tsv(const std::string& path, const TextDataset& data) {
  write_atomic(path, [&](std::ostream& out) {
    for (std::size_t i = 0; i < data.examples.size(); ++i) {
      const auto& ex = data.examples[i];
      DIFFUSER_CHECK(ex.label >= 0 && static_cast<std::size_t>(ex.label) < data.class_names.size(),
                     "cannot write '{}': example {} has label {} outside [0, {})", path, i,
                     ex.label, data.class_names.size());
      DIFFUSER_CHECK(!ex.text.empty(), "cannot write '{}': example {} has an empty text", path, i);
      out << data.class_names[static_cast<std::size_t>(ex.label)] << '\t'
          << escape_text_field(ex.text) << '\n';
    }
  });
}

std::vector<std::string> read_class_names(const std::string& path) {
  const std::string content = read_compressed_file(path);
  std::vector<std::string> names;
  std::set<std::string> seen;
  for_each_line(content, [&](std::size_t line_no, std::string_view line) {
    DIFFUSER_CHECK(!line.empty(), "{}:{}: empty class name", path, line_no);
    DIFFUSER_CHECK(line.find('\t') == std::string_view::npos, "{}:{}: class name contains a tab",
                   path, line_no);
    DIFFUSER_CHECK(seen.emplace(line).second, "{}:{}: duplicate class name '{}'", path, line_no,
                   line);
    names.emplace_back(line);
  });
  DIFFUSER_CHECK(!names.empty(), "{}: no class names", path);
  return names;
}

void write_class_names(const std::string& path, const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    DIFFUSER_CHECK(!name.empty() && name.find_first_of("\t\n\r") == std::string::npos,
                   "cannot write '{}': class name '{}' is empty or contains a tab or line break",
                   path, name);
    text += name;
    text += '\n';
  }
  write_text_atomic(path, text);
}

void write_text_splits(const std::string& out_dir, const TextSplits& splits) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  DIFFUSER_CHECK(!ec && std::filesystem::is_directory(out_dir),
                 "cannot create output directory '{}': {}", out_dir, ec.message());
  const std::filesystem::path dir(out_dir);
  write_text_tsv((dir / "train.tsv").string(), splits.train);
  write_text_tsv((dir / "val.tsv").string(), splits.val);
  write_text_tsv((dir / "test.tsv").string(), splits.test);
  write_class_names((dir / "classes.txt").string(), splits.train.class_names);
}

SequenceDataset to_byte_sequences(const TextDataset& data, const std::string& name,
                                  std::size_t max_length) {
  DIFFUSER_CHECK(!data.class_names.empty(), "text dataset '{}' has no classes", name);
  SequenceDataset out(name, 256, static_cast<std::int32_t>(data.class_names.size()), 0);
  std::vector<std::int32_t> tokens;
  for (const auto& ex : data.examples) {
    const std::size_t n = max_length > 0 ? std::min(max_length, ex.text.size()) : ex.text.size();
    tokens.resize(n);
    for (std::size_t i = 0; i < n; ++i) tokens[i] = static_cast<std::uint8_t>(ex.text[i]);
    out.add(tokens, ex.label);
  }
  out.set_class_names(data.class_names);
  return out;
}

SequenceDataset load_text_classification(const std::string& path,
                                         const std::vector<std::string>& class_names,
                                         std::size_t max_length) {
  return to_byte_sequences(read_text_tsv(path, class_names), "text:" + path, max_length);
}

}  // namespace diffuser::experiments

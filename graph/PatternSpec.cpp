// Why: validation, presets and the compact string form of PatternSpec. The string form is what
// configs, the CLI (--spec) and logs use, so it parses strictly (unknown or repeated keys and
// bad values are errors naming the key) and prints back canonically.
#include "graph/PatternSpec.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/Error.hpp"

namespace diffuser::graph {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

template <typename T>
T parse_number(const std::string& key, const std::string& value, T min_value) {
  T out{};
  const char* begin = value.data();
  const char* end = begin + value.size();
  const auto [ptr, ec] = std::from_chars(begin, end, out);
  DIFFUSER_CHECK(!value.empty() && ec == std::errc() && ptr == end,
                 "pattern spec: '{}={}': value is not an integer{}", key, value,
                 ec == std::errc::result_out_of_range ? " (out of range)" : "");
  DIFFUSER_CHECK(out >= min_value, "pattern spec: '{}={}': value must be >= {}", key, value,
                 min_value);
  return out;
}

bool parse_flag(const std::string& key, const std::string& value, bool has_value) {
  if (!has_value || value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  fail("pattern spec: '{}={}': expected true, false, 1 or 0", key, value);
}

std::vector<Index> parse_list(const std::string& key, const std::string& value) {
  std::vector<Index> out;
  std::size_t start = 0;
  while (true) {
    const auto colon = value.find(':', start);
    const std::string item =
        value.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    out.push_back(parse_number<Index>(key, item, 0));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

}  // namespace

const char* global_positions_name(GlobalPositions mode) {
  switch (mode) {
    case GlobalPositions::kFirst:
      return "first";
    case GlobalPositions::kSpread:
      return "spread";
    case GlobalPositions::kRandom:
      return "random";
    case GlobalPositions::kList:
      return "list";
  }
  return "?";
}

GlobalPositions parse_global_positions(const std::string& name) {
  if (name == "first") return GlobalPositions::kFirst;
  if (name == "spread") return GlobalPositions::kSpread;
  if (name == "random") return GlobalPositions::kRandom;
  if (name == "list") return GlobalPositions::kList;
  fail("global positions '{}' unknown (expected first, spread, random or list)", name);
}

void validate_spec(const PatternSpec& s) {
  DIFFUSER_CHECK(s.window >= 0, "pattern spec: window = {} is negative", s.window);
  DIFFUSER_CHECK(s.global >= 0, "pattern spec: global = {} is negative", s.global);
  DIFFUSER_CHECK(s.random >= 0, "pattern spec: random = {} is negative", s.random);
  DIFFUSER_CHECK(s.blocks == 0 || (s.blocks >= 2 && s.blocks % 2 == 0),
                 "pattern spec: blocks = {} must be 0 (off) or an even size >= 2 (blocks of W "
                 "tokens at stride W/2)",
                 s.blocks);
  DIFFUSER_CHECK(s.dilated >= 0, "pattern spec: dilated radius {} is negative", s.dilated);
  DIFFUSER_CHECK(s.dilation >= 1, "pattern spec: dilation step {} must be >= 1", s.dilation);
  DIFFUSER_CHECK(s.random_cells >= 0, "pattern spec: random-cells = {} is negative",
                 s.random_cells);
  DIFFUSER_CHECK(s.expander >= 0, "pattern spec: expander = {} is negative", s.expander);
  DIFFUSER_CHECK(s.block_size >= 1, "pattern spec: block-size = {} must be >= 1", s.block_size);
  DIFFUSER_CHECK(s.crop_from >= 0, "pattern spec: crop-from = {} is negative", s.crop_from);
  if (s.global_positions == GlobalPositions::kList) {
    DIFFUSER_CHECK(!s.global_list.empty(),
                   "pattern spec: global positions 'list' need at least one position");
    DIFFUSER_CHECK(static_cast<std::size_t>(s.global) == s.global_list.size(),
                   "pattern spec: global = {} but global-list holds {} positions", s.global,
                   s.global_list.size());
    for (const Index p : s.global_list) {
      DIFFUSER_CHECK(p >= 0, "pattern spec: global position {} is negative", p);
    }
  } else {
    DIFFUSER_CHECK(s.global_list.empty(),
                   "pattern spec: global-list given but global positions are '{}' (not list)",
                   global_positions_name(s.global_positions));
  }
}

std::vector<std::string> preset_names() {
  return {"diffuser", "diffuser-cropped", "bigbird", "longformer", "full"};
}

PatternSpec preset_spec(const std::string& name, std::uint64_t seed) {
  PatternSpec s;
  s.seed = seed;
  if (name == "diffuser") {
    s.blocks = 64;
    s.global = 64;
    s.global_positions = GlobalPositions::kRandom;
    s.random = 64;
  } else if (name == "diffuser-cropped") {
    s.blocks = 64;
    s.global = 64;
    s.global_positions = GlobalPositions::kRandom;
    s.random_cells = 64 * 4096;
    s.crop_from = 4096;
  } else if (name == "bigbird") {
    s.block_size = 64;
    s.window = 1;
    s.global = 2;
    s.global_positions = GlobalPositions::kSpread;
    s.random = 3;
  } else if (name == "longformer") {
    s.window = 256;
    s.global = 1;
  } else if (name == "full") {
    s.full = true;
  } else {
    std::string known;
    for (const auto& p : preset_names()) {
      if (!known.empty()) known += ", ";
      known += p;
    }
    fail("pattern preset '{}' unknown (known: {})", name, known);
  }
  return s;
}

PatternSpec parse_pattern_spec(const std::string& text) {
  struct Item {
    std::string key, value;
    bool has_value;
  };
  std::vector<Item> items;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string raw =
        trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (raw.empty()) {
      DIFFUSER_CHECK(comma == std::string::npos && items.empty() && trim(text).empty(),
                     "pattern spec '{}': empty item", text);
      continue;
    }
    Item it;
    const auto eq = raw.find('=');
    it.has_value = eq != std::string::npos;
    it.key = trim(raw.substr(0, eq));
    it.value = it.has_value ? trim(raw.substr(eq + 1)) : "";
    std::replace(it.key.begin(), it.key.end(), '_', '-');
    DIFFUSER_CHECK(seen.insert(it.key).second, "pattern spec '{}': key '{}' given twice", text,
                   it.key);
    items.push_back(it);
  }
  PatternSpec s;
  for (const auto& it : items) {
    if (it.key == "preset") {
      DIFFUSER_CHECK(it.has_value && !it.value.empty(), "pattern spec: 'preset' needs a name");
      s = preset_spec(it.value);
    }
  }
  bool list_given = false, global_given = false, positions_given = false;
  for (const auto& it : items) {
    const std::string& k = it.key;
    const std::string& v = it.value;
    const bool is_flag = k == "causal" || k == "full";
    DIFFUSER_CHECK(is_flag || it.has_value || k == "preset",
                   "pattern spec: key '{}' needs a value ({}=...)", k, k);
    if (k == "preset") {
      continue;
    } else if (k == "window") {
      s.window = parse_number<Index>(k, v, 0);
    } else if (k == "global") {
      s.global = parse_number<Index>(k, v, 0);
      global_given = true;
    } else if (k == "global-positions") {
      s.global_positions = parse_global_positions(v);
      positions_given = true;
    } else if (k == "global-list") {
      s.global_list = parse_list(k, v);
      list_given = true;
    } else if (k == "random") {
      s.random = parse_number<Index>(k, v, 0);
    } else if (k == "causal") {
      s.causal = parse_flag(k, v, it.has_value);
    } else if (k == "full") {
      s.full = parse_flag(k, v, it.has_value);
    } else if (k == "blocks") {
      s.blocks = parse_number<Index>(k, v, 0);
    } else if (k == "dilated") {
      const auto colon = v.find(':');
      DIFFUSER_CHECK(colon != std::string::npos,
                     "pattern spec: 'dilated={}': expected RADIUS:STEP, e.g. dilated=8:4", v);
      s.dilated = parse_number<Index>(k, v.substr(0, colon), 0);
      s.dilation = parse_number<Index>(k, v.substr(colon + 1), 1);
    } else if (k == "random-cells") {
      s.random_cells = parse_number<std::int64_t>(k, v, 0);
    } else if (k == "expander") {
      s.expander = parse_number<Index>(k, v, 0);
    } else if (k == "block-size") {
      s.block_size = parse_number<Index>(k, v, 1);
    } else if (k == "crop-from") {
      s.crop_from = parse_number<Index>(k, v, 0);
    } else if (k == "seed") {
      s.seed = parse_number<std::uint64_t>(k, v, 0);
    } else {
      fail(
          "pattern spec: unknown key '{}' (known: preset, window, global, global-positions, "
          "global-list, random, causal, blocks, dilated, random-cells, expander, full, "
          "block-size, crop-from, seed)",
          k);
    }
  }
  if (list_given) {
    DIFFUSER_CHECK(!positions_given || s.global_positions == GlobalPositions::kList,
                   "pattern spec: global-list given with global-positions={}",
                   global_positions_name(s.global_positions));
    DIFFUSER_CHECK(!global_given || static_cast<std::size_t>(s.global) == s.global_list.size(),
                   "pattern spec: global={} but global-list holds {} positions", s.global,
                   s.global_list.size());
    s.global_positions = GlobalPositions::kList;
    s.global = static_cast<Index>(s.global_list.size());
  } else if (positions_given && s.global_positions == GlobalPositions::kList) {
    fail("pattern spec: global-positions=list needs global-list=P1:P2:...");
  } else if (s.global_positions != GlobalPositions::kList) {
    s.global_list.clear();
  }
  validate_spec(s);
  return s;
}

std::string format_pattern_spec(const PatternSpec& s) {
  std::vector<std::string> parts;
  if (s.window != 0) parts.push_back(fmt::format("window={}", s.window));
  if (s.global_positions == GlobalPositions::kList) {
    std::string list;
    for (const Index p : s.global_list) {
      if (!list.empty()) list += ':';
      list += std::to_string(p);
    }
    if (!s.global_list.empty()) parts.push_back("global-list=" + list);
  } else if (s.global != 0) {
    parts.push_back(fmt::format("global={}", s.global));
  }
  if (s.global_positions != GlobalPositions::kFirst &&
      s.global_positions != GlobalPositions::kList) {
    parts.push_back(fmt::format("global-positions={}", global_positions_name(s.global_positions)));
  }
  if (s.random != 0) parts.push_back(fmt::format("random={}", s.random));
  if (s.causal) parts.emplace_back("causal");
  if (s.blocks != 0) parts.push_back(fmt::format("blocks={}", s.blocks));
  if (s.dilated != 0 || s.dilation != 1) {
    parts.push_back(fmt::format("dilated={}:{}", s.dilated, s.dilation));
  }
  if (s.random_cells != 0) parts.push_back(fmt::format("random-cells={}", s.random_cells));
  if (s.expander != 0) parts.push_back(fmt::format("expander={}", s.expander));
  if (s.full) parts.emplace_back("full");
  if (s.block_size != 1) parts.push_back(fmt::format("block-size={}", s.block_size));
  if (s.crop_from != 0) parts.push_back(fmt::format("crop-from={}", s.crop_from));
  if (s.seed != 0) parts.push_back(fmt::format("seed={}", s.seed));
  if (parts.empty()) return "window=0";
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

}  // namespace diffuser::graph

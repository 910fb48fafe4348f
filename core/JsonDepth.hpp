// Why: nlohmann::json parses, copies and prints nested values recursively, so a small hostile
// file ("[[[[...", 100k levels) overflows the stack and kills the process instead of raising an
// error. Every JSON reader first checks the nesting depth with this scanner, which needs no
// JSON library and runs in O(length) without recursion.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace diffuser {

/// Deepest nesting of objects/arrays diffuser's JSON readers accept (configs use 2 levels,
/// checkpoint headers about 5).
inline constexpr std::size_t kMaxJsonDepth = 128;

/// Throws diffuser::Error "<name>: JSON nested deeper than <max_depth> levels (byte <offset>)"
/// when brackets outside string literals nest deeper than `max_depth`. Does not otherwise
/// validate the text (the JSON parser does that afterwards).
void check_json_depth(std::string_view text, const std::string& name,
                      std::size_t max_depth = kMaxJsonDepth);

}  // namespace diffuser

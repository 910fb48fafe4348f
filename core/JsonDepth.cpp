// Why: the bracket-depth scan behind check_json_depth (a string-aware counter, no recursion).
#include "core/JsonDepth.hpp"

#include "core/Error.hpp"

namespace diffuser {

void check_json_depth(std::string_view text, const std::string& name, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character (an escaped quote does not end the string)
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      DIFFUSER_CHECK(++depth <= max_depth, "{}: JSON nested deeper than {} levels (byte {})", name,
                     max_depth, i);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace diffuser

// Why: JSON Lines run logs (see RunLog.hpp).
#include "experiments/training/RunLog.hpp"

#include <filesystem>
#include <sstream>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"

namespace diffuser::experiments {

RunLog::RunLog(const std::string& path) : path_(path), out_(path, std::ios::app) {
  DIFFUSER_CHECK(out_.good(), "{}: cannot open the run log for appending", path);
}

void RunLog::write(const nlohmann::json& record) {
  DIFFUSER_CHECK(record.is_object(), "{}: a log record must be a JSON object", path_);
  out_ << record.dump() << '\n';
  out_.flush();
  DIFFUSER_CHECK(out_.good(), "{}: write failed (disk full?)", path_);
}

std::vector<nlohmann::json> RunLog::read(const std::string& path, bool drop_partial_last_line) {
  const std::string text = read_text_file(path);
  std::vector<nlohmann::json> records;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    check_json_depth(line, fmt::format("{}:{}", path, number));
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const bool last = in.peek() == std::char_traits<char>::eof();
    if (j.is_discarded() || !j.is_object()) {
      if (drop_partial_last_line && last) break;
      fail("{}:{}: not a JSON object", path, number);
    }
    records.push_back(std::move(j));
  }
  return records;
}

void RunLog::truncate_after_step(const std::string& path, std::int64_t step) {
  if (!std::filesystem::exists(path)) return;
  const auto records = read(path, /*drop_partial_last_line=*/true);
  std::string kept;
  for (const auto& r : records) {
    if (r.contains("step") && r["step"].is_number_integer() && r["step"].get<std::int64_t>() > step)
      continue;
    kept += r.dump();
    kept += '\n';
  }
  write_text_atomic(path, kept);
}

}  // namespace diffuser::experiments

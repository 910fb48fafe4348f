// Why: experiment configuration is one JSON file with every key declared once (type, default,
// documentation, allowed values) in a schema. Unknown and ill-typed keys are errors naming the
// key, `--set key=value` overrides are typed by the same schema, and docs/configs.md is
// generated from it, so code, validation and documentation cannot drift apart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace diffuser::experiments {

/// Value type of a configuration key.
enum class KeyType { kInt, kFloat, kBool, kString, kFloatList };

/// One documented configuration key, e.g. "model.dim".
struct ConfigKey {
  std::string key;               ///< dotted path: "<section>.<name>"
  KeyType type;                  ///< value type
  nlohmann::json default_value;  ///< default (of `type`)
  std::string doc;               ///< one-sentence description
  /// Strings: the allowed values (empty = any). Integers: words accepted instead of a number
  /// (attention.hops = "auto"); read them with Config::get_word.
  std::vector<std::string> choices;
  double min = -1e300;  ///< inclusive lower bound for numbers
  double max = 1e300;   ///< inclusive upper bound for numbers
};

/// The schema: every key an experiment config may contain.
const std::vector<ConfigKey>& config_schema();

/// A fully resolved configuration: every schema key has a value of the right type.
class Config {
 public:
  /// All keys at their defaults.
  Config();

  /// Reads a JSON config file (nested objects, e.g. {"model": {"dim": 64}}), applies it over
  /// the defaults, then applies `overrides` ("key=value" strings, value parsed by the key's
  /// type). diffuser::Error names the file/key for: unreadable or malformed JSON, unknown keys,
  /// wrong types, values outside their range or choices, malformed overrides.
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});

  /// Applies a nested JSON object over this config (validating as load does); `origin` names
  /// the source in error messages.
  void apply_json(const nlohmann::json& j, const std::string& origin);

  /// Applies one "key=value" override.
  void apply_override(const std::string& assignment);

  /// Throws diffuser::Error naming the key when an integer key holds one of its words.
  std::int64_t get_int(const std::string& key) const;
  /// The word an integer key holds ("auto"), or "" when it holds a number.
  std::string get_word(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<double> get_float_list(const std::string& key) const;

  /// The resolved config as nested JSON (what `train` writes to the run folder).
  nlohmann::json to_json() const;

 private:
  const nlohmann::json& value(const std::string& key, KeyType type) const;
  void set_checked(const ConfigKey& def, const nlohmann::json& v, const std::string& origin);
  nlohmann::json values_;  // flat: dotted key -> value
};

/// The schema as a Markdown reference (docs/configs.md is this text).
std::string config_schema_markdown();

}  // namespace diffuser::experiments

// Why: the schema of experiment configs and its strict validation (see Config.hpp).
#include "experiments/config/Config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"

namespace diffuser::experiments {

namespace {

using nlohmann::json;

ConfigKey str(std::string key, std::string def, std::string doc,
              std::vector<std::string> choices = {}) {
  return ConfigKey{std::move(key), KeyType::kString, json(std::move(def)), std::move(doc),
                   std::move(choices)};
}
ConfigKey integer(std::string key, std::int64_t def, std::string doc, double min = -1e300,
                  double max = 1e300, std::vector<std::string> words = {}) {
  return ConfigKey{std::move(key),   KeyType::kInt, json(def), std::move(doc),
                   std::move(words), min,           max};
}
ConfigKey real(std::string key, double def, std::string doc, double min = -1e300,
               double max = 1e300) {
  return ConfigKey{std::move(key), KeyType::kFloat, json(def), std::move(doc), {}, min, max};
}
ConfigKey boolean(std::string key, bool def, std::string doc) {
  return ConfigKey{std::move(key), KeyType::kBool, json(def), std::move(doc), {}};
}
ConfigKey reals(std::string key, std::vector<double> def, std::string doc) {
  return ConfigKey{std::move(key), KeyType::kFloatList, json(def), std::move(doc), {}};
}

std::vector<ConfigKey> make_schema() {
  return {
      // task
      str("task.name", "listops", "Task to train on.",
          {"listops", "fashion_mnist", "cifar10", "text", "bytelm", "pathfinder"}),
      str("task.data_dir", "",
          "Folder with the task's files (ListOps: basic_{train,val,test}.tsv; text: "
          "{train,val,test}.tsv + classes.txt; cifar10: data_batch_*.bin/test_batch.bin; "
          "fashion_mnist: IDX files; pathfinder: one set in LRA's layout, imgs/ + metadata/). "
          "Empty: the task's default (ListOps and Pathfinder are generated into <run>/data, text "
          "is built from the installed fortunes into <run>/data/fortunes, "
          "Fashion-MNIST is read from /usr/share/datasets/fashion-mnist)."),
      str("task.text_file", "",
          "Byte-level LM: the text file (plain or gzip/dictzip), cut 90/5/5 into train/val/test. "
          "Empty: /usr/share/dictd/gcide.dict.dz."),
      integer("task.max_len", 512,
              "Longest sequence in tokens (before a CLS token): longer ones keep their first "
              "max_len tokens. Generated ListOps: exclusive upper length bound. Byte-level LM: "
              "the context (window) length.",
              1, 1 << 24),
      integer("task.train_size", 2000,
              "Training examples: generated ListOps: how many to generate; loaded data: a seeded "
              "subset of at most this many (0 = all).",
              0),
      integer("task.val_size", 200,
              "Validation examples: generated ListOps, Pathfinder: how many to generate; "
              "Fashion-MNIST, CIFAR-10, loaded Pathfinder: carved (seeded) from the training "
              "files; text, loaded ListOps: a seeded "
              "subset (0 = all); byte-level LM: windows evaluated (0 = all).",
              0),
      integer("task.test_size", 200,
              "Test examples: generated ListOps, Pathfinder: how many to generate; loaded "
              "Pathfinder: carved (seeded) from its one set; other loaded data: a seeded subset (0 "
              "= all); byte-level LM: windows evaluated (0 = all).",
              0),
      integer("task.min_len", 16, "Generated ListOps: exclusive lower length bound (as LRA).", 0),
      integer("task.max_depth", 10, "Generated ListOps: maximum tree depth.", 1, 64),
      integer("task.image_size", 32,
              "Pathfinder: image side, 32 (1,024 pixels) or 64 (4,096); task.max_len must be at "
              "least its square.",
              32, 64),
      integer("task.image_pad", 0,
              "fashion_mnist, cifar10: a border of this many background (0) pixels around every "
              "image; 2 makes Fashion-MNIST 32x32 = 1,024 tokens (as LeNet-5's padded MNIST). "
              "task.max_len must hold the padded image (image tasks refuse crops).",
              0, 64),
      str("task.fortunes_by", "category",
          "Text task built from fortunes (task.data_dir empty): one class per category file "
          "(about 50 classes) or per language (en, de, es, it, ... as installed).",
          {"category", "language"}),
      integer("task.seed", 1,
              "Seed of the data: ListOps and Pathfinder generation, fortunes splits, carved "
              "validation (and Pathfinder test) sets, subsets.",
              0),
      // model
      integer("model.layers", 2, "Number of encoder layers.", 1, 256),
      integer("model.dim", 64, "Model width d = heads * head_dim.", 1, 1 << 16),
      integer("model.heads", 4, "Attention heads (must divide model.dim).", 1, 1024),
      integer("model.mlp_dim", 128, "Hidden width of the feed-forward block.", 1, 1 << 18),
      str("model.norm", "pre", "LayerNorm placement: pre (default) or post (the original code).",
          {"pre", "post"}),
      real("model.ln_eps", 1e-5, "LayerNorm epsilon.", 0, 1),
      real("model.dropout", 0.1, "Dropout on embeddings, attention output and MLP output.", 0,
           0.99),
      str("model.pool", "cls",
          "Sequence pooling for classification: cls (token 0) or mean over valid tokens.",
          {"cls", "mean"}),
      // attention
      str("attention.variant", "diffuser",
          "diffuser (pattern + diffusion), sparse (same pattern, no diffusion, K = 0), full (dense "
          "softmax).",
          {"diffuser", "sparse", "full"}),
      str("attention.pattern", "window=8,global=2,random=4",
          "Attention pattern spec (docs/patterns.md), e.g. 'preset=diffuser' or "
          "'window=16,global=4,random=8' (add 'seed=S' for other random keys); built per bucket "
          "length; used by diffuser and sparse, ignored by full."),
      str("attention.diffusion", "ppr",
          "Diffusion coefficients: ppr (alpha, hops), heat (heat_t, hops) or theta (explicit "
          "list).",
          {"ppr", "heat", "theta"}),
      real("attention.alpha", 0.1, "PPR teleport probability alpha.", 0, 1),
      integer("attention.hops", 5,
              "Number of diffusion hops K (ignored by the sparse and full variants); \"auto\": "
              "chosen from the spectral gap of the pattern at the longest sequence, as `diffuser "
              "spectral suggest-hops` with attention.alpha, attention.auto_epsilon and "
              "attention.auto_rel_tol (PPR only; docs/spectral.md section 11).",
              0, 64, {"auto"}),
      real("attention.auto_epsilon", 0.0,
           "attention.hops = auto: target distance epsilon in (0, 1] from full attention (0: no "
           "target, the convergence rule alone).",
           0, 1),
      real("attention.auto_rel_tol", 0.05,
           "attention.hops = auto: convergence rule, the fraction of the reduction untruncated "
           "diffusion can give that K hops may leave (in (0, 1)).",
           1e-6, 0.999),
      real("attention.heat_t", 1.0, "Heat-kernel time t.", 0, 1e6),
      reals("attention.theta", {},
            "Explicit coefficients theta_0..theta_K (attention.diffusion = theta)."),
      boolean("attention.learn_theta", false,
              "Learn the diffusion coefficients (per layer) by gradient descent (diffuser "
              "variant only)."),
      real("attention.dropout", 0.0, "Dropout on attention edge weights.", 0, 0.99),
      boolean("attention.recompute", false,
              "Recompute hop states in backward instead of storing them (saves K*n*d floats per "
              "layer)."),
      // optimiser
      real("optim.lr", 1e-3, "Peak learning rate.", 0, 10),
      real("optim.weight_decay", 0.01,
           "AdamW decoupled weight decay (not applied to biases, LayerNorm, embeddings).", 0, 10),
      real("optim.beta1", 0.9, "AdamW beta1.", 0, 1),
      real("optim.beta2", 0.999, "AdamW beta2.", 0, 1),
      real("optim.eps", 1e-8, "AdamW epsilon.", 0, 1),
      str("optim.schedule", "cosine", "Decay after warm-up.",
          {"cosine", "linear", "inverse_sqrt", "constant"}),
      integer("optim.warmup_steps", 100, "Linear warm-up steps.", 0),
      real("optim.min_lr_ratio", 0.0,
           "Final learning rate as a fraction of the peak (cosine, linear).", 0, 1),
      real("optim.clip_norm", 1.0, "Clip gradients to this global L2 norm (0 = off).", 0),
      real("optim.label_smoothing", 0.0, "Label smoothing of the cross-entropy loss.", 0, 1),
      // training
      integer("train.steps", 1000, "Optimiser steps.", 1),
      integer("train.batch_size", 16, "Sequences per batch (also for evaluation).", 1, 1 << 20),
      integer("train.bucket_granularity", 32,
              "Length buckets: a batch is padded to its bucket's length, the sequence length "
              "rounded up to a multiple of this (capped at the model's max length); one attention "
              "pattern per bucket length.",
              1, 1 << 24),
      integer("train.eval_every", 200,
              "Evaluate on the validation set every this many steps (0 = only at the end); a "
              "better score (accuracy; LM: loss) writes checkpoint_best.bin.",
              0),
      integer("train.log_every", 20, "Write a training log line every this many steps.", 1),
      integer("train.checkpoint_every", 500,
              "Write checkpoint_last.bin every this many steps (0 = only at the end); --resume "
              "continues from it.",
              0),
      integer("train.seed", 0,
              "Seed of initialisation, batch order, dropout and LM windows (independent streams).",
              0),
      integer("train.threads", 0, "CPU threads (0 = all cores).", 0, 4096),
      str("train.on_nonfinite", "stop",
          "NaN/Inf in loss or gradients: stop the run (naming step, layer, tensor) or skip the "
          "step.",
          {"stop", "skip"}),
  };
}

const ConfigKey* find_key(const std::string& key) {
  for (const auto& k : config_schema()) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kInt:
      return "integer";
    case KeyType::kFloat:
      return "number";
    case KeyType::kBool:
      return "boolean";
    case KeyType::kString:
      return "string";
    case KeyType::kFloatList:
      return "list of numbers";
  }
  return "?";
}

void flatten(const json& j, const std::string& prefix,
             std::vector<std::pair<std::string, json>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      flatten(*it, key, out);
    } else {
      out.emplace_back(key, *it);
    }
  }
}

}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = make_schema();
  return schema;
}

Config::Config() : values_(json::object()) {
  for (const auto& k : config_schema()) values_[k.key] = k.default_value;
}

void Config::set_checked(const ConfigKey& def, const json& v, const std::string& origin) {
  json stored;
  auto bad_type = [&]() {
    std::string words;
    if (def.type == KeyType::kInt) {
      for (const auto& w : def.choices) words += fmt::format(" or \"{}\"", w);
    }
    fail("{}: config key '{}' must be {} {}{} (got {})", origin, def.key,
         def.type == KeyType::kInt ? "an" : "a", type_name(def.type), words, v.dump());
  };
  auto check_range = [&](double x) {
    DIFFUSER_CHECK(std::isfinite(x), "{}: config key '{}' is not finite", origin, def.key);
    DIFFUSER_CHECK(x >= def.min && x <= def.max, "{}: config key '{}' = {} outside [{}, {}]",
                   origin, def.key, x, def.min, def.max);
  };
  if (def.type == KeyType::kInt && v.is_string()) {
    for (const auto& w : def.choices) {
      if (w == v.get<std::string>()) {
        values_[def.key] = v;
        return;
      }
    }
  }
  switch (def.type) {
    case KeyType::kInt:
      if (!v.is_number_integer()) {
        if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
            std::abs(v.get<double>()) < 9e15) {
          stored = static_cast<std::int64_t>(v.get<double>());
        } else {
          bad_type();
        }
      } else {
        stored = v.get<std::int64_t>();
      }
      check_range(static_cast<double>(stored.get<std::int64_t>()));
      break;
    case KeyType::kFloat:
      if (!v.is_number()) bad_type();
      stored = v.get<double>();
      check_range(stored.get<double>());
      break;
    case KeyType::kBool:
      if (!v.is_boolean()) bad_type();
      stored = v;
      break;
    case KeyType::kString:
      if (!v.is_string()) bad_type();
      stored = v;
      if (!def.choices.empty()) {
        bool ok = false;
        for (const auto& c : def.choices) ok |= (c == v.get<std::string>());
        if (!ok) {
          std::string allowed;
          for (const auto& c : def.choices) allowed += (allowed.empty() ? "" : ", ") + c;
          fail("{}: config key '{}' = '{}' is not one of: {}", origin, def.key,
               v.get<std::string>(), allowed);
        }
      }
      break;
    case KeyType::kFloatList:
      if (!v.is_array()) bad_type();
      for (const auto& x : v) {
        if (!x.is_number()) bad_type();
        DIFFUSER_CHECK(std::isfinite(x.get<double>()),
                       "{}: config key '{}' holds a non-finite number", origin, def.key);
      }
      stored = v;
      break;
  }
  values_[def.key] = stored;
}

void Config::apply_json(const json& j, const std::string& origin) {
  DIFFUSER_CHECK(j.is_object(), "{}: a config must be a JSON object", origin);
  std::vector<std::pair<std::string, json>> flat;
  flatten(j, "", flat);
  for (const auto& [key, v] : flat) {
    const ConfigKey* def = find_key(key);
    if (def == nullptr)
      fail("{}: unknown config key '{}' (docs/configs.md lists them all)", origin, key);
    set_checked(*def, v, origin);
  }
}

void Config::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  DIFFUSER_CHECK(eq != std::string::npos && eq > 0, "--set '{}': expected key=value", assignment);
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const ConfigKey* def = find_key(key);
  if (def == nullptr) fail("--set: unknown config key '{}' (docs/configs.md lists them all)", key);
  json v;
  const bool word = def->type == KeyType::kInt &&
                    std::find(def->choices.begin(), def->choices.end(), text) != def->choices.end();
  if (def->type == KeyType::kString || word) {
    v = text;
  } else {
    check_json_depth(text, fmt::format("--set {}", key));
    v = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) fail("--set {}: '{}' is not a valid {}", key, text, type_name(def->type));
  }
  set_checked(*def, v, "--set");
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  const std::string text = read_text_file(path);
  check_json_depth(text, path);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions to get the position of the syntax error.
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      // parse_error, and out_of_range for numbers beyond double (e.g. 1e999).
      fail("{}: malformed JSON: {}", path, e.what());
    }
  }
  Config c;
  c.apply_json(j, path);
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

const json& Config::value(const std::string& key, KeyType type) const {
  const ConfigKey* def = find_key(key);
  DIFFUSER_CHECK(def != nullptr, "internal: unknown config key '{}'", key);
  DIFFUSER_CHECK(def->type == type, "internal: config key '{}' read as {} but is a {}", key,
                 type_name(type), type_name(def->type));
  return values_.at(key);
}

std::int64_t Config::get_int(const std::string& key) const {
  const json& v = value(key, KeyType::kInt);
  DIFFUSER_CHECK(!v.is_string(), "config key '{}' is \"{}\" here, where a number is needed", key,
                 v.is_string() ? v.get<std::string>() : std::string());
  return v.get<std::int64_t>();
}
std::string Config::get_word(const std::string& key) const {
  const json& v = value(key, KeyType::kInt);
  return v.is_string() ? v.get<std::string>() : std::string();
}
double Config::get_float(const std::string& key) const {
  return value(key, KeyType::kFloat).get<double>();
}
bool Config::get_bool(const std::string& key) const {
  return value(key, KeyType::kBool).get<bool>();
}
const std::string& Config::get_string(const std::string& key) const {
  return value(key, KeyType::kString).get_ref<const std::string&>();
}
std::vector<double> Config::get_float_list(const std::string& key) const {
  return value(key, KeyType::kFloatList).get<std::vector<double>>();
}

json Config::to_json() const {
  json out = json::object();
  for (const auto& k : config_schema()) {
    const auto dot = k.key.find('.');
    out[k.key.substr(0, dot)][k.key.substr(dot + 1)] = values_.at(k.key);
  }
  return out;
}

std::string config_schema_markdown() {
  std::ostringstream md;
  md << "# Experiment configuration keys\n\n"
     << "Generated from the schema in `experiments/config/Config.cpp` (`diffuser config "
        "schema`); a test checks that this file matches it.\n\n"
     << "A config is a JSON object of sections (`task`, `model`, `attention`, `optim`, `train`); "
        "any key may be left out (it takes its default) and `--set section.key=value` overrides "
        "one on the command line. Unknown keys, wrong types and out-of-range values are errors "
        "naming the key.\n";
  std::string section;
  for (const auto& k : config_schema()) {
    const std::string s = k.key.substr(0, k.key.find('.'));
    if (s != section) {
      section = s;
      md << "\n## " << section << "\n\n| key | type | default | description |\n|---|---|---|---|\n";
    }
    std::string doc = k.doc;
    if (!k.choices.empty() && k.type == KeyType::kInt) {
      for (const auto& w : k.choices) doc += " Or `\"" + w + "\"`.";
    } else if (!k.choices.empty()) {
      doc += " One of:";
      for (std::size_t i = 0; i < k.choices.size(); ++i)
        doc += (i ? ", `" : " `") + k.choices[i] + "`";
      doc += ".";
    }
    md << "| `" << k.key << "` | " << type_name(k.type) << " | `" << k.default_value.dump()
       << "` | " << doc << " |\n";
  }
  return md.str();
}

}  // namespace diffuser::experiments

// Why: config -> datasets for every task, in one place (see TaskData.hpp).
#include "experiments/TaskData.hpp"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "experiments/Cifar10.hpp"
#include "experiments/FashionMnist.hpp"
#include "experiments/FortunesBuilder.hpp"
#include "experiments/ListOps.hpp"
#include "experiments/ListOpsGenerator.hpp"
#include "experiments/TextDataset.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;

namespace {

/// Debian's dict-gcide text, the default corpus of the byte-level LM task.
constexpr const char* kGcidePath = "/usr/share/dictd/gcide.dict.dz";

/// Fractions of the byte stream that go to validation and test (enwik8's customary 90/5/5).
constexpr double kLmHeldOutFraction = 0.05;

/// Seeded permutation of [0, n) (Fisher-Yates on xoshiro256**).
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  Rng rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.uniform_below(i)]);
  return p;
}

/// At most `cap` examples (0 = all): a seeded subset, kept in file order.
SequenceDataset capped(const SequenceDataset& d, std::int64_t cap, std::uint64_t seed) {
  if (cap <= 0 || static_cast<std::size_t>(cap) >= d.size()) return d;
  auto p = permutation(d.size(), seed);
  p.resize(static_cast<std::size_t>(cap));
  std::sort(p.begin(), p.end());
  return d.subset(p);
}

std::string require_file(const fs::path& p, const std::string& what) {
  DIFFUSER_CHECK(fs::exists(p), "{}: {} not found", p.string(), what);
  return p.string();
}

std::int64_t size_key(const Config& c, const std::string& split) {
  return c.get_int("task." + split + "_size");
}

/// Seeds of the per-split subsets (distinct streams of task.seed).
std::uint64_t split_seed(const Config& c, const std::string& split) {
  std::uint64_t s = static_cast<std::uint64_t>(c.get_int("task.seed"));
  const std::uint64_t tag = split == "train" ? 1 : split == "val" ? 2 : split == "test" ? 3 : 4;
  s ^= tag * 0x9E3779B97F4A7C15ULL;
  return splitmix64(s);
}

SequenceDataset load_listops(const Config& c, const std::string& run_dir,
                             const std::string& split) {
  std::string dir = c.get_string("task.data_dir");
  const bool generated = dir.empty();
  if (generated) {
    DIFFUSER_CHECK(!run_dir.empty(),
                   "task listops: task.data_dir is empty and there is no run folder to generate "
                   "the data into");
    dir = (fs::path(run_dir) / "data").string();
    const fs::path test_file = fs::path(dir) / "basic_test.tsv";
    if (!fs::exists(test_file)) {
      ListOpsOptions o;
      o.min_length = c.get_int("task.min_len");
      o.max_length = c.get_int("task.max_len");
      o.max_depth = static_cast<std::int32_t>(c.get_int("task.max_depth"));
      o.seed = static_cast<std::uint64_t>(c.get_int("task.seed"));
      ListOpsSplitSizes sizes;
      sizes.train = static_cast<std::size_t>(c.get_int("task.train_size"));
      sizes.val = static_cast<std::size_t>(c.get_int("task.val_size"));
      sizes.test = static_cast<std::size_t>(c.get_int("task.test_size"));
      DIFFUSER_CHECK(sizes.train > 0, "task listops: generated data needs task.train_size > 0");
      write_listops_splits(dir, o, sizes);  // test file written last: its presence means done
    }
  }
  const auto path =
      require_file(fs::path(dir) / ("basic_" + split + ".tsv"), "ListOps file (task.data_dir)");
  auto d = read_listops_tsv(path);
  return generated ? d : capped(d, size_key(c, split), split_seed(c, split));
}

/// Image sets without a validation file: val = the first task.val_size images of a seeded
/// permutation of the training images, train = the rest (capped to task.train_size).
SequenceDataset carve_image_split(const Config& c, const SequenceDataset& train_file,
                                  const std::string& split) {
  const auto val_n = std::min<std::size_t>(static_cast<std::size_t>(c.get_int("task.val_size")),
                                           train_file.size());
  auto p = permutation(train_file.size(), split_seed(c, "carve"));
  std::vector<std::size_t> idx;
  if (split == "val") {
    idx.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(val_n));
  } else {
    idx.assign(p.begin() + static_cast<std::ptrdiff_t>(val_n), p.end());
    const auto cap = c.get_int("task.train_size");
    if (cap > 0 && static_cast<std::size_t>(cap) < idx.size())
      idx.resize(static_cast<std::size_t>(cap));
  }
  std::sort(idx.begin(), idx.end());
  return train_file.subset(idx);
}

SequenceDataset load_image(const Config& c, const std::string& split) {
  const std::string& task = c.get_string("task.name");
  std::string dir = c.get_string("task.data_dir");
  if (task == "fashion_mnist" && dir.empty()) dir = kFashionMnistDir;
  DIFFUSER_CHECK(!dir.empty(),
                 "task cifar10: set task.data_dir to the cifar-10-batches-bin folder");
  auto load = [&](std::string_view s) {
    return task == "fashion_mnist" ? load_fashion_mnist(s, dir) : load_cifar10(s, dir);
  };
  if (split == "test") return capped(load("test"), size_key(c, "test"), split_seed(c, "test"));
  return carve_image_split(c, load("train"), split);
}

SequenceDataset load_text(const Config& c, const std::string& run_dir, const std::string& split) {
  std::string dir = c.get_string("task.data_dir");
  if (dir.empty()) {
    DIFFUSER_CHECK(!run_dir.empty(),
                   "task text: task.data_dir is empty and there is no run folder to build the "
                   "fortunes data into");
    dir = (fs::path(run_dir) / "data" / "fortunes").string();
    if (!fs::exists(fs::path(dir) / "classes.txt")) {
      FortunesOptions o;
      o.grouping = c.get_string("task.fortunes_by") == "category" ? FortunesGrouping::kCategory
                                                                  : FortunesGrouping::kLanguage;
      o.seed = static_cast<std::uint64_t>(c.get_int("task.seed"));
      write_text_splits(dir, build_fortunes_dataset(o));  // classes.txt is written last
    }
  }
  const auto classes =
      read_class_names(require_file(fs::path(dir) / "classes.txt", "class list (task.data_dir)"));
  const auto path = require_file(fs::path(dir) / (split + ".tsv"), "text file (task.data_dir)");
  auto d = load_text_classification(path, classes);
  return capped(d, size_key(c, split), split_seed(c, split));
}

SequenceDataset load_split(const Config& c, const std::string& run_dir, const std::string& split) {
  const std::string& task = c.get_string("task.name");
  if (task == "listops") return load_listops(c, run_dir, split);
  if (task == "fashion_mnist" || task == "cifar10") return load_image(c, split);
  if (task == "text") return load_text(c, run_dir, split);
  fail("task '{}' has no classification splits", task);
}

SequenceDataset prepare(const SequenceDataset& d, std::int64_t max_len, bool add_cls) {
  SequenceDataset out = d.truncated(static_cast<std::size_t>(max_len));
  return add_cls ? out.with_cls() : out;
}

std::string describe(const SequenceDataset& d) {
  const auto s = d.length_stats();
  return fmt::format("{} examples, length {}..{}", d.size(), s.min, s.max);
}

}  // namespace

nlohmann::json TaskShape::to_json() const {
  const char* k = kind == nn::ModelKind::kCausalLm      ? "causal_lm"
                  : kind == nn::ModelKind::kDualEncoder ? "dual_encoder"
                                                        : "classifier";
  return {{"kind", k},          {"vocab", vocab},     {"num_classes", num_classes},
          {"max_len", max_len}, {"has_cls", has_cls}, {"pad_id", pad_id}};
}

TaskShape TaskShape::from_json(const nlohmann::json& j) {
  DIFFUSER_CHECK(j.is_object(), "task shape: expected a JSON object, got {}", j.dump());
  auto field = [&](const char* name) -> const nlohmann::json& {
    DIFFUSER_CHECK(j.contains(name), "task shape: field '{}' missing", name);
    return j.at(name);
  };
  TaskShape s;
  try {
    const auto kind = field("kind").get<std::string>();
    if (kind == "classifier") {
      s.kind = nn::ModelKind::kClassifier;
    } else if (kind == "causal_lm") {
      s.kind = nn::ModelKind::kCausalLm;
    } else if (kind == "dual_encoder") {
      s.kind = nn::ModelKind::kDualEncoder;
    } else {
      fail("task shape: unknown kind '{}'", kind);
    }
    s.vocab = field("vocab").get<std::int64_t>();
    s.num_classes = field("num_classes").get<std::int64_t>();
    s.max_len = field("max_len").get<std::int64_t>();
    s.has_cls = field("has_cls").get<bool>();
    s.pad_id = field("pad_id").get<std::int32_t>();
  } catch (const nlohmann::json::exception& e) {
    fail("task shape: ill-typed field ({})", e.what());
  }
  return s;
}

void check_split_name(std::string_view split) {
  DIFFUSER_CHECK(split == "train" || split == "val" || split == "test",
                 "unknown split '{}' (expected train, val or test)", split);
}

TaskData load_task_data(const Config& config, const std::string& run_dir,
                        const std::vector<std::string>& splits) {
  for (const auto& s : splits) check_split_name(s);
  auto wanted = [&](const char* s) {
    return std::find(splits.begin(), splits.end(), s) != splits.end();
  };
  const std::string& task = config.get_string("task.name");
  const std::int64_t max_len = config.get_int("task.max_len");
  TaskData data;
  if (task == "bytelm") {
    std::string path = config.get_string("task.text_file");
    if (path.empty()) path = kGcidePath;
    auto stream = ByteLmDataset::from_file(path);
    data.lm.emplace(split_byte_stream(stream, kLmHeldOutFraction, kLmHeldOutFraction));
    data.shape = TaskShape{nn::ModelKind::kCausalLm,
                           ByteLmDataset::kVocabSize,
                           ByteLmDataset::kVocabSize,
                           max_len,
                           false,
                           0};
    data.description =
        fmt::format("bytelm {}: train {} bytes, val {} bytes, test {} bytes, context {}", path,
                    data.lm->train.size(), data.lm->val.size(), data.lm->test.size(), max_len);
    return data;
  }
  const bool add_cls = config.get_string("model.pool") == "cls";
  std::string desc = task;
  const SequenceDataset* any = nullptr;
  for (const char* s : {"train", "val", "test"}) {
    if (!wanted(s)) continue;
    SequenceDataset& out = std::string(s) == "train" ? data.train
                           : std::string(s) == "val" ? data.val
                                                     : data.test;
    out = prepare(load_split(config, run_dir, s), max_len, add_cls);
    desc += fmt::format("; {}: {}", s, describe(out));
    any = &out;
  }
  DIFFUSER_CHECK(any != nullptr, "load_task_data: no split requested");
  data.shape = TaskShape{nn::ModelKind::kClassifier,  any->vocab_size(), any->num_classes(),
                         max_len + (add_cls ? 1 : 0), add_cls,           any->pad_id()};
  data.description = desc;
  return data;
}

}  // namespace diffuser::experiments

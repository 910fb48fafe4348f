// Why: `diffuser data ...` makes task data offline (ListOps and Pathfinder in LRA's format, a
// fortunes text classification set) and summarises data files, so users can build and check
// datasets without writing code.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/Commands.hpp"
#include "cli/Validators.hpp"
#include "core/Error.hpp"
#include "experiments/data/ByteLmDataset.hpp"
#include "experiments/data/Cifar10.hpp"
#include "experiments/data/FashionMnist.hpp"
#include "experiments/data/FortunesBuilder.hpp"
#include "experiments/data/ListOps.hpp"
#include "experiments/data/ListOpsGenerator.hpp"
#include "experiments/data/PathfinderCheck.hpp"
#include "experiments/data/PathfinderGenerator.hpp"
#include "experiments/data/TextDataset.hpp"

namespace diffuser::cli {

namespace {

using experiments::SequenceDataset;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json summary(const SequenceDataset& d) {
  const auto s = d.length_stats();
  nlohmann::json j = {
      {"examples", d.size()},
      {"vocab_size", d.vocab_size()},
      {"num_classes", d.num_classes()},
      {"pad_id", d.pad_id()},
      {"length",
       {{"min", s.min}, {"max", s.max}, {"mean", s.mean}, {"median", s.median}, {"p95", s.p95}}},
      {"class_counts", d.class_counts()},
      {"majority_rate", d.majority_rate()}};
  if (!d.class_names().empty()) j["class_names"] = d.class_names();
  return j;
}

void print_summary(const std::string& what, const SequenceDataset& d) {
  const auto s = d.length_stats();
  std::printf(
      "%s: %zu examples, %d classes (majority %.4f), vocab %d, length %zu..%zu (mean %.1f)\n",
      what.c_str(), d.size(), d.num_classes(), d.majority_rate(), d.vocab_size(), s.min, s.max,
      s.mean);
}

void register_listops(CLI::App& data, Action& action) {
  struct Args {
    std::string out;
    experiments::ListOpsOptions options;
    experiments::ListOpsSplitSizes sizes;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "listops",
      "Generate ListOps with the LRA semantics; writes basic_train.tsv, basic_val.tsv, "
      "basic_test.tsv (header Source<TAB>Target). Kept trees have min-len < length < max-len.");
  cmd->add_option("--out", a->out, "Output directory (created if missing)")->required();
  cmd->add_option("--train", a->sizes.train, "Training examples")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--val", a->sizes.val, "Validation examples")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--test", a->sizes.test, "Test examples")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--min-len", a->options.min_length, "Exclusive lower bound on the token count")
      ->capture_default_str();
  cmd->add_option("--max-len", a->options.max_length, "Exclusive upper bound on the token count")
      ->capture_default_str();
  cmd->add_option("--max-depth", a->options.max_depth, "Depth at which nodes must be digits")
      ->capture_default_str();
  cmd->add_option("--max-args", a->options.max_args, "Most arguments per operator")
      ->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Random seed")
      ->capture_default_str()
      ->check(non_negative());
  cmd->callback([&action, a] {
    action = [a] {
      const auto start = std::chrono::steady_clock::now();
      const auto splits = experiments::write_listops_splits(a->out, a->options, a->sizes);
      const char* names[3] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
      for (int s = 0; s < 3; ++s) print_summary(a->out + "/" + names[s], splits[s]);
      std::printf("listops: %zu examples in %.2f s\n",
                  splits[0].size() + splits[1].size() + splits[2].size(), seconds_since(start));
    };
  });
}

void register_pathfinder(CLI::App& data, Action& action) {
  struct Args {
    std::string out;
    std::int32_t size = 32;
    std::size_t count = 2000;
    std::uint64_t seed = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "pathfinder",
      "Generate a Pathfinder-like set (LRA semantics); writes imgs/<b>/sample_<j>.png, "
      "metadata/<b>.npy and the IDX pair images-idx3-ubyte, labels-idx1-ubyte");
  cmd->add_option("--out", a->out, "Output directory (created if missing)")->required();
  cmd->add_option("--size", a->size, "Image side: 32 or 64")
      ->capture_default_str()
      ->check(CLI::IsMember({32, 64}));
  cmd->add_option("--count", a->count, "Images (half of them connected)")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  cmd->callback([&action, a] {
    action = [a] {
      const auto start = std::chrono::steady_clock::now();
      const auto options = experiments::pathfinder_options(a->size, a->seed);
      const auto d = experiments::PathfinderGenerator(options).generate(a->count);
      for (std::size_t i = 0; i < d.size(); ++i) {
        const auto v = experiments::check_pathfinder_image(d.tokens(i), a->size, a->size);
        DIFFUSER_CHECK(v.label == d.label(i), "pathfinder: image {} fails the pixel check", i);
      }
      experiments::write_pathfinder_files(a->out, d, options);
      print_summary(a->out, d);
      std::printf("pathfinder: %zu images checked and written in %.2f s\n", d.size(),
                  seconds_since(start));
    };
  });
}

void register_fortunes(CLI::App& data, Action& action) {
  struct Args {
    std::string out;
    std::string by = "category";
    experiments::FortunesOptions options;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "fortunes",
      "Build a byte-level text classification set from fortune files; writes train.tsv, "
      "val.tsv, test.tsv (label<TAB>text, escaped) and classes.txt");
  cmd->add_option("--out", a->out, "Output directory (created if missing)")->required();
  cmd->add_option("--dir", a->options.dir, "Fortunes directory")->capture_default_str();
  cmd->add_option("--by", a->by,
                  "Classes: category (one per file) or language (one per "
                  "subdirectory, plus --root-language for the top level)")
      ->check(CLI::IsMember({"category", "language"}))
      ->capture_default_str();
  cmd->add_option("--classes", a->options.classes, "Keep only these classes (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--root-language", a->options.root_language,
                  "With --by language: class name of the top-level files")
      ->capture_default_str();
  cmd->add_option("--min-bytes", a->options.min_bytes, "Drop entries shorter than this")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--max-bytes", a->options.max_bytes, "Drop entries longer than this (0: none)")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--min-per-class", a->options.min_per_class, "Drop classes with fewer entries")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--max-per-class", a->options.max_per_class,
                  "Keep at most this many entries per class, seeded (0: all)")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--val", a->options.val_fraction, "Validation fraction per class")
      ->capture_default_str();
  cmd->add_option("--test", a->options.test_fraction, "Test fraction per class")
      ->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Random seed of the split")
      ->capture_default_str()
      ->check(non_negative());
  cmd->callback([&action, a] {
    action = [a] {
      a->options.grouping = a->by == "language" ? experiments::FortunesGrouping::kLanguage
                                                : experiments::FortunesGrouping::kCategory;
      const auto splits = experiments::build_fortunes_dataset(a->options);
      experiments::write_text_splits(a->out, splits);
      std::printf("fortunes: %zu classes; train %zu, val %zu, test %zu entries -> %s\n",
                  splits.train.class_names.size(), splits.train.examples.size(),
                  splits.val.examples.size(), splits.test.examples.size(), a->out.c_str());
      print_summary("train", experiments::to_byte_sequences(splits.train, "train"));
    };
  });
}

void register_stats(CLI::App& data, Action& action) {
  struct Args {
    std::string kind;
    std::string path;
    std::string split = "test";
    std::string classes;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "stats", "Load a dataset and print its size, classes and length statistics");
  cmd->add_option("KIND", a->kind, "listops | text | fashion-mnist | cifar10 | lm")
      ->required()
      ->check(CLI::IsMember({"listops", "text", "fashion-mnist", "cifar10", "lm"}));
  cmd->add_option("PATH", a->path, "File (listops, text, lm) or directory (fashion-mnist, cifar10)")
      ->required();
  cmd->add_option("--split", a->split, "train or test (fashion-mnist, cifar10)")
      ->capture_default_str();
  cmd->add_option("--classes", a->classes, "text: class list file (default: labels of the file)");
  cmd->add_flag("--json", a->json, "Print JSON instead of one line");
  cmd->callback([&action, a] {
    action = [a] {
      if (a->kind == "lm") {
        const auto lm = experiments::ByteLmDataset::from_file(a->path);
        if (a->json) {
          std::printf("%s\n", nlohmann::json({{"bytes", lm.size()}}).dump(2).c_str());
        } else {
          std::printf("%s: %zu bytes\n", a->path.c_str(), lm.size());
        }
        return;
      }
      SequenceDataset d;
      if (a->kind == "listops") {
        d = experiments::read_listops_tsv(a->path);
      } else if (a->kind == "text") {
        const auto names = a->classes.empty() ? std::vector<std::string>{}
                                              : experiments::read_class_names(a->classes);
        d = experiments::load_text_classification(a->path, names);
      } else if (a->kind == "fashion-mnist") {
        d = experiments::load_fashion_mnist(a->split, a->path);
      } else {
        d = experiments::load_cifar10(a->split, a->path);
      }
      if (a->json) {
        std::printf("%s\n", summary(d).dump(2).c_str());
      } else {
        print_summary(a->path, d);
      }
    };
  });
}

}  // namespace

void register_data_commands(CLI::App& app, Action& action) {
  auto* data = app.add_subcommand("data", "Generate, build and inspect task datasets");
  data->require_subcommand(1);
  register_listops(*data, action);
  register_pathfinder(*data, action);
  register_fortunes(*data, action);
  register_stats(*data, action);
}

}  // namespace diffuser::cli

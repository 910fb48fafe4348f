// Why: the trainer should not know where each task's data comes from. This turns the `task.*`
// keys of a config into train/validation/test sets (generating, loading, carving validation
// sets, capping sizes, cropping and adding a CLS token, all seeded) and into the facts the model
// needs (vocabulary, classes, longest sequence), so `train` and `eval` load data the same way.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/ByteLmDataset.hpp"
#include "experiments/Config.hpp"
#include "experiments/SequenceDataset.hpp"
#include "nn/ModelConfig.hpp"

namespace diffuser::experiments {

/// What a task fixes about the model: its kind, vocabulary, classes and longest sequence.
struct TaskShape {
  nn::ModelKind kind = nn::ModelKind::kClassifier;
  std::int64_t vocab = 0;        ///< token ids in [0, vocab), including a CLS token if any
  std::int64_t num_classes = 0;  ///< classes (LM: = vocab)
  /// Longest model input: task.max_len, plus 1 when a CLS token is prepended.
  std::int64_t max_len = 0;
  bool has_cls = false;     ///< a CLS token (id vocab - 1) is prepended to every sequence
  std::int32_t pad_id = 0;  ///< id written into padded positions

  nlohmann::json to_json() const;
  /// Inverse of to_json; diffuser::Error names a missing or ill-typed field.
  static TaskShape from_json(const nlohmann::json& j);
  friend bool operator==(const TaskShape&, const TaskShape&) = default;
};

/// The data of one task: three classification sets, or (task.name = bytelm) three byte ranges.
struct TaskData {
  TaskShape shape;
  SequenceDataset train, val, test;  ///< classification tasks (empty for bytelm)
  std::optional<ByteLmSplits> lm;    ///< bytelm only
  std::string description;           ///< one line: where the data came from, sizes
};

/// One of "train", "val", "test"; throws diffuser::Error naming the value otherwise.
void check_split_name(std::string_view split);

/// Loads (or generates) the data a config describes (docs/experiments.md, "Data"):
///  - listops: task.data_dir empty: ListOps generated with (task.min_len, task.max_len)
///    exclusive length bounds, task.max_depth, task.seed and the three task.*_size counts,
///    written once to <run_dir>/data/basic_{train,val,test}.tsv and read back (a resumed run
///    reads the same files); otherwise the LRA files basic_{split}.tsv in task.data_dir.
///  - fashion_mnist (task.data_dir or Debian's folder), cifar10 (task.data_dir required): the
///    validation set is task.val_size images carved from the training files (seeded).
///  - text: train.tsv, val.tsv, test.tsv and classes.txt in task.data_dir; empty: built from
///    the installed fortunes (grouped by task.fortunes_by) into <run_dir>/data/fortunes.
///  - bytelm: task.text_file (default Debian's gcide dictionary) cut 90/5/5 into contiguous
///    train/val/test ranges; windows of task.max_len bytes.
/// Loaded classification sets are capped to task.{train,val,test}_size examples (0 = all) by a
/// seeded subset (task.seed), cropped to task.max_len tokens, and get a CLS token when
/// model.pool = cls. Errors (missing files, malformed data) name the file.
/// Only the splits named in `splits` are loaded (the others stay empty); the shape is the same
/// whichever splits are loaded.
TaskData load_task_data(const Config& config, const std::string& run_dir,
                        const std::vector<std::string>& splits = {"train", "val", "test"});

}  // namespace diffuser::experiments

// Why: the training loop, run folder and checkpoint evaluation (see Trainer.hpp).
#include "experiments/Trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"
#include "core/MemoryBudget.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "experiments/Batcher.hpp"
#include "experiments/ExperimentModel.hpp"
#include "experiments/Metrics.hpp"
#include "experiments/ProgressBar.hpp"
#include "experiments/RunLog.hpp"
#include "experiments/TaskData.hpp"
#include "nn/AdamW.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/GradClip.hpp"
#include "nn/LrSchedule.hpp"
#include "nn/Model.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

/// Independent seed streams of train.seed: parameter init, batch order, dropout, LM windows.
enum class SeedStream : std::uint64_t { kInit = 1, kData = 2, kDropout = 3, kLmWindows = 4 };

std::uint64_t derive_seed(std::uint64_t seed, SeedStream stream, std::uint64_t index = 0) {
  std::uint64_t s = seed ^ (static_cast<std::uint64_t>(stream) * 0x9E3779B97F4A7C15ULL);
  std::uint64_t a = splitmix64(s);
  a ^= index * 0xD1B54A32D192ED03ULL;
  return splitmix64(a);
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// The layer a parameter tensor belongs to, from its name: "layers.3.attn.q.weight" -> "layer 3",
/// other names -> their first component ("embed", "head", "final_ln").
std::string layer_of(const std::string& tensor) {
  const std::string prefix = "layers.";
  if (tensor.rfind(prefix, 0) == 0) {
    const auto end = tensor.find('.', prefix.size());
    return "layer " + tensor.substr(prefix.size(), end - prefix.size());
  }
  return tensor.substr(0, tensor.find('.'));
}

/// "non-finite gradient (nan) in tensor 'X' (layer L), element i" for the first tensor of
/// `store` whose gradient holds a NaN or Inf; nullopt when every gradient is finite.
std::optional<std::string> first_nonfinite_gradient(const nn::ParameterStore<float>& store) {
  const auto grads = store.grads();
  for (const auto& t : store.tensors()) {
    for (std::size_t i = 0; i < t.size; ++i) {
      const float g = grads[t.offset + i];
      if (!std::isfinite(g)) {
        return fmt::format("non-finite gradient ({}) in tensor '{}' ({}), element {}",
                           std::isnan(g) ? "NaN" : "Inf", t.name, layer_of(t.name), i);
      }
    }
  }
  return std::nullopt;
}

/// "parameter tensor 'X' (layer L) holds a non-finite value (inf) at element i" for the first
/// parameter tensor of `store` whose values are not all finite; nullopt when all are finite.
std::optional<std::string> first_nonfinite_parameter(const nn::ParameterStore<float>& store) {
  const auto values = store.values();
  for (const auto& t : store.tensors()) {
    for (std::size_t i = 0; i < t.size; ++i) {
      const float v = values[t.offset + i];
      if (!std::isfinite(v)) {
        return fmt::format("parameter tensor '{}' ({}) holds {} at element {}", t.name,
                           layer_of(t.name), std::isnan(v) ? "NaN" : "Inf", i);
      }
    }
  }
  return std::nullopt;
}

/// "logit [r, c] is inf" for the first non-finite entry of `logits` ([rows, classes] row-major,
/// or [batch, len, vocab] for the LM, reported as a flat row), nullopt when all are finite.
std::optional<std::string> first_nonfinite_logit(std::span<const float> logits,
                                                 std::int64_t classes) {
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(logits[i])) {
      return fmt::format("logit [{}, {}] is {}", static_cast<std::int64_t>(i) / classes,
                         static_cast<std::int64_t>(i) % classes, logits[i]);
    }
  }
  return std::nullopt;
}

bool is_language_model(const TaskShape& shape) { return shape.kind == nn::ModelKind::kCausalLm; }

/// A batch of LM windows starting at `offsets`: tokens and next-byte labels [B, context].
nn::Batch lm_batch(const ByteLmDataset& data, const std::vector<std::size_t>& offsets,
                   std::int64_t context) {
  nn::Batch b;
  b.batch = static_cast<std::int64_t>(offsets.size());
  b.len = context;
  const auto n = static_cast<std::size_t>(context);
  b.tokens.resize(offsets.size() * n);
  b.labels.resize(offsets.size() * n);
  b.lengths.assign(offsets.size(), static_cast<std::int32_t>(context));
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    data.window_at(offsets[i], n, std::span<std::int32_t>(b.tokens).subspan(i * n, n),
                   std::span<std::int32_t>(b.labels).subspan(i * n, n));
  }
  return b;
}

/// Mean loss / accuracy of `model` over a classification set (no dropout), batches of the
/// training batch size bucketed like training batches but in a fixed order.
MetricSums evaluate_sequences(nn::Model<float>& model, const SequenceDataset& data,
                              std::int64_t batch_size, std::int64_t granularity,
                              std::int64_t max_len) {
  MetricSums sums;
  if (data.empty()) return sums;
  BatcherOptions o;
  o.batch_size = batch_size;
  o.granularity = granularity;
  o.max_len = max_len;
  o.shuffle = false;
  const Batcher batcher(data, o);
  for (const auto& plan : batcher.epoch_plan(0)) {
    sums.add(model.forward(batcher.make_batch(plan), /*training=*/false, 0, 0));
  }
  return sums;
}

/// Mean next-byte loss over the first `max_windows` (0 = all) non-overlapping windows.
MetricSums evaluate_bytes(nn::Model<float>& model, const ByteLmDataset& data, std::int64_t context,
                          std::int64_t batch_size, std::int64_t max_windows) {
  MetricSums sums;
  const auto ctx = static_cast<std::size_t>(context);
  std::size_t windows = data.num_windows(ctx);
  if (max_windows > 0) windows = std::min(windows, static_cast<std::size_t>(max_windows));
  for (std::size_t w = 0; w < windows; w += static_cast<std::size_t>(batch_size)) {
    std::vector<std::size_t> offsets;
    for (std::size_t i = w; i < std::min(windows, w + static_cast<std::size_t>(batch_size)); ++i)
      offsets.push_back(i * ctx);
    sums.add(model.forward(lm_batch(data, offsets, context), /*training=*/false, 0, 0));
  }
  return sums;
}

/// Evaluates split `split` of `data` (loaded for that split).
MetricSums evaluate_split(nn::Model<float>& model, const TaskData& data, const Config& c,
                          const std::string& split) {
  const std::int64_t batch = c.get_int("train.batch_size");
  if (data.lm) {
    const ByteLmDataset& d = split == "train" ? data.lm->train
                             : split == "val" ? data.lm->val
                                              : data.lm->test;
    return evaluate_bytes(model, d, data.shape.max_len, batch,
                          c.get_int("task." + split + "_size"));
  }
  const SequenceDataset& d = split == "train" ? data.train : split == "val" ? data.val : data.test;
  return evaluate_sequences(model, d, batch, c.get_int("train.bucket_granularity"),
                            data.shape.max_len);
}

bool has_split(const TaskData& data, const std::string& split) {
  if (data.lm) return true;
  const SequenceDataset& d = split == "train" ? data.train : split == "val" ? data.val : data.test;
  return !d.empty();
}

/// Config keys a resumed run may change: they do not alter the trajectory up to the checkpoint
/// (train.steps changes the schedule from then on, which the user asks for by changing it).
bool may_differ_on_resume(const std::string& key) {
  return key == "train.steps" || key == "train.threads";
}

Config config_from_json(const json& j, const std::string& origin) {
  Config c;
  c.apply_json(j, origin);
  return c;
}

/// Everything besides parameters and optimiser moments that a resumed run needs.
struct LoopState {
  std::int64_t step = 0;
  BatcherPosition position;
  // Accumulators of the current log interval (so a resume mid-interval logs the same averages).
  double interval_loss_sum = 0;
  std::int64_t interval_correct = 0, interval_count = 0, interval_steps = 0;
  // Best validation score so far.
  bool has_best = false;
  double best_score = 0;
  std::int64_t best_step = 0;
  json best_metrics = json::object();
  json last_val = json::object();
  // Totals over all sessions.
  double train_time_s = 0, wall_time_s = 0;
  std::int64_t tokens = 0, padded_tokens = 0, skipped_steps = 0;

  json to_json() const {
    return {{"step", step},
            {"epoch", position.epoch},
            {"batch_in_epoch", position.index},
            {"interval_loss_sum", interval_loss_sum},
            {"interval_correct", interval_correct},
            {"interval_count", interval_count},
            {"interval_steps", interval_steps},
            {"has_best", has_best},
            {"best_score", best_score},
            {"best_step", best_step},
            {"best_metrics", best_metrics},
            {"last_val", last_val},
            {"train_time_s", train_time_s},
            {"wall_time_s", wall_time_s},
            {"tokens", tokens},
            {"padded_tokens", padded_tokens},
            {"skipped_steps", skipped_steps}};
  }

  static LoopState from_json(const json& j, const std::string& origin) {
    LoopState s;
    try {
      s.step = j.at("step").get<std::int64_t>();
      s.position.epoch = j.at("epoch").get<std::uint64_t>();
      s.position.index = j.at("batch_in_epoch").get<std::uint64_t>();
      s.interval_loss_sum = j.at("interval_loss_sum").get<double>();
      s.interval_correct = j.at("interval_correct").get<std::int64_t>();
      s.interval_count = j.at("interval_count").get<std::int64_t>();
      s.interval_steps = j.at("interval_steps").get<std::int64_t>();
      s.has_best = j.at("has_best").get<bool>();
      s.best_score = j.at("best_score").get<double>();
      s.best_step = j.at("best_step").get<std::int64_t>();
      s.best_metrics = j.at("best_metrics");
      s.last_val = j.at("last_val");
      s.train_time_s = j.at("train_time_s").get<double>();
      s.wall_time_s = j.at("wall_time_s").get<double>();
      s.tokens = j.at("tokens").get<std::int64_t>();
      s.padded_tokens = j.at("padded_tokens").get<std::int64_t>();
      s.skipped_steps = j.at("skipped_steps").get<std::int64_t>();
    } catch (const json::exception& e) {
      fail("{}: trainer state in the checkpoint is incomplete or ill-typed ({})", origin, e.what());
    }
    return s;
  }
};

void message(std::FILE* out, const std::string& text) {
  if (out == nullptr) return;
  std::fprintf(out, "%s\n", text.c_str());
  std::fflush(out);
}

}  // namespace

Trainer::Trainer(Config config, TrainOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  DIFFUSER_CHECK(!options_.run_dir.empty(), "train: no run folder given (--out)");
  DIFFUSER_CHECK(options_.stop_after >= 0, "train: stop_after = {} (must be >= 0)",
                 options_.stop_after);
}

TrainResult Trainer::run() {
  const Clock::time_point session_start = Clock::now();
  const fs::path dir(options_.run_dir);
  const std::string ckpt_last = (dir / kCheckpointLast).string();
  const std::string ckpt_best = (dir / kCheckpointBest).string();
  const std::string log_path = (dir / kRunLogFile).string();
  const Config& c = config_;

  // --- Run folder: fresh or resumed --------------------------------------------------------
  std::optional<nn::Checkpoint> resume_from;
  if (options_.resume) {
    DIFFUSER_CHECK(fs::exists(ckpt_last),
                   "{}: no {} to resume from (a run that stopped before its first checkpoint "
                   "must be started again in a new or emptied folder)",
                   dir.string(), kCheckpointLast);
    resume_from = nn::load_checkpoint(ckpt_last);
    DIFFUSER_CHECK(resume_from->meta.contains("config") && resume_from->meta.contains("trainer"),
                   "{}: not a checkpoint written by `diffuser train` (no config/trainer state)",
                   ckpt_last);
    const Config stored = config_from_json(resume_from->meta["config"], ckpt_last);
    const json a = stored.to_json(), b = c.to_json();
    for (const auto& k : config_schema()) {
      const auto dot = k.key.find('.');
      const auto& va = a[k.key.substr(0, dot)][k.key.substr(dot + 1)];
      const auto& vb = b[k.key.substr(0, dot)][k.key.substr(dot + 1)];
      DIFFUSER_CHECK(va == vb || may_differ_on_resume(k.key),
                     "--resume: config key '{}' = {} differs from the run's value {} in {} (only "
                     "train.steps and train.threads may change on resume)",
                     k.key, vb.dump(), va.dump(), ckpt_last);
    }
  } else {
    for (const char* f : {kRunLogFile, kCheckpointLast}) {
      DIFFUSER_CHECK(!fs::exists(dir / f),
                     "{}: the folder already holds a run ({}); pass --resume to continue it or "
                     "choose another --out",
                     dir.string(), f);
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  DIFFUSER_CHECK(!ec, "{}: cannot create the run folder: {}", dir.string(), ec.message());

  std::optional<ThreadCountGuard> threads;
  if (c.get_int("train.threads") > 0) threads.emplace(static_cast<int>(c.get_int("train.threads")));

  // --- Data, model, optimiser ----------------------------------------------------------------
  const TaskData data = load_task_data(c, dir.string());
  const bool lm = is_language_model(data.shape);
  const nn::ModelConfig model_config = experiment_model_config(c, data.shape);
  const auto seed = static_cast<std::uint64_t>(c.get_int("train.seed"));
  // Peak memory of a run is about 16 floats per parameter: values, gradients and two AdamW
  // moments resident, plus a checkpoint write's tensor copies and its serialised file
  // (measured: 34.9M parameters peaked at 2.12 GB, 61 bytes per parameter). Refuse up front
  // rather than be killed mid-run.
  const std::size_t parameters = nn::Model<float>::parameter_count(model_config);
  check_memory_budget(16 * sizeof(float) * static_cast<std::uint64_t>(parameters),
                      fmt::format("training {} parameters (values, gradients, two AdamW moments "
                                  "and the checkpoint buffers, ~64 bytes each)",
                                  parameters));
  nn::Model<float> model(model_config);
  model.init(derive_seed(seed, SeedStream::kInit));
  auto& params = model.params();

  nn::AdamWConfig adam;
  adam.beta1 = c.get_float("optim.beta1");
  adam.beta2 = c.get_float("optim.beta2");
  adam.eps = c.get_float("optim.eps");
  adam.weight_decay = c.get_float("optim.weight_decay");
  adam.validate();
  nn::AdamW<float> opt(params, adam);

  const std::int64_t steps = c.get_int("train.steps");
  nn::LrSchedule schedule;
  schedule.peak_lr = c.get_float("optim.lr");
  schedule.min_lr = schedule.peak_lr * c.get_float("optim.min_lr_ratio");
  schedule.warmup_steps = c.get_int("optim.warmup_steps");
  schedule.total_steps = steps;
  schedule.decay = nn::parse_lr_decay(c.get_string("optim.schedule"));
  schedule.validate();

  const std::int64_t batch_size = c.get_int("train.batch_size");
  std::optional<Batcher> batcher;
  if (!lm) {
    DIFFUSER_CHECK(!data.train.empty(), "task {}: the training set is empty",
                   c.get_string("task.name"));
    BatcherOptions bo;
    bo.batch_size = batch_size;
    bo.granularity = c.get_int("train.bucket_granularity");
    bo.max_len = data.shape.max_len;
    bo.shuffle = true;
    bo.seed = derive_seed(seed, SeedStream::kData);
    batcher.emplace(data.train, bo);
  } else {
    DIFFUSER_CHECK(data.lm->train.size() >= static_cast<std::size_t>(data.shape.max_len) + 1,
                   "task bytelm: the training part ({} bytes) is shorter than one window of "
                   "task.max_len = {} bytes",
                   data.lm->train.size(), data.shape.max_len);
  }

  LoopState state;
  if (resume_from) {
    const auto stored_shape = TaskShape::from_json(resume_from->meta.at("task"));
    DIFFUSER_CHECK(stored_shape == data.shape,
                   "--resume: the task data now has shape {} but the checkpoint {} was trained "
                   "on {}",
                   data.shape.to_json().dump(), ckpt_last, stored_shape.to_json().dump());
    nn::restore_parameters(*resume_from, params);
    nn::restore_optimizer_state(*resume_from, params, opt);
    state = LoopState::from_json(resume_from->meta["trainer"], ckpt_last);
    DIFFUSER_CHECK(steps >= state.step,
                   "--resume: train.steps = {} is below the checkpoint's step {} ({})", steps,
                   state.step, ckpt_last);
    if (batcher) batcher->seek(state.position);
    RunLog::truncate_after_step(log_path, state.step);
  } else {
    write_text_atomic((dir / kRunConfigFile).string(), c.to_json().dump(2) + "\n");
  }

  // run.json: facts of this run; a resume appends to "sessions".
  {
    const std::string info_path = (dir / kRunInfoFile).string();
    json info = json::object();
    if (resume_from && fs::exists(info_path)) {
      const std::string info_text = read_text_file(info_path);
      check_json_depth(info_text, info_path);
      info = json::parse(info_text, nullptr, /*allow_exceptions=*/false);
      DIFFUSER_CHECK(info.is_object(), "{}: malformed JSON", info_path);
    } else {
      info = {{"seed", seed},
              {"task_seed", c.get_int("task.seed")},
              {"git_revision", options_.git_revision},
              {"git_revision_source", options_.git_revision_source},
              {"start_time", utc_now()},
              {"model",
               {{"parameters", params.size()},
                {"kind", data.shape.to_json()["kind"]},
                {"diffusion", model_config.diffusion.describe()}}},
              {"data", data.description},
              {"sessions", json::array()}};
    }
    info["sessions"].push_back({{"start_time", utc_now()},
                                {"command_line", options_.command_line},
                                {"threads", num_threads()},
                                {"git_revision", options_.git_revision},
                                {"from_step", state.step}});
    write_text_atomic(info_path, info.dump(2) + "\n");
  }

  RunLog log(log_path);
  ProgressBar bar(steps, "train", state.step);
  if (!options_.progress) bar.set_enabled(false);
  // Status lines go through the bar when both write to stderr, so a drawn bar is not garbled.
  auto say = [&](const std::string& text) {
    if (options_.messages == nullptr) return;
    if (options_.messages == stderr) {
      bar.message(text);
    } else {
      message(options_.messages, text);
    }
  };
  say(fmt::format("train: {} | {} {} params | {} threads | steps {}..{}", data.description,
                  c.get_string("attention.variant"), params.size(), num_threads(), state.step + 1,
                  steps));

  const double clip = c.get_float("optim.clip_norm");
  const double smoothing = c.get_float("optim.label_smoothing");
  const bool skip_nonfinite = c.get_string("train.on_nonfinite") == "skip";
  const std::int64_t log_every = c.get_int("train.log_every");
  const std::int64_t eval_every = c.get_int("train.eval_every");
  const std::int64_t ckpt_every = c.get_int("train.checkpoint_every");
  const std::uint64_t dropout_seed = derive_seed(seed, SeedStream::kDropout);
  const bool has_val = has_split(data, "val");

  auto save = [&](const std::string& path) {
    nn::Checkpoint ck;
    ck.meta["config"] = c.to_json();
    ck.meta["task"] = data.shape.to_json();
    LoopState s = state;
    s.wall_time_s = state.wall_time_s + seconds(session_start, Clock::now());
    ck.meta["trainer"] = s.to_json();
    nn::add_parameters(ck, params);
    nn::add_optimizer_state(ck, params, opt);
    nn::save_checkpoint(path, ck);
  };

  // Validation pass at step s: logs, and writes checkpoint_best.bin on a strictly better score
  // (accuracy for classifiers, loss for the LM).
  auto validate = [&](std::int64_t s) {
    const auto t0 = Clock::now();
    const MetricSums m = evaluate_split(model, data, c, "val");
    json rec = m.to_json(lm);
    const double score = lm ? -m.loss() : m.accuracy();
    rec["step"] = s;
    rec["eval_time_s"] = seconds(t0, Clock::now());
    state.last_val = rec;
    rec["type"] = "eval";
    rec["split"] = "val";
    const bool better = !state.has_best || score > state.best_score;
    if (better) {
      state.has_best = true;
      state.best_score = score;
      state.best_step = s;
      state.best_metrics = m.to_json(lm);
    }
    rec["best"] = better;
    log.write(rec);
    if (better) save(ckpt_best);
    say(lm ? fmt::format("step {}: val loss {:.4f} bpb {:.4f}{}", s, m.loss(), m.bits_per_byte(),
                         better ? " (best)" : "")
           : fmt::format("step {}: val loss {:.4f} accuracy {:.4f}{}", s, m.loss(), m.accuracy(),
                         better ? " (best)" : ""));
  };

  TrainResult result;
  if (options_.stop_after > 0 && options_.stop_after <= state.step) {
    result.step = state.step;
    return result;
  }

  std::int64_t interval_tokens = 0;
  double interval_train_s = 0;

  for (std::int64_t s = state.step + 1; s <= steps; ++s) {
    const auto t0 = Clock::now();
    const nn::Batch batch =
        lm ? lm_batch(data.lm->train,
                      data.lm->train.random_offsets(
                          static_cast<std::size_t>(batch_size),
                          static_cast<std::size_t>(data.shape.max_len),
                          derive_seed(seed, SeedStream::kLmWindows, static_cast<std::uint64_t>(s))),
                      data.shape.max_len)
           : batcher->next();
    params.zero_grads();
    std::optional<std::string> bad;
    nn::StepResult r;
    try {
      r = model.forward(batch, /*training=*/true, dropout_seed, static_cast<std::uint64_t>(s),
                        smoothing);
      if (!std::isfinite(r.loss)) {
        bad = fmt::format("non-finite loss ({})", r.loss);
      } else {
        model.backward();
        if (options_.after_backward) options_.after_backward(s, params);
        bad = first_nonfinite_gradient(params);
      }
    } catch (const Error& e) {
      // The loss refuses non-finite logits (nn/CrossEntropy). Whether that is what happened is
      // decided by scanning the logits themselves, not the message; any other failure is a bug
      // or bad data and always stops the run.
      const auto logit = first_nonfinite_logit(
          model.logits(), std::max<std::int64_t>(model.config().num_classes, 1));
      if (!logit) fail("step {}: {}", s, e.what());
      const auto param = first_nonfinite_parameter(params);
      bad = fmt::format("non-finite forward pass: {} ({})", *logit,
                        param ? "caused by " + *param
                              : std::string("every parameter is finite: activations overflowed; "
                                            "a smaller optim.lr or optim.clip_norm helps"));
    }
    if (bad) {
      json rec = {{"type", "nonfinite"},
                  {"step", s},
                  {"what", *bad},
                  {"action", skip_nonfinite ? "skip" : "stop"}};
      log.write(rec);
      if (!skip_nonfinite) {
        bar.finish();
        fail(
            "step {}: {}; the run stopped (train.on_nonfinite = stop); the last good checkpoint "
            "is {} (step {})",
            s, *bad, fs::exists(ckpt_last) ? ckpt_last : std::string("(none yet)"),
            fs::exists(ckpt_last) ? std::to_string(state.step) : std::string("-"));
      }
      params.zero_grads();
      ++state.skipped_steps;
    } else {
      const double norm = clip > 0 ? nn::clip_grad_norm(params, clip) : nn::grad_norm(params);
      const double lr = schedule.lr_at(s - 1);
      opt.step(params, lr);
      // Finite gradients cannot normally produce non-finite weights, but if they did, no
      // checkpoint may hold them and the step cannot be undone: always stop here.
      if (const auto param = first_nonfinite_parameter(params)) {
        log.write(json{{"type", "nonfinite"},
                       {"step", s},
                       {"what", "after the update: " + *param},
                       {"action", "stop"}});
        bar.finish();
        fail(
            "step {}: after the AdamW update, {}; the run stopped before any checkpoint holds it; "
            "the last good checkpoint is {} (step {})",
            s, *param, fs::exists(ckpt_last) ? ckpt_last : std::string("(none yet)"),
            fs::exists(ckpt_last) ? std::to_string(state.step) : std::string("-"));
      }
      std::int64_t valid = 0;
      for (const auto l : batch.lengths) valid += l;
      state.tokens += valid;
      state.padded_tokens += batch.batch * batch.len;
      interval_tokens += valid;
      state.interval_loss_sum += r.loss;
      state.interval_correct += r.correct;
      state.interval_count += r.count;
      ++state.interval_steps;
      const double dt = seconds(t0, Clock::now());
      state.train_time_s += dt;
      interval_train_s += dt;
      if (s % log_every == 0 || s == steps) {
        const double n = static_cast<double>(std::max<std::int64_t>(state.interval_steps, 1));
        json rec = {
            {"type", "train"},
            {"step", s},
            {"loss", r.loss},
            {"loss_avg", state.interval_loss_sum / n},
            {"accuracy_avg", state.interval_count > 0
                                 ? static_cast<double>(state.interval_correct) /
                                       static_cast<double>(state.interval_count)
                                 : 0.0},
            {"lr", lr},
            {"grad_norm", norm},
            {"epoch", batcher ? batcher->position().epoch : 0},
            {"tokens_per_s",
             interval_train_s > 0 ? static_cast<double>(interval_tokens) / interval_train_s : 0.0},
            {"elapsed_s", state.wall_time_s + seconds(session_start, Clock::now())}};
        log.write(rec);
        state.interval_loss_sum = 0;
        state.interval_correct = state.interval_count = state.interval_steps = 0;
        interval_tokens = 0;
        interval_train_s = 0;
      }
      bar.update(s, fmt::format("loss {:.4f} lr {:.2e}", r.loss, lr));
    }
    state.step = s;
    if (batcher) state.position = batcher->position();

    const bool last = s == steps;
    const bool stop_here = options_.stop_after == s;
    const bool interrupted = options_.interrupted != nullptr && *options_.interrupted != 0;
    if (has_val && ((eval_every > 0 && s % eval_every == 0) || last)) validate(s);
    if ((ckpt_every > 0 && s % ckpt_every == 0) || last || stop_here || interrupted) {
      save(ckpt_last);
    }
    if ((stop_here || interrupted) && !last) {
      bar.finish();
      say(fmt::format("train: {} at step {}; continue with --resume",
                      interrupted ? "interrupted" : "stopped", s));
      result.step = s;
      result.interrupted = interrupted;
      return result;
    }
  }
  bar.finish();

  // --- Final evaluation ---------------------------------------------------------------------
  json metrics = {{"task", c.get_string("task.name")},
                  {"variant", c.get_string("attention.variant")},
                  {"steps", state.step},
                  {"parameters", params.size()},
                  {"skipped_steps", state.skipped_steps}};
  if (has_split(data, "test")) {
    const auto t0 = Clock::now();
    const MetricSums m = evaluate_split(model, data, c, "test");
    json test = m.to_json(lm);
    if (!lm) test["majority_rate"] = data.test.majority_rate();
    test["eval_time_s"] = seconds(t0, Clock::now());
    metrics["test"] = test;
    json rec = m.to_json(lm);
    rec["type"] = "eval";
    rec["split"] = "test";
    rec["step"] = state.step;
    log.write(rec);
  }
  if (state.has_best) {
    metrics["val_best"] = state.best_metrics;
    metrics["val_best"]["step"] = state.best_step;
    metrics["val_final"] = state.last_val;
  }
  const double wall = state.wall_time_s + seconds(session_start, Clock::now());
  metrics["wall_time_s"] = wall;
  metrics["train_time_s"] = state.train_time_s;
  metrics["tokens"] = state.tokens;
  metrics["tokens_per_s"] =
      state.train_time_s > 0 ? static_cast<double>(state.tokens) / state.train_time_s : 0.0;
  metrics["padded_tokens_per_s"] =
      state.train_time_s > 0 ? static_cast<double>(state.padded_tokens) / state.train_time_s : 0.0;
  metrics["threads"] = num_threads();
  metrics["finished_at"] = utc_now();
  write_text_atomic((dir / kRunMetricsFile).string(), metrics.dump(2) + "\n");
  if (metrics.contains("test")) {
    const auto& t = metrics["test"];
    say(lm ? fmt::format("test: loss {:.4f} bpb {:.4f} ({} bytes) | wall {:.1f}s",
                         t["loss"].get<double>(), t["bits_per_byte"].get<double>(),
                         t["count"].get<std::int64_t>(), wall)
           : fmt::format("test: accuracy {:.4f} loss {:.4f} (majority {:.4f}, {} examples) | "
                         "wall {:.1f}s",
                         t["accuracy"].get<double>(), t["loss"].get<double>(),
                         t["majority_rate"].get<double>(), t["count"].get<std::int64_t>(), wall));
  }
  result.step = state.step;
  result.finished = true;
  result.metrics = metrics;
  return result;
}

json evaluate_checkpoint(const std::string& checkpoint_path, const std::string& data_arg,
                         const std::string& split, int threads) {
  const nn::Checkpoint ck = nn::load_checkpoint(checkpoint_path);
  DIFFUSER_CHECK(
      ck.meta.contains("config") && ck.meta.contains("task") && ck.meta.contains("trainer"),
      "{}: not a checkpoint written by `diffuser train` (no config/task/trainer)", checkpoint_path);
  Config c = config_from_json(ck.meta["config"], checkpoint_path);
  const TaskShape shape = TaskShape::from_json(ck.meta["task"]);
  const std::string run_dir = fs::path(checkpoint_path).parent_path().string();

  std::string which = data_arg.empty() ? std::string("test") : data_arg;
  const bool is_split = which == "train" || which == "val" || which == "test";
  std::string eval_split = is_split ? which : split;
  check_split_name(eval_split);
  if (!is_split) {
    DIFFUSER_CHECK(fs::exists(which), "--data {}: no such split (train, val, test) or path", which);
    const std::string& task = c.get_string("task.name");
    if (task == "bytelm") {
      c.apply_override("task.text_file=" + which);
    } else {
      c.apply_override("task.data_dir=" + which);
    }
    // A folder is evaluated whole: no subset cap (image validation sets stay the carved
    // task.val_size images; the LM evaluates every window).
    const bool carved = eval_split == "val" && (task == "fashion_mnist" || task == "cifar10");
    if (!carved) c.apply_override("task." + eval_split + "_size=0");
  }
  std::optional<ThreadCountGuard> guard;
  const int t = threads > 0 ? threads : static_cast<int>(c.get_int("train.threads"));
  if (t > 0) guard.emplace(t);

  const TaskData data = load_task_data(c, run_dir, {eval_split});
  DIFFUSER_CHECK(data.shape == shape,
                 "--data {}: the data has shape {} but the checkpoint {} was trained on {}", which,
                 data.shape.to_json().dump(), checkpoint_path, shape.to_json().dump());
  nn::Model<float> model(experiment_model_config(c, shape));
  nn::restore_parameters(ck, model.params());
  const bool lm = is_language_model(shape);
  const MetricSums m = evaluate_split(model, data, c, eval_split);
  json out = m.to_json(lm);
  out["checkpoint"] = checkpoint_path;
  out["step"] = ck.meta["trainer"].value("step", std::int64_t{0});
  out["task"] = c.get_string("task.name");
  out["variant"] = c.get_string("attention.variant");
  out["data"] = which;
  out["split"] = eval_split;
  if (!lm) {
    const SequenceDataset& d = eval_split == "train" ? data.train
                               : eval_split == "val" ? data.val
                                                     : data.test;
    out["majority_rate"] = d.majority_rate();
  }
  return out;
}

}  // namespace diffuser::experiments

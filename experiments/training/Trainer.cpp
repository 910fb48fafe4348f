// Why: the training loop and checkpoint evaluation (see Trainer.hpp). What differs between
// tasks is behind experiments/tasks/Task.hpp, the run folder's rules behind RunFolder.hpp.
#include "experiments/training/Trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"
#include "core/Threads.hpp"
#include "experiments/tasks/SeedStreams.hpp"
#include "experiments/tasks/SplitSubsets.hpp"
#include "experiments/tasks/TaskRegistry.hpp"
#include "experiments/training/ExperimentModel.hpp"
#include "experiments/training/NonFiniteScan.hpp"
#include "experiments/training/ProgressBar.hpp"
#include "experiments/training/RunLog.hpp"
#include "experiments/training/TrainedCheckpoint.hpp"
#include "experiments/training/TrainerState.hpp"
#include "nn/AdamW.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/GradClip.hpp"
#include "nn/LrSchedule.hpp"
#include "nn/Model.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

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

void message(std::FILE* out, const std::string& text) {
  if (out == nullptr) return;
  std::fprintf(out, "%s\n", text.c_str());
  std::fflush(out);
}

/// One session of a run: the objects a training loop works on, and its steps.
class Session {
 public:
  /// A session that started at `start` (its wall time counts from there).
  Session(const Config& config, const ExperimentConfig& e, const TrainOptions& options,
          const RunFolder& folder, Task& task, const nn::ModelConfig& model_config,
          Clock::time_point start)
      : config_(config),
        e_(e),
        options_(options),
        folder_(folder),
        task_(task),
        start_(start),
        model_(model_config),
        params_(model_.params()),
        opt_(params_, adamw_config(e.optim)),
        schedule_(lr_schedule(e.optim, e.train.steps)),
        ckpt_last_(folder.file(kCheckpointLast)),
        ckpt_best_(folder.file(kCheckpointBest)) {}

  nn::Model<float>& model() { return model_; }
  TrainerState& state() { return state_; }
  nn::AdamW<float>& optimizer() { return opt_; }
  const std::string& last_checkpoint() const { return ckpt_last_; }

  /// Runs steps state.step + 1 .. train.steps; returns the result at an early stop.
  std::optional<TrainResult> train(BatchStream& batches) {
    log_.emplace(folder_.file(kRunLogFile));
    bar_.emplace(e_.train.steps, "train", state_.step);
    if (!options_.progress) bar_->set_enabled(false);
    say(fmt::format("train: {} | {} {} params | {} threads | steps {}..{}", task_.description(),
                    e_.attention.variant, params_.size(), num_threads(), state_.step + 1,
                    e_.train.steps));
    if (options_.stop_after > 0 && options_.stop_after <= state_.step) {
      TrainResult result;
      result.step = state_.step;
      return result;
    }
    const bool has_val = task_.has_split("val");
    const std::int64_t steps = e_.train.steps;
    for (std::int64_t s = state_.step + 1; s <= steps; ++s) {
      step(batches, s);
      state_.step = s;
      state_.position = batches.position();

      const bool last = s == steps;
      const bool stop_here = options_.stop_after == s;
      const bool interrupted = options_.interrupted != nullptr && *options_.interrupted != 0;
      const std::int64_t eval_every = e_.train.eval_every;
      const std::int64_t ckpt_every = e_.train.checkpoint_every;
      if (has_val && ((eval_every > 0 && s % eval_every == 0) || last)) validate(s);
      if ((ckpt_every > 0 && s % ckpt_every == 0) || last || stop_here || interrupted) {
        save(ckpt_last_);
      }
      if ((stop_here || interrupted) && !last) {
        bar_->finish();
        say(fmt::format("train: {} at step {}; continue with --resume",
                        interrupted ? "interrupted" : "stopped", s));
        TrainResult result;
        result.step = s;
        result.interrupted = interrupted;
        return result;
      }
    }
    bar_->finish();
    return std::nullopt;
  }

  /// The test set, metrics.json and the closing status line.
  TrainResult finish() {
    json metrics = {{"task", e_.task.name},
                    {"variant", e_.attention.variant},
                    {"steps", state_.step},
                    {"parameters", params_.size()},
                    {"skipped_steps", state_.skipped_steps}};
    std::optional<MetricSums> test_sums;
    if (task_.has_split("test")) {
      const auto t0 = Clock::now();
      test_sums = task_.evaluate(model_, "test");
      json test = task_.metrics_json(*test_sums);
      test.update(task_.split_facts("test"));
      test["eval_time_s"] = seconds(t0, Clock::now());
      metrics["test"] = test;
      json rec = task_.metrics_json(*test_sums);
      rec["type"] = "eval";
      rec["split"] = "test";
      rec["step"] = state_.step;
      log_->write(rec);
    }
    if (state_.has_best) {
      metrics["val_best"] = state_.best_metrics;
      metrics["val_best"]["step"] = state_.best_step;
      metrics["val_final"] = state_.last_val;
    }
    const double wall = state_.wall_time_s + seconds(start_, Clock::now());
    const double train_s = state_.train_time_s;
    metrics["wall_time_s"] = wall;
    metrics["train_time_s"] = train_s;
    metrics["tokens"] = state_.tokens;
    metrics["tokens_per_s"] = train_s > 0 ? static_cast<double>(state_.tokens) / train_s : 0.0;
    metrics["padded_tokens_per_s"] =
        train_s > 0 ? static_cast<double>(state_.padded_tokens) / train_s : 0.0;
    metrics["threads"] = num_threads();
    metrics["finished_at"] = utc_now();
    folder_.write_metrics(metrics);
    if (test_sums) say(fmt::format("test: {} | wall {:.1f}s", task_.test_text(*test_sums), wall));
    TrainResult result;
    result.step = state_.step;
    result.finished = true;
    result.metrics = metrics;
    return result;
  }

 private:
  static nn::AdamWConfig adamw_config(const OptimSection& o) {
    nn::AdamWConfig adam;
    adam.beta1 = o.beta1;
    adam.beta2 = o.beta2;
    adam.eps = o.eps;
    adam.weight_decay = o.weight_decay;
    adam.validate();
    return adam;
  }

  static nn::LrSchedule lr_schedule(const OptimSection& o, std::int64_t steps) {
    nn::LrSchedule schedule;
    schedule.peak_lr = o.lr;
    schedule.min_lr = schedule.peak_lr * o.min_lr_ratio;
    schedule.warmup_steps = o.warmup_steps;
    schedule.total_steps = steps;
    schedule.decay = nn::parse_lr_decay(o.schedule);
    schedule.validate();
    return schedule;
  }

  // Status lines go through the bar when both write to stderr, so a drawn bar is not garbled.
  void say(const std::string& text) {
    if (options_.messages == nullptr) return;
    if (options_.messages == stderr) {
      bar_->message(text);
    } else {
      message(options_.messages, text);
    }
  }

  /// Throws "<what>; the last good checkpoint is <path> (step k)".
  [[noreturn]] void stop_run(const std::string& what) {
    bar_->finish();
    const bool has_ckpt = fs::exists(ckpt_last_);
    fail("{}; the last good checkpoint is {} (step {})", what,
         has_ckpt ? ckpt_last_ : std::string("(none yet)"),
         has_ckpt ? std::to_string(state_.step) : std::string("-"));
  }

  void save(const std::string& path) {
    nn::Checkpoint ck;
    ck.meta["config"] = config_.to_json();
    ck.meta["task"] = task_.shape().to_json();
    TrainerState s = state_;
    s.wall_time_s = state_.wall_time_s + seconds(start_, Clock::now());
    ck.meta["trainer"] = s.to_json();
    nn::add_parameters(ck, params_);
    nn::add_optimizer_state(ck, params_, opt_);
    nn::save_checkpoint(path, ck);
  }

  // Validation pass at step s: logs, and writes checkpoint_best.bin on a strictly better score.
  void validate(std::int64_t s) {
    const auto t0 = Clock::now();
    const MetricSums m = task_.evaluate(model_, "val");
    json rec = task_.metrics_json(m);
    const double score = task_.score(m);
    rec["step"] = s;
    rec["eval_time_s"] = seconds(t0, Clock::now());
    state_.last_val = rec;
    rec["type"] = "eval";
    rec["split"] = "val";
    const bool better = !state_.has_best || score > state_.best_score;
    if (better) {
      state_.has_best = true;
      state_.best_score = score;
      state_.best_step = s;
      state_.best_metrics = task_.metrics_json(m);
    }
    rec["best"] = better;
    log_->write(rec);
    if (better) save(ckpt_best_);
    say(fmt::format("step {}: val {}{}", s, task_.validation_text(m), better ? " (best)" : ""));
  }

  /// What a forward/backward pass gave: the loss sums, or why the step is not finite.
  struct Pass {
    nn::StepResult result;
    std::optional<std::string> bad;
  };

  /// Forward and backward of step s.
  Pass forward_backward(const nn::Batch& batch, std::int64_t s) {
    params_.zero_grads();
    Pass p;
    try {
      p.result = model_.forward(batch, /*training=*/true, derive_seed(seed(), SeedStream::kDropout),
                                static_cast<std::uint64_t>(s), e_.optim.label_smoothing);
      if (!std::isfinite(p.result.loss)) {
        p.bad = fmt::format("non-finite loss ({})", p.result.loss);
        return p;
      }
      model_.backward();
      if (options_.after_backward) options_.after_backward(s, params_);
      p.bad = first_nonfinite_gradient(params_);
      return p;
    } catch (const Error& e) {
      // The loss refuses non-finite logits (nn/CrossEntropy). Whether that is what happened is
      // decided by scanning the logits themselves, not the message; any other failure is a bug
      // or bad data and always stops the run.
      const auto logit = first_nonfinite_logit(
          model_.logits(), std::max<std::int64_t>(model_.config().num_classes, 1));
      if (!logit) fail("step {}: {}", s, e.what());
      const auto param = first_nonfinite_parameter(params_);
      p.bad = fmt::format("non-finite forward pass: {} ({})", *logit,
                          param ? "caused by " + *param
                                : std::string("every parameter is finite: activations overflowed; "
                                              "a smaller optim.lr or optim.clip_norm helps"));
      return p;
    }
  }

  void step(BatchStream& batches, std::int64_t s) {
    const auto t0 = Clock::now();
    const nn::Batch batch = batches.next(s);
    const bool skip_nonfinite = e_.train.on_nonfinite == "skip";
    const Pass pass = forward_backward(batch, s);
    const nn::StepResult& r = pass.result;
    if (const auto& bad = pass.bad) {
      log_->write(json{{"type", "nonfinite"},
                       {"step", s},
                       {"what", *bad},
                       {"action", skip_nonfinite ? "skip" : "stop"}});
      if (!skip_nonfinite) {
        stop_run(fmt::format("step {}: {}; the run stopped (train.on_nonfinite = stop)", s, *bad));
      }
      params_.zero_grads();
      ++state_.skipped_steps;
      return;
    }
    const double clip = e_.optim.clip_norm;
    const double norm = clip > 0 ? nn::clip_grad_norm(params_, clip) : nn::grad_norm(params_);
    const double lr = schedule_.lr_at(s - 1);
    opt_.step(params_, lr);
    // Finite gradients cannot normally produce non-finite weights, but if they did, no
    // checkpoint may hold them and the step cannot be undone: always stop here.
    if (const auto param = first_nonfinite_parameter(params_)) {
      log_->write(json{{"type", "nonfinite"},
                       {"step", s},
                       {"what", "after the update: " + *param},
                       {"action", "stop"}});
      stop_run(fmt::format(
          "step {}: after the AdamW update, {}; the run stopped before any checkpoint holds it", s,
          *param));
    }
    std::int64_t valid = 0;
    for (const auto l : batch.lengths) valid += l;
    state_.tokens += valid;
    state_.padded_tokens += batch.batch * batch.len;
    interval_tokens_ += valid;
    state_.interval_loss_sum += r.loss;
    state_.interval_correct += r.correct;
    state_.interval_count += r.count;
    ++state_.interval_steps;
    const double dt = seconds(t0, Clock::now());
    state_.train_time_s += dt;
    interval_train_s_ += dt;
    if (s % e_.train.log_every == 0 || s == e_.train.steps) {
      const double n = static_cast<double>(std::max<std::int64_t>(state_.interval_steps, 1));
      log_->write(json{
          {"type", "train"},
          {"step", s},
          {"loss", r.loss},
          {"loss_avg", state_.interval_loss_sum / n},
          {"accuracy_avg", state_.interval_count > 0
                               ? static_cast<double>(state_.interval_correct) /
                                     static_cast<double>(state_.interval_count)
                               : 0.0},
          {"lr", lr},
          {"grad_norm", norm},
          {"epoch", batches.position().epoch},
          {"tokens_per_s",
           interval_train_s_ > 0 ? static_cast<double>(interval_tokens_) / interval_train_s_ : 0.0},
          {"elapsed_s", state_.wall_time_s + seconds(start_, Clock::now())}});
      state_.interval_loss_sum = 0;
      state_.interval_correct = state_.interval_count = state_.interval_steps = 0;
      interval_tokens_ = 0;
      interval_train_s_ = 0;
    }
    bar_->update(s, fmt::format("loss {:.4f} lr {:.2e}", r.loss, lr));
  }

  std::uint64_t seed() const { return static_cast<std::uint64_t>(e_.train.seed); }

  const Config& config_;
  const ExperimentConfig& e_;
  const TrainOptions& options_;
  const RunFolder& folder_;
  Task& task_;
  Clock::time_point start_;
  nn::Model<float> model_;
  nn::ParameterStore<float>& params_;
  nn::AdamW<float> opt_;
  nn::LrSchedule schedule_;
  std::string ckpt_last_, ckpt_best_;
  TrainerState state_;
  std::optional<RunLog> log_;
  std::optional<ProgressBar> bar_;
  std::int64_t interval_tokens_ = 0;
  double interval_train_s_ = 0;
};

}  // namespace

Trainer::Trainer(Config config, TrainOptions options)
    : config_(std::move(config)),
      experiment_(ExperimentConfig::read(config_)),
      options_(std::move(options)) {
  DIFFUSER_CHECK(!options_.run_dir.empty(), "train: no run folder given (--out)");
  DIFFUSER_CHECK(options_.stop_after >= 0, "train: stop_after = {} (must be >= 0)",
                 options_.stop_after);
}

TrainResult Trainer::run() {
  const Clock::time_point session_start = Clock::now();
  const ExperimentConfig& e = experiment_;
  const RunFolder folder(options_.run_dir, options_.resume, config_);
  std::optional<ThreadCountGuard> threads;
  if (e.train.threads > 0) threads.emplace(static_cast<int>(e.train.threads));

  // --- Data, model, optimiser ----------------------------------------------------------------
  const auto task = make_task(e, config_);
  task->load(folder.dir());
  const nn::ModelConfig model_config = experiment_model_config(e, task->shape());
  std::optional<analysis::HopSuggestion> auto_hops;
  if (e.attention.hops_auto && e.attention.variant == "diffuser") {
    auto_hops = experiment_auto_hops(e, task->shape());
    message(options_.messages, "attention.hops = auto: " + auto_hops->reasoning);
  }
  const auto seed = static_cast<std::uint64_t>(e.train.seed);
  // Peak memory of a run is about 16 floats per parameter: values, gradients and two AdamW
  // moments resident, plus a checkpoint write's tensor copies and its serialised file
  // (measured: 34.9M parameters peaked at 2.12 GB, 61 bytes per parameter). Refuse up front
  // rather than be killed mid-run.
  const std::size_t parameters = nn::Model<float>::parameter_count(model_config);
  check_memory_budget(16 * sizeof(float) * static_cast<std::uint64_t>(parameters),
                      fmt::format("training {} parameters (values, gradients, two AdamW moments "
                                  "and the checkpoint buffers, ~64 bytes each)",
                                  parameters));
  Session session(config_, e, options_, folder, *task, model_config, session_start);
  session.model().init(derive_seed(seed, SeedStream::kInit));
  auto& params = session.model().params();
  const auto batches = task->training_batches(seed);

  TrainerState& state = session.state();
  if (folder.resuming()) {
    const nn::Checkpoint& ck = folder.resume_checkpoint();
    const std::string& ckpt_last = session.last_checkpoint();
    const auto stored_shape = TaskShape::from_json(ck.meta.at("task"));
    DIFFUSER_CHECK(stored_shape == task->shape(),
                   "--resume: the task data now has shape {} but the checkpoint {} was trained "
                   "on {}",
                   task->shape().to_json().dump(), ckpt_last, stored_shape.to_json().dump());
    nn::restore_parameters(ck, params);
    nn::restore_optimizer_state(ck, params, session.optimizer());
    state = TrainerState::from_json(ck.meta["trainer"], ckpt_last);
    DIFFUSER_CHECK(e.train.steps >= state.step,
                   "--resume: train.steps = {} is below the checkpoint's step {} ({})",
                   e.train.steps, state.step, ckpt_last);
    batches->seek(state.position);
    RunLog::truncate_after_step(folder.file(kRunLogFile), state.step);
  } else {
    folder.write_config(config_);
  }

  // run.json: facts of this run; a resume appends to "sessions".
  folder.add_session({{"seed", seed},
                      {"task_seed", e.task.seed},
                      {"git_revision", options_.git_revision},
                      {"git_revision_source", options_.git_revision_source},
                      {"start_time", utc_now()},
                      {"model",
                       {{"parameters", params.size()},
                        {"kind", task->shape().to_json()["kind"]},
                        {"diffusion", model_config.diffusion.describe()},
                        {"hops_auto", auto_hops ? json(auto_hops->reasoning) : json(nullptr)}}},
                      {"data", task->description()}},
                     {{"start_time", utc_now()},
                      {"command_line", options_.command_line},
                      {"threads", num_threads()},
                      {"git_revision", options_.git_revision},
                      {"from_step", state.step}});

  if (auto stopped = session.train(*batches)) return *stopped;
  return session.finish();
}

json evaluate_checkpoint(const std::string& checkpoint_path, const std::string& data_arg,
                         const std::string& split, int threads) {
  const TrainedCheckpoint trained = TrainedCheckpoint::load(checkpoint_path);
  const Config& c = trained.config;
  const ExperimentConfig& e = trained.experiment;
  const TaskShape& shape = trained.shape;
  const std::string run_dir = fs::path(checkpoint_path).parent_path().string();

  const std::string which = data_arg.empty() ? std::string("test") : data_arg;
  const bool is_split = which == "train" || which == "val" || which == "test";
  const std::string eval_split = is_split ? which : split;
  check_split_name(eval_split);
  const auto task = make_task(e, c);
  if (!is_split) {
    DIFFUSER_CHECK(fs::exists(which), "--data {}: no such split (train, val, test) or path", which);
    task->read_data_from(which, eval_split);
  }
  std::optional<ThreadCountGuard> guard;
  const std::int64_t t = threads > 0 ? threads : e.train.threads;
  if (t > 0) guard.emplace(static_cast<int>(t));

  task->load(run_dir, {eval_split});
  DIFFUSER_CHECK(task->shape() == shape,
                 "--data {}: the data has shape {} but the checkpoint {} was trained on {}", which,
                 task->shape().to_json().dump(), checkpoint_path, shape.to_json().dump());
  nn::Model<float> model(experiment_model_config(e, shape));
  nn::restore_parameters(trained.checkpoint, model.params());
  const MetricSums m = task->evaluate(model, eval_split);
  json out = task->metrics_json(m);
  out.update(task->split_facts(eval_split));
  out["checkpoint"] = checkpoint_path;
  out["step"] = trained.step;
  out["task"] = e.task.name;
  out["variant"] = e.attention.variant;
  out["data"] = which;
  out["split"] = eval_split;
  return out;
}

}  // namespace diffuser::experiments

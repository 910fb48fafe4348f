// Why: the layers must compose. A tiny classifier (embedding, dropout, LayerNorm, MLP with a
// residual, LayerNorm, mean pooling, tanh head, label-smoothed cross-entropy) is gradient-checked
// in double for every parameter tensor, then trained in float to show that resuming from a
// checkpoint reproduces the uninterrupted loss trajectory bit for bit, on 1 or 2 threads.
#include <cstring>
#include <vector>

#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "nn/AdamW.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/ClassificationHead.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/Dropout.hpp"
#include "nn/Embedding.hpp"
#include "nn/GradClip.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/LrSchedule.hpp"
#include "nn/Mlp.hpp"
#include "nn/ParameterStore.hpp"
#include "nn/Pooling.hpp"
#include "nn/Residual.hpp"
#include "tests/Testing.hpp"
#include "tests/nn/GradCheck.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::rel_error;

namespace {

constexpr std::int64_t kVocab = 6, kLen = 5, kDim = 4, kHidden = 8, kClasses = 3;

template <typename T>
struct TinyModel {
  ParameterStore<T> store;
  Embedding emb{store, "emb", kVocab, kLen, kDim};
  LayerNorm ln1{store, "ln1", kDim};
  Mlp mlp{store, "mlp", kDim, kHidden};
  LayerNorm ln2{store, "ln2", kDim};
  ClassificationHead head{store, "head", kDim, kClasses, 4};
  float dropout = 0.2f;
  double smoothing = 0.1;
  std::uint64_t seed = 99;

  void init(std::uint64_t init_seed) {
    Rng rng(init_seed);
    embedding_init(emb, store, rng, 0.5);
    layernorm_init(ln1, store);
    mlp_init(mlp, store, rng, 0.5);
    layernorm_init(ln2, store);
    classification_head_init(head, store, rng, 0.5);
  }

  // Forward and backward for one batch; returns the loss. Gradients accumulate in the store.
  double forward_backward(const std::vector<std::int32_t>& tokens,
                          const std::vector<std::int32_t>& lengths,
                          const std::vector<std::int32_t>& labels, std::uint64_t step,
                          bool backward = true) {
    const std::int64_t B = static_cast<std::int64_t>(lengths.size()), rows = B * kLen;
    const std::size_t N = static_cast<std::size_t>(rows * kDim);
    const std::size_t NH = static_cast<std::size_t>(rows * kHidden);
    const Dropout d0{dropout, seed, dropout_stream(step, 0), 0};
    const Dropout d1{dropout, seed, dropout_stream(step, 1), 0};
    std::vector<T> x0(N), x1(N), h(N), mean1(rows), rstd1(rows), pre(NH), act(NH), m(N), md(N),
        x2(N), x3(N), mean2(rows), rstd2(rows), pooled(B * kDim), hact(B * 4), logits(B * kClasses);
    embedding_forward<T>(emb, store, tokens, B, kLen, x0);
    dropout_forward<T>(d0, x0, x1);
    layernorm_forward<T>(ln1, store, x1, h, mean1, rstd1, rows);
    mlp_forward<T>(mlp, store, h, pre, act, m, rows);
    dropout_forward<T>(d1, m, md);
    residual_forward<T>(x1, md, x2);
    layernorm_forward<T>(ln2, store, x2, x3, mean2, rstd2, rows);
    pooling_forward<T>(Pooling::kMean, x3, lengths, B, kLen, kDim, pooled);
    classification_head_forward<T>(head, store, pooled, hact, logits, B);
    const double loss = cross_entropy_forward<T>(logits, labels, B, kClasses, smoothing).loss;
    if (!backward) return loss;

    std::vector<T> dlogits(B * kClasses), dpooled(B * kDim), hscratch(B * 4), dx3(N), dx2(N), dm(N),
        dh(N), dx1(N), dx0(N), mscratch(NH);
    cross_entropy_backward<T>(logits, labels, B, kClasses, smoothing, dlogits);
    classification_head_backward<T>(head, store, pooled, hact, dlogits, hscratch, dpooled, B);
    pooling_backward<T>(Pooling::kMean, dpooled, lengths, B, kLen, kDim, dx3);
    layernorm_backward<T>(ln2, store, x2, mean2, rstd2, dx3, dx2, rows);
    dropout_backward<T>(d1, dx2, dm);  // x2 = x1 + dropout(m): the branch gets dropout(dx2)
    mlp_backward<T>(mlp, store, h, pre, act, dm, mscratch, dh, rows);
    layernorm_backward<T>(ln1, store, x1, mean1, rstd1, dh, dx1, rows);
    add_into<T>(dx1, dx2);  // the skip path
    dropout_backward<T>(d0, dx1, dx0);
    embedding_backward<T>(emb, store, tokens, B, kLen, dx0);
    return loss;
  }
};

struct Batch {
  std::vector<std::int32_t> tokens, lengths, labels;
};

// Batch `step` of a toy task (label = token at position 0 modulo 3), a pure function of the step.
Batch make_batch(std::uint64_t step) {
  Rng rng(1000 + step);
  Batch b;
  for (int s = 0; s < 4; ++s) {
    for (int t = 0; t < kLen; ++t)
      b.tokens.push_back(static_cast<std::int32_t>(rng.uniform_below(kVocab)));
    b.lengths.push_back(static_cast<std::int32_t>(1 + rng.uniform_below(kLen)));
    b.labels.push_back(b.tokens[s * kLen] % 3);
  }
  return b;
}

// Trains `model` from step `from` to `to` (exclusive), returning the loss of each step.
std::vector<double> train(TinyModel<float>& model, AdamW<float>& opt, std::uint64_t from,
                          std::uint64_t to) {
  LrSchedule schedule;
  schedule.peak_lr = 5e-2;
  schedule.warmup_steps = 2;
  schedule.total_steps = 8;
  std::vector<double> losses;
  for (std::uint64_t step = from; step < to; ++step) {
    const Batch b = make_batch(step);
    model.store.zero_grads();
    losses.push_back(model.forward_backward(b.tokens, b.lengths, b.labels, step));
    clip_grad_norm(model.store, 1.0);
    opt.step(model.store, schedule.lr_at(static_cast<std::int64_t>(step)));
  }
  return losses;
}

}  // namespace

TEST_CASE("tiny model: every parameter tensor passes the gradient check", "[nn][grad]") {
  TinyModel<double> model;
  model.init(5);
  // LayerNorm parameters start at 1 / 0: move them so their gradients exercise every term.
  Rng rng(6);
  for (const ParamRef r : {model.ln1.weight, model.ln1.bias, model.ln2.weight, model.ln2.bias}) {
    for (double& v : model.store.value(r)) v += 0.3 * rng.normal();
  }
  const Batch b = make_batch(0);
  model.store.zero_grads();
  model.forward_backward(b.tokens, b.lengths, b.labels, 0);
  const std::vector<double> analytic(model.store.grads().begin(), model.store.grads().end());
  const auto f = [&] { return model.forward_backward(b.tokens, b.lengths, b.labels, 0, false); };
  for (const TensorInfo& t : model.store.tensors()) {
    const ParamRef r = model.store.ref(t.name);
    testing::check_gradient(t.name, model.store.value(r),
                            std::span<const double>(analytic).subspan(t.offset, t.size), f);
  }
}

TEST_CASE("tiny model: resuming from a checkpoint reproduces training bit for bit",
          "[nn][checkpoint]") {
  testing::TempDir dir;
  std::vector<std::vector<double>> trajectories;
  std::vector<std::vector<float>> finals;
  for (const int threads : {1, 2}) {
    ThreadCountGuard guard(threads);
    // Uninterrupted: steps 0..7.
    TinyModel<float> a;
    a.init(7);
    AdamW<float> opt_a(a.store, AdamWConfig{});
    const std::vector<double> straight = train(a, opt_a, 0, 8);

    // Interrupted after step 3: checkpoint, fresh objects, restore, continue.
    std::vector<double> resumed;
    {
      TinyModel<float> b;
      b.init(7);
      AdamW<float> opt_b(b.store, AdamWConfig{});
      resumed = train(b, opt_b, 0, 4);
      Checkpoint c;
      c.meta["step"] = 4;
      add_parameters(c, b.store);
      add_optimizer_state(c, b.store, opt_b);
      save_checkpoint(dir.file("resume.ckpt"), c);
    }
    TinyModel<float> c;
    c.init(12345);  // different weights: everything must come from the checkpoint
    AdamW<float> opt_c(c.store, AdamWConfig{});
    const Checkpoint ckpt = load_checkpoint(dir.file("resume.ckpt"));
    restore_parameters(ckpt, c.store);
    restore_optimizer_state(ckpt, c.store, opt_c);
    const auto step = ckpt.meta["step"].get<std::uint64_t>();
    const std::vector<double> rest = train(c, opt_c, step, 8);
    resumed.insert(resumed.end(), rest.begin(), rest.end());

    INFO("threads " << threads);
    REQUIRE(resumed.size() == straight.size());
    for (std::size_t i = 0; i < straight.size(); ++i) CHECK(resumed[i] == straight[i]);
    CHECK(std::memcmp(a.store.values().data(), c.store.values().data(),
                      a.store.size() * sizeof(float)) == 0);
    TinyModel<float> initial;
    initial.init(7);
    CHECK(rel_error(std::span<const float>(a.store.values()),
                    std::span<const float>(initial.store.values())) > 1e-3);
    trajectories.push_back(straight);
    finals.emplace_back(a.store.values().begin(), a.store.values().end());
  }
  // Same losses and weights on 1 and 2 threads.
  CHECK(trajectories[0] == trajectories[1]);
  CHECK(finals[0] == finals[1]);
}

// Why: the same seed must give the same result whatever the thread count. Each kernel with a
// reduction or a split across threads runs on 1 and on 2 threads, on shapes that span several
// work chunks, and the outputs must be bitwise equal.
#include <vector>

#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "nn/AdamW.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/Dropout.hpp"
#include "nn/Embedding.hpp"
#include "nn/GradClip.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Linear.hpp"
#include "nn/ParameterStore.hpp"
#include "nn/Pooling.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::nn;

namespace {

std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

// Runs the kernels once on the current thread count and returns every output concatenated.
std::vector<float> run_all() {
  // Every kernel here works on >= kMinParallelWork elements, so 2 threads really split it.
  const std::int64_t batch = 8, len = 150, rows = batch * len, in = 64, out = 70, vocab = 500;
  ParameterStore<float> store;
  const Linear lin(store, "lin", in, out);
  const LayerNorm ln(store, "ln", out);
  const Embedding emb(store, "emb", vocab, len, in);
  Rng rng(1);
  linear_init(lin, store, rng, 0.3);
  layernorm_init(ln, store);
  embedding_init(emb, store, rng, 0.3);

  std::vector<std::int32_t> tokens(batch * len);
  for (auto& t : tokens) t = static_cast<std::int32_t>(rng.uniform_below(vocab));
  std::vector<float> x(rows * in), y(rows * out), z(rows * out), mean(rows), rstd(rows);
  embedding_forward<float>(emb, store, tokens, batch, len, x);
  linear_forward<float>(lin, store, x, y, rows);
  layernorm_forward<float>(ln, store, y, z, mean, rstd, rows);
  std::vector<float> zd(z.size());
  dropout_forward<float>(Dropout{0.1f, 3, 4, 0}, z, zd);

  const std::vector<float> dz = random_floats(rows * out, 2);
  std::vector<float> dy(rows * out), dx(rows * in);
  store.zero_grads();
  layernorm_backward<float>(ln, store, y, mean, rstd, dz, dy, rows);
  linear_backward<float>(lin, store, x, dy, dx, rows);
  embedding_backward<float>(emb, store, tokens, batch, len, dx);

  std::vector<float> pooled(batch * in);
  const std::vector<std::int32_t> lengths = {150, 1, 40, 60, 149, 2, 75, 100};
  pooling_forward<float>(Pooling::kMean, x, lengths, batch, len, in, pooled);

  std::vector<std::int32_t> labels(rows);
  for (auto& l : labels) l = static_cast<std::int32_t>(rng.uniform_below(out));
  const double loss = cross_entropy_forward<float>(z, labels, rows, out, 0.1).loss;
  std::vector<float> dlogits(rows * out);
  cross_entropy_backward<float>(z, labels, rows, out, 0.1, dlogits);

  const double norm = clip_grad_norm(store, 0.5);
  AdamW<float> opt(store, AdamWConfig{});
  opt.step(store, 1e-3);

  std::vector<float> all;
  for (const auto* v : {&x, &y, &z, &zd, &dy, &dx, &pooled, &dlogits}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  all.insert(all.end(), store.grads().begin(), store.grads().end());
  all.insert(all.end(), store.values().begin(), store.values().end());
  all.push_back(static_cast<float>(loss));
  all.push_back(static_cast<float>(loss - static_cast<float>(loss)));
  all.push_back(static_cast<float>(norm));
  all.push_back(static_cast<float>(norm - static_cast<float>(norm)));
  return all;
}

}  // namespace

TEST_CASE("kernels give bitwise identical results on 1 and 2 threads", "[nn][determinism]") {
  std::vector<float> one, two;
  {
    ThreadCountGuard guard(1);
    one = run_all();
  }
  {
    ThreadCountGuard guard(2);
    two = run_all();
  }
  REQUIRE(one.size() == two.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < one.size(); ++i) differing += one[i] != two[i] ? 1 : 0;
  CHECK(differing == 0);
}

// Why: an independent implementation of the same model in PyTorch (scripts/torch_reference.py,
// autograd instead of hand-written backward passes) fixes logits, loss and every parameter
// gradient for a few tiny models and batches. This test loads the same weights and batch into
// the C++ model (double) and must reproduce them; it reads the stored golden files, so PyTorch
// is not needed to run it.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "core/Diffusion.hpp"
#include "core/Npy.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "nn/Model.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::rel_error;

namespace {

const std::string kGoldenDir = std::string(DIFFUSER_SOURCE_DIR) + "/tests/data/torch_golden";

ModelConfig config_from_json(const nlohmann::json& j) {
  ModelConfig c;
  c.kind = parse_model_kind(j.at("kind").get<std::string>());
  c.vocab = j.at("vocab").get<std::int64_t>();
  c.num_classes = j.at("num_classes").get<std::int64_t>();
  c.max_len = j.at("max_len").get<std::int64_t>();
  c.layers = j.at("layers").get<std::int64_t>();
  c.dim = j.at("dim").get<std::int64_t>();
  c.heads = j.at("heads").get<std::int64_t>();
  c.mlp_dim = j.at("mlp_dim").get<std::int64_t>();
  c.norm = parse_norm_placement(j.at("norm").get<std::string>());
  c.ln_eps = j.at("ln_eps").get<double>();
  c.pool = parse_pooling(j.at("pool").get<std::string>());
  c.head_hidden = j.at("head_hidden").get<std::int64_t>();
  c.variant = parse_attention_variant(j.at("variant").get<std::string>());
  c.pattern = graph::parse_pattern_spec(j.at("pattern").get<std::string>());
  c.diffusion = diffuser::Diffusion::from_coefficients(j.at("theta").get<std::vector<double>>());
  c.learn_theta = j.at("learn_theta").get<bool>();
  c.dropout = 0.0;
  c.attention_dropout = 0.0;
  return c;
}

template <typename T>
std::vector<T> load(const nlohmann::json& item, const std::string& key) {
  return read_npy(kGoldenDir + "/" + item.at("files").at(key).get<std::string>()).to_vector<T>();
}

}  // namespace

// Tolerance: both sides compute in double; they differ only in the order of floating-point
// operations (GEMM blocking, softmax and LayerNorm reductions, dense vs sparse A^k V), which
// perturbs results at ~1e-15 relative per operation and ~1e-13 after the model's depth.
// 1e-10 is far above that and far below any modelling difference (a wrong scale, mask or
// LayerNorm placement changes results at 1e-3 or more).
TEST_CASE("model: logits, loss and gradients match the PyTorch reference", "[nn][model][torch]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  std::ifstream in(kGoldenDir + "/manifest.json");
  REQUIRE(in.good());
  const nlohmann::json manifest = nlohmann::json::parse(in);
  REQUIRE(manifest.at("dtype") == "float64");
  const auto& cases = manifest.at("cases");
  REQUIRE(cases.size() >= 4);
  for (const auto& item : cases) {
    const std::string name = item.at("name").get<std::string>();
    INFO("golden case " << name);
    const ModelConfig config = config_from_json(item.at("config"));
    Model<double> model(config);
    auto& store = model.params();

    // The parameter layout (names, shapes, offsets) must be the one the script assumed.
    const auto& tensors = item.at("tensors");
    REQUIRE(tensors.size() == store.tensors().size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const TensorInfo& info = store.tensors()[i];
      INFO("tensor " << i << ": C++ " << info.name << ", golden " << tensors[i].at("name"));
      REQUIRE(info.name == tensors[i].at("name").get<std::string>());
      REQUIRE(info.shape == tensors[i].at("shape").get<std::vector<std::int64_t>>());
      REQUIRE(info.offset == tensors[i].at("offset").get<std::size_t>());
      REQUIRE(std::string(to_string(info.kind)) == tensors[i].at("kind").get<std::string>());
    }
    const std::vector<double> params = load<double>(item, "params");
    REQUIRE(params.size() == store.size());
    std::copy(params.begin(), params.end(), store.values().begin());

    Batch batch;
    batch.batch = item.at("batch").get<std::int64_t>();
    batch.len = item.at("len").get<std::int64_t>();
    batch.tokens = load<std::int32_t>(item, "tokens");
    batch.lengths = load<std::int32_t>(item, "lengths");
    batch.labels = load<std::int32_t>(item, "labels");
    if (config.kind == ModelKind::kDualEncoder) {
      batch.tokens2 = load<std::int32_t>(item, "tokens2");
      batch.lengths2 = load<std::int32_t>(item, "lengths2");
    }

    // The script's explicit mask is the pattern the model builds (causal for the LM).
    const std::vector<std::int32_t> mask = load<std::int32_t>(item, "mask");
    const auto L = static_cast<graph::Index>(batch.len);
    REQUIRE(mask.size() == static_cast<std::size_t>(L) * L);
    if (config.variant != AttentionVariant::kFull) {
      graph::PatternSpec spec = config.pattern;
      spec.causal = spec.causal || config.kind == ModelKind::kCausalLm;
      const graph::CsrGraph g = graph::build_pattern(L, spec);
      std::int64_t edges = 0;
      for (graph::Index i = 0; i < L; ++i) {
        for (graph::Index j = 0; j < L; ++j) {
          CHECK((mask[i * L + j] != 0) == g.has_edge(i, j));
          edges += mask[i * L + j] != 0;
        }
      }
      CHECK(edges == g.nnz());
      CHECK(edges < static_cast<std::int64_t>(L) * L);  // a real sparse pattern
    }

    store.zero_grads();
    const double smoothing = item.at("label_smoothing").get<double>();
    const StepResult r = model.forward(batch, false, 0, 0, smoothing);
    model.backward();

    const std::vector<double> logits = load<double>(item, "logits");
    const std::vector<double> grads = load<double>(item, "grads");
    const double loss = item.at("loss").get<double>();
    CHECK(r.count == item.at("count").get<std::int64_t>());
    CHECK(r.correct == item.at("correct").get<std::int64_t>());
    CHECK(std::abs(r.loss - loss) <= 1e-10 * std::abs(loss));
    CHECK(rel_error(model.logits(), std::span<const double>(logits)) <= 1e-10);
    for (const auto& t : tensors) {
      const auto offset = t.at("offset").get<std::size_t>(), size = t.at("size").get<std::size_t>();
      const std::span<const double> mine =
          std::span<const double>(store.grads()).subspan(offset, size);
      const std::span<const double> ref = std::span<const double>(grads).subspan(offset, size);
      const std::string tname = t.at("name").get<std::string>();
      if (tname.ends_with(".attn.k.bias")) {
        // Mathematically 0 (softmax ignores the per-row shift <q_i, b> / sqrt(D)); both sides
        // hold rounding noise of ~1e-17.
        for (std::size_t i = 0; i < size; ++i) {
          CHECK(std::abs(mine[i]) < 1e-12);
          CHECK(std::abs(ref[i]) < 1e-12);
        }
        continue;
      }
      const double err = rel_error(mine, ref);
      INFO("gradient of " << tname << ": relative error " << err);
      CHECK(err <= 1e-10);
    }
  }
}

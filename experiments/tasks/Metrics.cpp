// Why: exact means over examples from per-batch results (see Metrics.hpp).
#include "experiments/tasks/Metrics.hpp"

#include <cmath>
#include <numbers>

namespace diffuser::experiments {

void MetricSums::add(const nn::StepResult& r) {
  loss_sum += r.loss * static_cast<double>(r.count);
  correct += r.correct;
  count += r.count;
}

double MetricSums::loss() const { return count > 0 ? loss_sum / static_cast<double>(count) : 0.0; }

double MetricSums::accuracy() const {
  return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
}

double MetricSums::bits_per_byte() const { return loss() / std::numbers::ln2; }

nlohmann::json MetricSums::to_json(bool language_model) const {
  nlohmann::json j = {{"loss", loss()}, {"accuracy", accuracy()}, {"count", count}};
  if (language_model) j["bits_per_byte"] = bits_per_byte();
  return j;
}

}  // namespace diffuser::experiments

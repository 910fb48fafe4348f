// Why: a hop suggestion as JSON (see HopSuggestionJson.hpp).
#include "analysis/HopSuggestionJson.hpp"

#include <utility>

#include "core/JsonNumber.hpp"

namespace diffuser::analysis {

nlohmann::ordered_json suggestion_json(const HopSuggestion& h, double alpha) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["hops"] = h.hops;
  j["diffusion"] = Diffusion::ppr(alpha, h.hops).compact();
  j["rule"] = to_string(h.rule);
  j["target_reached"] = h.target_reached ? Json(*h.target_reached) : Json(nullptr);
  j["epsilon"] = json_number(h.epsilon);
  j["epsilon_plain"] = json_number(h.epsilon_plain);
  j["epsilon_limit"] = json_number(h.epsilon_limit);
  j["converged_threshold"] = json_number(h.converged_threshold);
  j["reasoning"] = h.reasoning;
  Json curve = Json::array();
  for (const HopEpsilon& p : h.curve) {
    curve.push_back({{"hops", p.diffusion.hops()}, {"epsilon", json_number(p.epsilon)}});
  }
  j["curve"] = std::move(curve);
  return j;
}

}  // namespace diffuser::analysis

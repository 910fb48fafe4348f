// Why: the spectral summary as JSON (see SpectrumJson.hpp).
#include "spectral/SpectrumJson.hpp"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/JsonNumber.hpp"

namespace diffuser::spectral {

using Json = nlohmann::ordered_json;

Json spectrum_json(const GraphSpectrum& s, const ExpanderMetrics& e) {
  Json j;
  j["n"] = s.n;
  j["nnz"] = s.nnz;
  j["nnz_symmetric"] = s.nnz_symmetric;
  j["pattern_symmetric"] = s.pattern_symmetric;
  j["isolated_nodes"] = s.isolated_nodes;
  j["components"] = s.components;
  j["bipartite"] = s.bipartite;
  j["lambda2"] = json_number(s.lambda2());
  j["lambda_max"] = json_number(s.lambda_max());
  j["gap"] = json_number(e.lambda2);
  j["mu2"] = json_number(s.mu2.value);
  j["mu_min"] = json_number(s.mu_min.value);
  j["mu_star"] = json_number(e.mu_star);
  j["mu2_walk"] = json_number(s.mu2_walk.modulus());
  j["mu2_walk_complex"] = {json_number(s.mu2_walk.value), json_number(s.mu2_walk.imag)};
  j["epsilon_complete"] = json_number(e.epsilon_complete);
  j["cheeger_lower"] = json_number(e.cheeger_lower);
  j["cheeger_upper"] = json_number(e.cheeger_upper);
  j["sweep_conductance"] = e.sweep ? json_number(e.sweep->conductance) : Json(nullptr);
  j["sweep_set_size"] = e.sweep ? Json(e.sweep->set.size()) : Json(nullptr);
  j["sweep_cut_edges"] = e.sweep ? Json(e.sweep->cut) : Json(nullptr);
  j["regular_degree"] = e.regular ? Json(e.regular_degree) : Json(nullptr);
  j["ramanujan_ratio"] = e.ramanujan_ratio ? json_number(*e.ramanujan_ratio) : Json(nullptr);
  j["mixing_tolerance"] = e.mixing_tolerance;
  j["mixing_hops"] = e.mixing_hops ? Json(*e.mixing_hops) : Json(nullptr);
  const std::vector<std::pair<std::string, const EigenResult*>> results{
      {"lambda2", &s.mu2}, {"lambda_max", &s.mu_min}, {"mu2_walk", &s.mu2_walk}};
  Json res, meth, conv, mv, notes = Json::object();
  for (const auto& [key, r] : results) {
    res[key] = json_number(r->residual);
    meth[key] = to_string(r->method);
    conv[key] = r->converged;
    mv[key] = r->matvecs;
    if (!r->note.empty()) notes[key] = r->note;
  }
  j["residuals"] = res;
  j["method"] = meth;
  j["converged"] = conv;
  j["matvecs"] = mv;
  j["notes"] = notes;
  return j;
}

Json diffused_json(const DiffusedSpectrum& d) {
  Json j;
  j["spec"] = d.diffusion.compact();
  j["coefficients"] = d.diffusion.is_polynomial() ? Json(d.diffusion.theta()) : Json(nullptr);
  j["f_mu2"] = json_number(d.f_mu2);
  j["f_mu_min"] = json_number(d.f_mu_min);
  j["second_largest"] = json_number(d.second_largest);
  j["gap"] = json_number(d.gap);
  j["mu_star"] = json_number(d.mu_star);
  j["mu2_walk"] = json_number(std::abs(d.f_mu2_walk));
  j["exact"] = d.exact;
  return j;
}

}  // namespace diffuser::spectral

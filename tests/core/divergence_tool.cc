// Reads {"alpha": a, "base": "e"|"2", "cases": [{"window": [...], "reference": [...]}, ...]} on
// stdin and prints driftd's divergences for each case as a JSON array, one object per case.
// Used by check_divergences.py to compare against numpy/scipy.
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/divergence.h"
#include "core/significance.h"

int main() {
  nlohmann::json in = nlohmann::json::parse(std::cin);
  driftd::DivergenceOptions options;
  options.smoothing = in.at("alpha").get<double>();
  options.base = in.at("base") == "2" ? driftd::LogBase::kTwo : driftd::LogBase::kE;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : in.at("cases")) {
    const auto window = c.at("window").get<std::vector<uint64_t>>();
    const auto reference = c.at("reference").get<std::vector<uint64_t>>();
    driftd::PreparedReference ref(reference, options);
    const driftd::Divergences d = ref.Compare(window);
    const driftd::Significance g = driftd::GTest(window, ref.probabilities(), reference);
    out.push_back({{"has_data", d.has_data},
                   {"samples", d.samples},
                   {"kl", d.kl_window_to_reference},
                   {"kl_reverse", d.kl_reference_to_window},
                   {"entropy", d.entropy},
                   {"cross_entropy", d.cross_entropy},
                   {"reference_entropy", d.reference_entropy},
                   {"reference_cross_entropy", d.reference_cross_entropy},
                   {"psi", d.psi},
                   {"js", d.js},
                   {"hellinger", d.hellinger},
                   {"tvd", d.tvd},
                   {"linf", d.linf},
                   {"g", g.g},
                   {"dof", g.dof},
                   {"p_value", g.p_value},
                   {"kl_noise_floor", g.kl_noise_floor}});
  }
  std::cout << out.dump() << "\n";
  return 0;
}

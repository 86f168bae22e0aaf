#pragma once
/// @file
/// Per-run diagnostics of a Langevin run, as 0-dimensional tensors on the chains' device so that
/// computing them never synchronises a GPU; `to_map()` reads them (and synchronises) for logging.
/// These are the quantities that tell a converging EBM from a diverging one: the energy of the
/// chains before and after, the mean gradient norm r_t along the chain, and the sample range.
#include <cmath>
#include <map>
#include <string>

#include <ATen/ATen.h>

namespace cebm {

struct langevin_diagnostics {
  at::Tensor energy_start;     ///< mean E over chains before the first step
  /// mean E over chains at the last point the run evaluated: the start of the last step for SGLD
  /// (x_{K−1}; the energy of the final chains would cost one more forward), the final chains for
  /// MALA, x₀ when K = 0
  at::Tensor energy_end;
  at::Tensor grad_norm;        ///< mean over steps and chains of ‖∇ₓE‖₂ (per chain, flattened)
  at::Tensor sample_min;       ///< smallest element of the final chains
  at::Tensor sample_max;       ///< largest element of the final chains
  at::Tensor acceptance_rate;  ///< MALA: mean acceptance over steps and chains; undefined otherwise
  at::Tensor nonfinite_chains; ///< chains frozen for a non-finite energy or gradient (skip mode)
  at::Tensor reinit_fraction;  ///< fraction of chains started afresh (runs from a replay buffer)

  std::map<std::string, double> to_map() const {
    std::map<std::string, double> m;
    auto put = [&](const char* key, const at::Tensor& t) {
      if (t.defined()) m[key] = t.item<double>();
    };
    put("energy_start", energy_start);
    put("energy_end", energy_end);
    put("grad_norm", grad_norm);
    put("sample_min", sample_min);
    put("sample_max", sample_max);
    put("acceptance_rate", acceptance_rate);
    put("nonfinite_chains", nonfinite_chains);
    put("reinit_fraction", reinit_fraction);
    return m;
  }
};

}  // namespace cebm

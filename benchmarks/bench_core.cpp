// Cost of the exponential-family core at the published CEBM sizes (batch 128, 128 latent
// coordinates): the conjugate marginal energy on Eigen and on torch (forward, and forward +
// backward to the encoder statistics, which is what every SGLD step pays on top of the encoder),
// the GMM-CEBM energy with 10 components, and the vMF log-normaliser in d = 128.
//   build/benchmarks/cebm_bench_core --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "cebm/torch.hpp"

namespace {

constexpr int batch = 128, latent = 128;

void marginal_energy_eigen(benchmark::State& state) {
  using A = Eigen::ArrayXXd;
  const auto bias = cebm::make_pack(A(A::Zero(1, latent)), A(A::Constant(1, latent, -0.5)));
  const auto t = cebm::gaussian_statistics(A(A::Random(batch, latent)), A(A::Random(batch, latent)));
  for (auto _ : state) benchmark::DoNotOptimize(cebm::marginal_energy<cebm::gaussian>(bias, t).data());
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(marginal_energy_eigen);

void marginal_energy_torch(benchmark::State& state) {
  const bool backward = state.range(0) != 0;
  const auto bias = cebm::make_pack(torch::zeros({latent}), torch::full({latent}, -0.5));
  auto t1 = torch::randn({batch, latent}).requires_grad_(backward);
  auto r = torch::randn({batch, latent}).requires_grad_(backward);
  for (auto _ : state) {
    const auto e = cebm::marginal_energy<cebm::gaussian>(bias, cebm::gaussian_statistics(t1, r));
    if (backward) benchmark::DoNotOptimize(torch::autograd::grad({e.sum()}, {t1, r}));
    else benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(backward ? "forward+backward" : "forward");
}
BENCHMARK(marginal_energy_torch)->Arg(0)->Arg(1);

void gmm_energy_torch(benchmark::State& state) {
  const auto comps = cebm::gaussian::natural_from_location_scale(torch::randn({10, latent}), torch::zeros({10, latent}));
  const auto mix = cebm::mixture<cebm::gaussian, torch::Tensor>::uniform(comps);
  const auto t = cebm::gaussian_statistics(torch::randn({batch, latent}), torch::randn({batch, latent}));
  for (auto _ : state) benchmark::DoNotOptimize(cebm::marginal_energy(mix, t));
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(gmm_energy_torch);

void vmf_log_normalizer_torch(benchmark::State& state) {
  const auto theta = cebm::make_pack(torch::randn({batch, latent}) * 10);
  for (auto _ : state) benchmark::DoNotOptimize(cebm::von_mises_fisher::log_normalizer(theta));
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(vmf_log_normalizer_torch);

}  // namespace

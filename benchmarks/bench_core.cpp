// Cost of what a CEBM training run pays around its encoder, across batch sizes 16, 128, 1024 and
// latent sizes 16, 128, 512 (the published CEBM: batch 128, 128 latents):
//   marginal_energy/eigen_generic       E(x) = Σ_k B(λ_k) − B(λ_k + t_k(x)), the Gaussian CEBM's
//                                       energy through `marginal_energy<gaussian>` on Eigen doubles
//   marginal_energy/eigen_hand_loop     the same formula as a plain loop over the same doubles (the
//                                       program aborts unless both agree before timing)
//   marginal_energy/torch_forward       float32 tensors, one intra-op thread
//   marginal_energy/torch_backward      forward + backward to the encoder outputs (t₁, r), which
//                                       every SGLD step pays on top of the encoder
//   gmm_marginal_energy/torch_forward   GMM-CEBM's energy, 10 components in location–scale form
//   gmm_marginal_energy/torch_backward  … + backward to (t₁, r) and the components' means and log-stds
//   checkpoint/write, checkpoint/read   the Fashion-MNIST CEBM (Table 5(a)) with its Adam state
//                                       through cebm::train::write_checkpoint / read_checkpoint, to
//                                       a file in the temp directory (so mostly the page cache);
//                                       bytes_per_second is the checkpoint's size over the time
// The per-family operations (B, ∇B, Bregman, posterior update) are in bench_families.cpp.
//   build/benchmarks/cebm_bench_core --benchmark_filter='marginal_energy/' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>
#include <unistd.h>

#include "cebm/torch.hpp"
#include "support.hpp"
#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/io/checkpoint.hpp"

namespace {

using A = Eigen::ArrayXXd;

constexpr std::int64_t components = 10;
using cebm_bench::batch_sizes;
using cebm_bench::latent_sizes;
using cebm_bench::seed;
using cebm_bench::uniform;

// --- conjugate marginal energy on Eigen: generic template and hand loop --------------------------


double gaussian_b(double l1, double l2) { return -l1 * l1 / (4.0 * l2) - 0.5 * std::log(-2.0 * l2); }

/// A bias row λ and a batch of encoder statistics t(x) = (t₁, −r²), drawn from the fixed seed.
struct eigen_energy_inputs {
  std::int64_t rows, cols;
  cebm::param_pack<A, 2> bias, t;
  explicit eigen_energy_inputs(const benchmark::State& state) : rows(state.range(0)), cols(state.range(1)) {
    std::mt19937_64 gen(seed);
    bias = cebm::make_pack(uniform(1, cols, -1.0, 1.0, gen), uniform(1, cols, -1.0, -0.1, gen));
    t = cebm::gaussian_statistics(uniform(rows, cols, -2.0, 2.0, gen), uniform(rows, cols, -1.0, 1.0, gen));
  }

  A generic() const { return cebm::marginal_energy<cebm::gaussian>(bias, t); }
  void hand_loop(double* out) const {
    const double *l1 = bias[0].data(), *l2 = bias[1].data(), *t1 = t[0].data(), *t2 = t[1].data();
    double prior = 0.0;
    for (std::int64_t k = 0; k < cols; ++k) prior += gaussian_b(l1[k], l2[k]);
    for (std::int64_t i = 0; i < rows; ++i) out[i] = prior;
    for (std::int64_t k = 0; k < cols; ++k)
      for (std::int64_t i = 0; i < rows; ++i) out[i] -= gaussian_b(l1[k] + t1[k * rows + i], l2[k] + t2[k * rows + i]);
  }

  /// Aborts unless both compute the same energies: a pair that disagreed would time different work.
  void require_agreement() const {
    const A generic_energy = generic();
    std::vector<double> hand(static_cast<std::size_t>(rows));
    hand_loop(hand.data());
    for (std::int64_t i = 0; i < rows; ++i)
      if (generic_energy.rows() != rows || !(std::abs(generic_energy(i, 0) - hand[i]) <= 1e-8 * (1.0 + std::abs(hand[i])))) {
        std::fprintf(stderr, "marginal_energy [%lld, %lld]: generic and hand loop disagree at row %lld\n",
                     static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(i));
        std::abort();
      }
  }
};

void count_rows(benchmark::State& state) { state.SetItemsProcessed(state.iterations() * state.range(0)); }

void marginal_energy_eigen_generic(benchmark::State& state) {
  const eigen_energy_inputs in(state);
  in.require_agreement();
  for (auto _ : state) {
    A energy = in.generic();
    benchmark::DoNotOptimize(energy);
  }
  count_rows(state);
}

void marginal_energy_eigen_hand_loop(benchmark::State& state) {
  const eigen_energy_inputs in(state);
  in.require_agreement();
  std::vector<double> energy(static_cast<std::size_t>(in.rows));
  for (auto _ : state) {
    in.hand_loop(energy.data());
    benchmark::DoNotOptimize(energy.data());
    benchmark::ClobberMemory();
  }
  count_rows(state);
}

// --- conjugate and mixture marginal energies on torch -------------------------------------------

/// Encoder outputs (t₁, r) for `state`'s batch and latent sizes, tracking gradients when `backward`.
struct torch_encoder_outputs {
  torch::Tensor t1, r;
  torch_encoder_outputs(const benchmark::State& state, bool backward) {
    torch::manual_seed(seed);
    t1 = torch::randn({state.range(0), state.range(1)}).requires_grad_(backward);
    r = torch::randn({state.range(0), state.range(1)}).requires_grad_(backward);
  }
};

template <bool backward>
void marginal_energy_torch(benchmark::State& state) {
  torch::set_num_threads(1);
  const torch_encoder_outputs x(state, backward);
  const auto bias = cebm::make_pack(torch::zeros({state.range(1)}), torch::full({state.range(1)}, -0.5));
  for (auto _ : state) {
    const auto energy = cebm::marginal_energy<cebm::gaussian>(bias, cebm::gaussian_statistics(x.t1, x.r));
    if constexpr (backward) benchmark::DoNotOptimize(torch::autograd::grad({energy.sum()}, {x.t1, x.r}));
    else benchmark::DoNotOptimize(energy);
  }
  count_rows(state);
}

template <bool backward>
void gmm_marginal_energy_torch(benchmark::State& state) {
  torch::set_num_threads(1);
  const torch_encoder_outputs x(state, backward);
  // GMM-CEBM's initialisation: μ ~ 0.31·N(0, 1), σ ~ U[1, 6).
  const auto mean = (0.31 * torch::randn({components, state.range(1)})).requires_grad_(backward);
  const auto log_std = (torch::rand({components, state.range(1)}) * 5 + 1).log().requires_grad_(backward);
  const auto log_weights = torch::zeros({components});
  for (auto _ : state) {
    // The mixture is rebuilt from the location–scale parameters on every call, as the GMM-CEBM's mixture_bias() does.
    const cebm::mixture<cebm::gaussian, torch::Tensor> mix(cebm::gaussian::natural_from_location_scale(mean, log_std),
                                                           log_weights);
    const auto energy = cebm::marginal_energy(mix, cebm::gaussian_statistics(x.t1, x.r));
    if constexpr (backward) benchmark::DoNotOptimize(torch::autograd::grad({energy.sum()}, {x.t1, x.r, mean, log_std}));
    else benchmark::DoNotOptimize(energy);
  }
  count_rows(state);
}

// --- checkpoints --------------------------------------------------------------------------------

/// The Fashion-MNIST CEBM (28×28×1 encoder, Table 5(a)) and its Adam optimizer after one step, so
/// that the optimizer holds its running moments as in a run.
struct trained_cebm {
  cebm::models::Cebm model{cebm::models::conjugate_ebm_options{}.encoder(cebm::nn::conv_encoder_options::mnist())};
  torch::optim::Adam adam{model->parameters(), torch::optim::AdamOptions(1e-4)};
  trained_cebm() {
    adam.zero_grad();
    model->energy(torch::randn({16, 1, 28, 28})).sum().backward();
    adam.step();
  }
  /// As ebm_trainer::save_state writes them: `model` and `optimizer` archives.
  void write(const std::string& path) {
    torch::serialize::OutputArchive archive, m, opt;
    model->save(m);
    adam.save(opt);
    archive.write("model", m);
    archive.write("optimizer", opt);
    cebm::train::write_checkpoint(archive, path);
  }
  void read(const std::string& path) {
    torch::serialize::InputArchive archive = cebm::train::read_checkpoint(path), m, opt;
    archive.read("model", m);
    archive.read("optimizer", opt);
    model->load(m);
    adam.load(opt);
  }
};

std::string checkpoint_path() {
  return (std::filesystem::temp_directory_path() / ("cebm_bench_checkpoint_" + std::to_string(::getpid()) + ".pt")).string();
}

void count_bytes(benchmark::State& state, const std::string& path) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(std::filesystem::file_size(path)));
  state.counters["checkpoint_bytes"] = static_cast<double>(std::filesystem::file_size(path));
}

void checkpoint_write(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::manual_seed(seed);
  trained_cebm run;
  const std::string path = checkpoint_path();
  for (auto _ : state) run.write(path);
  count_bytes(state, path);
  std::filesystem::remove(path);
}

void checkpoint_read(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::manual_seed(seed);
  trained_cebm run;
  const std::string path = checkpoint_path();
  run.write(path);
  for (auto _ : state) run.read(path);
  count_bytes(state, path);
  std::filesystem::remove(path);
}

// --- registration -------------------------------------------------------------------------------

void sizes(benchmark::internal::Benchmark* b) { b->ArgsProduct({batch_sizes, latent_sizes})->ArgNames({"batch", "latent"}); }

[[maybe_unused]] const bool registered = [] {
  benchmark::AddCustomContext("seed", std::to_string(seed));
  // The Eigen pair size by size, so that each generic line sits above its hand loop.
  for (const std::int64_t b : batch_sizes)
    for (const std::int64_t k : latent_sizes) {
      benchmark::RegisterBenchmark("marginal_energy/eigen_generic", marginal_energy_eigen_generic)->Args({b, k})->ArgNames({"batch", "latent"});
      benchmark::RegisterBenchmark("marginal_energy/eigen_hand_loop", marginal_energy_eigen_hand_loop)->Args({b, k})->ArgNames({"batch", "latent"});
    }
  benchmark::RegisterBenchmark("marginal_energy/torch_forward", marginal_energy_torch<false>)->Apply(sizes);
  benchmark::RegisterBenchmark("marginal_energy/torch_backward", marginal_energy_torch<true>)->Apply(sizes);
  benchmark::RegisterBenchmark("gmm_marginal_energy/torch_forward", gmm_marginal_energy_torch<false>)->Apply(sizes);
  benchmark::RegisterBenchmark("gmm_marginal_energy/torch_backward", gmm_marginal_energy_torch<true>)->Apply(sizes);
  benchmark::RegisterBenchmark("checkpoint/write", checkpoint_write)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("checkpoint/read", checkpoint_read)->Unit(benchmark::kMillisecond)->UseRealTime();
  return true;
}();

}  // namespace

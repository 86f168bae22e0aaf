// The CEBM sampler with the paper's Fashion-MNIST encoder (Table 5(a), published heads) at batch
// 128: one SGLD step (forward, gradient with respect to the images, update; the published step 1.0
// and noise 0.0075) and one 60-step chain, as in a training iteration. Chains come from a CEBM
// replay buffer. `time_per_step` is the run's time divided by its steps (the run adds one forward
// for the final energy). Arguments: batch, threads, steps.
//   build/benchmarks/cebm_bench_sampling --benchmark_min_time=2
// The same step in plain PyTorch: ../shared/bench/cebm_step.py (reports ms_per_sgld_step).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "cebm/torch.hpp"
#include "support.hpp"

namespace {

void sgld_fashion_mnist(benchmark::State& state) {
  const std::int64_t batch = state.range(0), threads = state.range(1), steps = state.range(2);
  cebm_bench::program_allocator_settings();
  torch::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(0);
  cebm::nn::ConvEncoder encoder(cebm::nn::conv_encoder_options::mnist());
  const auto bias = cebm::make_pack(torch::zeros({128}), torch::full({128}, -0.5));
  auto energy = [&](const torch::Tensor& x) {
    const auto heads = encoder->forward(x);
    return cebm::marginal_energy<cebm::gaussian>(bias, cebm::gaussian_statistics(heads[0], heads[1]));
  };
  auto gen = at::detail::createCPUGenerator(1);
  cebm::replay_buffer buffer(cebm::replay_buffer_options::cebm(), {1, 28, 28}, torch::kFloat32, gen);
  const auto options = cebm::langevin_options::cebm().steps(steps);
  cebm::persistent_langevin(buffer, energy, batch, options, gen);  // warm-up: oneDNN primitives, allocator
  for (auto _ : state) benchmark::DoNotOptimize(cebm::persistent_langevin(buffer, energy, batch, options, gen).samples);
  state.counters["time_per_step"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(batch * steps), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(sgld_fashion_mnist)
    ->ArgNames({"batch", "threads", "steps"})
    ->Args({128, 1, 1})
    ->Args({128, 2, 1})
    ->Args({128, 1, 60})
    ->Args({128, 2, 60})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

// Cost of the baselines' decoders and of one VAE training iteration (Fashion-MNIST geometry):
//   vae_decoder/libtorch     Table 7(a)'s decoder, forward and backward to z, its transposed
//                            convolutions through at::conv_transpose2d (libtorch's CPU path)
//   vae_decoder/cebm         the same decoder as cebm::nn::ConvDecoder computes it (conv_transpose.hpp:
//                            the transposed convolutions as oneDNN convolutions); the program aborts
//                            unless both agree before timing
//   vae_iteration            one vae_trainer step at the paper's batch 100 (ELBO, backward, Adam)
//   vae_ood_score            the VAE's OOD energy −log p̂(x) (S = 100 importance draws) and its input
//                            gradient for 100 images, as `evaluate` computes them
// Args: rows (decoded latents) or batch, then threads.
//   build/benchmarks/cebm_bench_baselines --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cebm/torch.hpp"
#include "cebm/torch/models/vae.hpp"
#include "cebm/torch/nn/conv_decoder.hpp"
#include "cebm/torch/train/vae_trainer.hpp"
#include "support.hpp"

namespace {

/// The decoder's forward with libtorch's transposed convolution and the same parameters.
at::Tensor libtorch_forward(cebm::nn::ConvDecoder& d, const at::Tensor& z) {
  const auto& o = d->options();
  at::Tensor h = d->named_children()["fc"]->as<torch::nn::Sequential>()->forward(z).view(
      {z.size(0), o.start()[0], o.start()[1], o.start()[2]});
  for (std::size_t i = 0; i < o.layers().size(); ++i) {
    auto* up = d->named_children()["up" + std::to_string(i)]->as<torch::nn::ConvTranspose2d>();
    h = at::conv_transpose2d(h, up->weight, up->bias, o.layers()[i].stride, o.layers()[i].padding);
    if (i + 1 < o.layers().size()) h = at::relu(h);
  }
  return h;
}

void vae_decoder(benchmark::State& state, bool ours) {
  at::set_num_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  cebm::nn::ConvDecoder d(cebm::nn::conv_decoder_options::vae_mnist());
  const at::Tensor z = at::randn({state.range(0), 128}).requires_grad_(true);
  {
    const at::Tensor a = d->forward(z), b = libtorch_forward(d, z);
    if (!at::allclose(a, b, 1e-4, 1e-4)) {
      std::fprintf(stderr, "vae_decoder: cebm and libtorch transposed convolutions disagree\n");
      std::abort();
    }
  }
  for (auto _ : state) {
    const at::Tensor y = ours ? d->forward(z) : libtorch_forward(d, z);
    benchmark::DoNotOptimize(torch::autograd::grad({y.sum()}, {z})[0]);
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(vae_decoder, libtorch, false)->ArgNames({"rows", "threads"})->Args({512, 1})->Args({512, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(vae_decoder, cebm, true)->ArgNames({"rows", "threads"})->Args({512, 1})->Args({512, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void vae_iteration(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  const auto n = 2 * state.range(0);
  cebm::data::image_dataset data{(at::rand({n, 1, 28, 28}) * 255).to(at::kByte), at::arange(n) % 10, "noise"};
  const auto dir = std::filesystem::temp_directory_path() / "cebm_bench_vae";  // step() writes nothing there
  cebm::train::vae_trainer<cebm::models::Vae> trainer(
      cebm::models::Vae(), data,
      cebm::train::vae_trainer_options::preset("paper", "vae").out_dir(dir.string()).batch_size(state.range(0)).probe_reference(10)
          .probe_query(10),
      0);
  trainer.step();
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step());
}
BENCHMARK(vae_iteration)->ArgNames({"batch", "threads"})->Args({100, 1})->Args({100, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

void vae_ood_score(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  cebm::models::Vae vae(cebm::models::vae_options::mnist().importance(cebm::variational::importance_options{}.samples(100)));
  vae->eval();
  const at::Tensor x = at::rand({state.range(0), 1, 28, 28}).requires_grad_(true);
  for (auto _ : state) benchmark::DoNotOptimize(torch::autograd::grad({vae->energy(x).sum()}, {x})[0]);
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(vae_ood_score)->ArgNames({"images", "threads"})->Args({100, 1})->Args({100, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// One training iteration of the bundled trainers, the unit the PyTorch reference scripts in
// ../shared/bench time (`ms_per_iter`):
//   cebm_iteration   ebm_trainer<Cebm>, paper preset on Fashion-MNIST (Table 5(a) encoder, split
//                    heads, 5000-chain buffer, 60 SGLD steps of step 1 / noise 0.0075), batch 128
//                    as cebm_step.py; counters: the iteration's ms per SGLD step (update included),
//                    GFLOP per iteration and GFLOP/s
//                    (forward + input gradient per SGLD step, forward + backward of the update, the
//                    same convention as cebm_step.py's `gflop_per_iter_x2`), peak RSS
//   clel_iteration   clel_trainer, paper preset with the small f, batch 64, 60 SGLD steps, on
//                    synthetic 3x32x32 images as clel_step.py; GFLOP per iteration as
//                    clel_step.py's `gflop_per_iter_x2` (f, g and h counted by `forward_macs`)
//   cebm_phases,     the same iteration in its phases, each timed on its own: SGLD forward, input
//   clel_phases      gradient and the rest of an SGLD step (×60), the update's forward, its backward,
//                    the optimiser step (CLEL also: the chains' augmentation), then one real
//                    iteration of the trainer (`iteration_ms`); ms per iteration for each
// `rss_mb` is the resident memory after the timed iteration: with many repetitions it shows whether
// memory grows over a run, e.g. 1000 iterations with 5 SGLD steps each:
//   CEBM_BENCH_SGLD_STEPS=5 build/benchmarks/cebm_bench_training --benchmark_filter=cebm_iteration/threads:1/ \
//     --benchmark_repetitions=1000 --benchmark_format=json
// Each benchmark keeps one trainer per thread count across repetitions (its first two iterations
// are the warm-up: oneDNN primitives, allocator), so every repetition times one iteration:
//   build/benchmarks/cebm_bench_training --benchmark_filter=cebm_iteration/1 --benchmark_repetitions=5
// `benchmarks/compare_pytorch.py` runs these beside the Python scripts and prints the ratios.
// Environment: CEBM_FASHION_MNIST (dataset directory, default Debian's), CEBM_BENCH_SGLD_STEPS
// (default 60), CEBM_BENCH_BATCH (default 128 for CEBM, 64 for CLEL), CEBM_BENCH_PRECISION (fp32,
// tf32, bf16 or fp16: the trainers' precision policy, default fp32).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>
#include <unistd.h>

#include "cebm/torch.hpp"
#include "cebm/torch/data/idx.hpp"
#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/train/clel_trainer.hpp"
#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/losses/clel_ebm_loss.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
#include "cebm/torch/losses/nt_xent.hpp"
#include "cebm/torch/train/ebm_trainer.hpp"
#include "cebm/sampling/generator.hpp"
#include "support.hpp"

namespace {

// A positive integer from the environment, or `fallback` when unset.
std::int64_t env_or(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n <= 0) {
    std::fprintf(stderr, "error: %s=%s: expected a positive integer\n", name, v);
    std::exit(2);
  }
  return n;
}

// The device of the iterations: $CEBM_BENCH_DEVICE (cpu, cuda, cuda:N), default cpu.
at::Device bench_device() {
  const char* v = std::getenv("CEBM_BENCH_DEVICE");
  try {
    return at::Device(v && *v ? v : "cpu");
  } catch (const std::exception&) {
    std::fprintf(stderr, "error: CEBM_BENCH_DEVICE=%s: expected cpu, cuda or cuda:N\n", v);
    std::exit(2);
  }
}

// The trainers' precision: $CEBM_BENCH_PRECISION (fp32, tf32, bf16, fp16), default fp32.
cebm::precision_mode bench_precision() {
  const char* v = std::getenv("CEBM_BENCH_PRECISION");
  try {
    return cebm::precision_mode_from_string(v && *v ? v : "fp32");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: CEBM_BENCH_PRECISION: %s\n", e.what());
    std::exit(2);
  }
}

// Waits for the device's queued work, so a timer around an iteration measures all of it.
void synchronize(at::Device d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

// A trainer kept across repetitions, and its run directory, removed at exit.
template <class Trainer>
struct kept_trainer {
  std::string dir;
  std::unique_ptr<Trainer> trainer;
  explicit kept_trainer(const std::string& name)
      : dir((std::filesystem::temp_directory_path() / ("cebm_bench_" + name + "_" + std::to_string(::getpid()))).string()) {}
  ~kept_trainer() {
    trainer.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// Runs one training iteration per benchmark iteration; returns the seconds they took.
template <class Trainer>
double timed_steps(benchmark::State& state, Trainer& trainer) {
  double seconds = 0;
  const at::Device device = bench_device();
  for (auto _ : state) {
    synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    std::string why;
    if (!trainer.step(&why)) state.SkipWithError(("the iteration diverged: " + why).c_str());
    synchronize(device);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return seconds;
}

using cebm_trainer = cebm::train::ebm_trainer<cebm::models::Cebm>;
using cebm::train::clel_trainer;

// The CEBM trainer of `threads` threads, created and warmed up (two iterations) on first use.
cebm_trainer& kept_cebm_trainer(int threads) {
  static std::map<int, kept_trainer<cebm_trainer>> kept;
  auto& k = kept.try_emplace(threads, "cebm").first->second;
  if (!k.trainer) {
    const char* dir = std::getenv("CEBM_FASHION_MNIST");
    auto data = cebm::data::load_fashion_mnist(dir && *dir ? dir : cebm::data::default_fashion_mnist_dir(), "train");
    const auto o = cebm::train::ebm_trainer_options::preset("paper", "cebm")
                       .batch_size(env_or("CEBM_BENCH_BATCH", 128))
                       .sgld(cebm::langevin_options::cebm().steps(env_or("CEBM_BENCH_SGLD_STEPS", 60)))
                       .precision(bench_precision())
                       .out_dir(k.dir);
    torch::manual_seed(0);
    k.trainer = std::make_unique<cebm_trainer>(cebm::models::Cebm(), std::move(data), o, 0, bench_device());
    for (int i = 0; i < 2; ++i) k.trainer->step();
  }
  return *k.trainer;
}

// The CLEL trainer of `threads` threads, created and warmed up (two iterations) on first use.
clel_trainer& kept_clel_trainer(int threads) {
  static std::map<int, kept_trainer<clel_trainer>> kept;
  auto& k = kept.try_emplace(threads, "clel").first->second;
  if (!k.trainer) {
    torch::manual_seed(0);
    cebm::data::image_dataset data{torch::randint(0, 256, {10000, 3, 32, 32}, torch::kLong).to(torch::kByte),
                                   torch::arange(10000, torch::kLong) % 10, "synthetic 3x32x32"};
    const auto o = cebm::train::clel_trainer_options::preset("paper")
                       .model(cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::small))
                       .batch_size(env_or("CEBM_BENCH_BATCH", 64))
                       .sgld(cebm::langevin_options::clel().steps(env_or("CEBM_BENCH_SGLD_STEPS", 60)))
                       .precision(bench_precision())
                       .out_dir(k.dir);
    k.trainer = std::make_unique<clel_trainer>(cebm::models::Clel(o.model()), std::move(data), o, 0, bench_device());
    for (int i = 0; i < 2; ++i) k.trainer->step();
  }
  return *k.trainer;
}

// FLOPs of a CLEL iteration as clel_step.py counts them (`gflop_per_iter_x2`): forward and input
// gradient of f per SGLD step; the update's forward and backward (×3) of f and g on x⁺ and x⁻, h
// on x⁺ without gradient, forward and backward of h on the 2n views.
double clel_iteration_flop(cebm::models::Clel& model, std::int64_t batch, std::int64_t steps) {
  const bool was_training = model->is_training();
  model->eval();
  c10::NoGradGuard no_grad;
  const auto& mo = model->options();
  const at::Tensor x = at::zeros({1, mo.in_channels(), mo.image_size(), mo.image_size()}, model->parameters().front().options());
  at::Tensor f;
  const double f_macs = cebm_bench::forward_macs([&] { f = model->features(x); });
  const double g_macs = cebm_bench::forward_macs([&] { model->ebm_g()->forward(f); });
  const double h_macs = cebm_bench::forward_macs([&] { model->representation(x); });
  model->train(was_training);
  const double b = static_cast<double>(batch), s = static_cast<double>(steps);
  return 2 * f_macs * b * s * 2 + 2 * ((f_macs + g_macs) * 2 * b * 3 + h_macs * b + h_macs * 2 * b * 3);
}

void report_iteration(benchmark::State& state, double seconds, std::int64_t steps, double flop) {
  state.counters["ms_per_sgld_step"] = 1000 * seconds / static_cast<double>(state.iterations() * steps);
  state.counters["gflop_per_iter"] = flop / 1e9;
  state.counters["gflops"] = benchmark::Counter(flop / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_rss_mb"] = cebm_bench::peak_rss_mb();
  state.counters["rss_mb"] = cebm_bench::current_rss_mb();
}

void cebm_iteration(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  cebm_trainer& trainer = kept_cebm_trainer(threads);
  const double seconds = timed_steps(state, trainer);
  const std::int64_t batch = trainer.options().batch_size(), steps = trainer.options().sgld().steps();
  const double macs = cebm_bench::encoder_forward_macs(cebm::nn::conv_encoder_options::mnist());
  report_iteration(state, seconds, steps, 2 * macs * batch * steps * 2 + 2 * macs * 2 * batch * 3);
}
BENCHMARK(cebm_iteration)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void clel_iteration(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  clel_trainer& trainer = kept_clel_trainer(threads);
  const double seconds = timed_steps(state, trainer);
  const std::int64_t batch = trainer.options().batch_size(), steps = trainer.options().sgld().steps();
  report_iteration(state, seconds, steps, clel_iteration_flop(trainer.model(), batch, steps));
}
BENCHMARK(clel_iteration)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The SGLD steps of an iteration on `energy`, each split into its forward, its input gradient and
// the rest (the update of the chains, the noise, the clamp), each charged by `lap(phase)`; the
// chains `x` are updated.
template <class Energy, class Lap>
void timed_sgld(Energy&& energy, at::Tensor& x, const cebm::langevin_options& o, Lap&& lap) {
  for (std::int64_t i = 0; i < o.steps(); ++i) {
    const at::Tensor xr = x.detach().requires_grad_(true);
    const at::Tensor e = energy(xr);
    lap("sgld_forward");
    at::Tensor g = torch::autograd::grad({e.sum()}, {xr})[0];
    lap("input_gradient");
    if (o.grad_clip()) g = g.clamp(-*o.grad_clip(), *o.grad_clip());
    x = xr.detach() - o.step_size() * g + o.noise_std() * at::randn_like(g);
    if (o.clamp()) x = x.clamp(o.clamp()->first, o.clamp()->second);
    lap("sgld_rest");
  }
}

// One real trainer iteration, timed as the phase `iteration`.
template <class Trainer>
void timed_iteration(benchmark::State& state, Trainer& trainer, cebm_bench::phase_clock& clock) {
  const at::Device device = bench_device();
  synchronize(device);
  clock.start();
  std::string why;
  if (!trainer.step(&why)) state.SkipWithError(("the iteration diverged: " + why).c_str());
  synchronize(device);
  clock.lap("iteration");
}

// Each phase's ms per iteration as a counter.
void report_phases(benchmark::State& state, const cebm_bench::phase_clock& clock) {
  for (const auto& [name, ms] : clock.ms()) state.counters[name + "_ms"] = ms / static_cast<double>(state.iterations());
}

void cebm_phases(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  cebm_trainer& trainer = kept_cebm_trainer(threads);
  cebm::models::Cebm model = trainer.model();
  const auto& o = trainer.options();
  const auto opts = model->parameters().front().options();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.0));  // lr 0: the model stays
  const at::Tensor x_pos = at::rand({o.batch_size(), 1, 28, 28}, opts) * 2 - 1;
  at::Tensor x = at::rand_like(x_pos) * 2 - 1;
  auto energy = [&](const at::Tensor& v) { return model->energy(v); };
  const at::Device device = bench_device();
  cebm_bench::phase_clock clock;
  auto lap = [&](const char* phase) { synchronize(device), clock.lap(phase); };
  for (auto _ : state) {
    synchronize(device);
    clock.start();
    timed_sgld(energy, x, o.sgld(), lap);
    const cebm::cd_loss cd = cebm::contrastive_divergence(model->energy(x_pos), model->energy(x.detach()), o.loss());
    lap("update_forward");
    adam.zero_grad();
    cd.loss.backward();
    lap("backward");
    adam.step();
    lap("optimizer");
    timed_iteration(state, trainer, clock);
  }
  report_phases(state, clock);
}
BENCHMARK(cebm_phases)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void clel_phases(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  clel_trainer& trainer = kept_clel_trainer(threads);
  cebm::models::Clel model = trainer.model();
  const auto& o = trainer.options();
  const auto& mo = model->options();
  const auto opts = model->parameters().front().options();
  const at::Device device = bench_device();
  at::Generator gen = cebm::make_generator(device, 0);
  const auto augment = cebm::data::augmentation_policy::strong(mo.image_size());
  torch::optim::Adam adam(model->ebm_parameters(), torch::optim::AdamOptions(0.0));  // lr 0: the model stays
  torch::optim::SGD sgd(model->encoder_parameters(), torch::optim::SGDOptions(0.0).momentum(o.encoder_momentum()));
  const at::Tensor x_pos = at::rand({o.batch_size(), mo.in_channels(), mo.image_size(), mo.image_size()}, opts);
  at::Tensor x = at::rand_like(x_pos);
  auto energy = [&](const at::Tensor& v) { return model->energy(v); };
  cebm_bench::phase_clock clock;
  auto lap = [&](const char* phase) { synchronize(device), clock.lap(phase); };
  for (auto _ : state) {
    model->train();
    synchronize(device);
    clock.start();
    x = augment(x, gen);
    lap("augment");
    timed_sgld(energy, x, o.sgld(), lap);
    const at::Tensor f_pos = model->features(x_pos), f_neg = model->features(x.detach());
    const at::Tensor g_pos = model->ebm_g()->forward(f_pos), g_neg = model->ebm_g()->forward(f_neg);
    at::Tensor y_pos;
    {
      c10::NoGradGuard no_grad;
      y_pos = model->representation(augment(x_pos, gen));
    }
    const auto ebm = cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, mo.beta(), o.loss());
    const at::Tensor views = model->representation(augment(at::cat({x_pos, x_pos}), gen));
    const at::Tensor total = ebm.loss + cebm::clel::nt_xent(views, g_neg.detach(), o.temperature());
    lap("update_forward");
    adam.zero_grad();
    sgd.zero_grad();
    total.backward();
    lap("backward");
    adam.step();
    sgd.step();
    lap("optimizer");
    timed_iteration(state, trainer, clock);
  }
  report_phases(state, clock);
}
BENCHMARK(clel_phases)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// One training iteration of the bundled trainers, the unit the PyTorch reference scripts in
// ../shared/bench time (`ms_per_iter`):
//   cebm_iteration   ebm_trainer<Cebm>, paper preset on Fashion-MNIST (Table 5(a) encoder, split
//                    heads, 5000-chain buffer, 60 SGLD steps of step 1 / noise 0.0075), batch 128
//                    as cebm_step.py; counters: the iteration's ms per SGLD step (update included),
//                    GFLOP per iteration and GFLOP/s
//                    (forward + input gradient per SGLD step, forward + backward of the update, the
//                    same convention as cebm_step.py's `gflop_per_iter_x2`), peak RSS
//   clel_iteration   clel_trainer, paper preset with the small f, batch 64, 60 SGLD steps, on
//                    synthetic 3x32x32 images as clel_step.py
// `rss_mb` is the resident memory after the timed iteration: with many repetitions it shows whether
// memory grows over a run, e.g. 1000 iterations with 5 SGLD steps each:
//   CEBM_BENCH_SGLD_STEPS=5 build/benchmarks/cebm_bench_training --benchmark_filter=cebm_iteration/threads:1/ \
//     --benchmark_repetitions=1000 --benchmark_format=json
// Each benchmark keeps one trainer per thread count across repetitions (its first two iterations
// are the warm-up: oneDNN primitives, allocator), so every repetition times one iteration:
//   build/benchmarks/cebm_bench_training --benchmark_filter=cebm_iteration/1 --benchmark_repetitions=5
// `benchmarks/compare_pytorch.py` runs these beside the Python scripts and prints the ratios.
// Environment: CEBM_FASHION_MNIST (dataset directory, default Debian's), CEBM_BENCH_SGLD_STEPS
// (default 60), CEBM_BENCH_BATCH (default 128 for CEBM, 64 for CLEL).
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
#include "cebm/torch/train/ebm_trainer.hpp"
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

void cebm_iteration(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  const std::int64_t batch = env_or("CEBM_BENCH_BATCH", 128), steps = env_or("CEBM_BENCH_SGLD_STEPS", 60);
  static std::map<int, kept_trainer<cebm_trainer>> kept;
  auto& trainer = kept.try_emplace(threads, "cebm").first->second.trainer;
  if (!trainer) {
    const char* dir = std::getenv("CEBM_FASHION_MNIST");
    auto data = cebm::data::load_fashion_mnist(dir && *dir ? dir : cebm::data::default_fashion_mnist_dir(), "train");
    const auto o = cebm::train::ebm_trainer_options::preset("paper", "cebm")
                       .batch_size(batch)
                       .sgld(cebm::langevin_options::cebm().steps(steps))
                       .out_dir(kept.at(threads).dir);
    torch::manual_seed(0);
    trainer = std::make_unique<cebm_trainer>(cebm::models::Cebm(), std::move(data), o, 0, bench_device());
    for (int i = 0; i < 2; ++i) trainer->step();
  }
  const double seconds = timed_steps(state, *trainer);
  const double macs = cebm_bench::encoder_forward_macs(cebm::nn::conv_encoder_options::mnist());
  const double flop = 2 * macs * batch * steps * 2 + 2 * macs * 2 * batch * 3;
  state.counters["ms_per_sgld_step"] = 1000 * seconds / static_cast<double>(state.iterations() * steps);
  state.counters["gflop_per_iter"] = flop / 1e9;
  state.counters["gflops"] = benchmark::Counter(flop / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_rss_mb"] = cebm_bench::peak_rss_mb();
  state.counters["rss_mb"] = cebm_bench::current_rss_mb();
}
BENCHMARK(cebm_iteration)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void clel_iteration(benchmark::State& state) {
  cebm_bench::program_allocator_settings();
  const int threads = static_cast<int>(state.range(0));
  torch::set_num_threads(threads);
  const std::int64_t batch = env_or("CEBM_BENCH_BATCH", 64), steps = env_or("CEBM_BENCH_SGLD_STEPS", 60);
  static std::map<int, kept_trainer<cebm::train::clel_trainer>> kept;
  auto& k = kept.try_emplace(threads, "clel").first->second;
  auto& trainer = k.trainer;
  if (!trainer) {
    torch::manual_seed(0);
    cebm::data::image_dataset data{torch::randint(0, 256, {10000, 3, 32, 32}, torch::kLong).to(torch::kByte),
                                   torch::arange(10000, torch::kLong) % 10, "synthetic 3x32x32"};
    const auto o = cebm::train::clel_trainer_options::preset("paper")
                       .model(cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::small))
                       .batch_size(batch)
                       .sgld(cebm::langevin_options::clel().steps(steps))
                       .out_dir(k.dir);
    trainer = std::make_unique<cebm::train::clel_trainer>(cebm::models::Clel(o.model()), std::move(data), o, 0, bench_device());
    for (int i = 0; i < 2; ++i) trainer->step();
  }
  const double seconds = timed_steps(state, *trainer);
  state.counters["ms_per_sgld_step"] = 1000 * seconds / static_cast<double>(state.iterations() * steps);
  state.counters["peak_rss_mb"] = cebm_bench::peak_rss_mb();
  state.counters["rss_mb"] = cebm_bench::current_rss_mb();
}
BENCHMARK(clel_iteration)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

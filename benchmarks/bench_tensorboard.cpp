// What TensorBoard logging adds to a training iteration (io/tensorboard/), each a trainer's unit of
// logging into a real event file in a scratch folder:
//   metrics_row      one logged metrics row: 16 scalars in one event (every log_every iterations)
//   sample_cadence   what the trainer logs every sample_every iterations: the data and buffer
//                    grids (64 images 1x28x28 each, PNG-encoded) and the histograms of the batch's
//                    128 data and 128 sample energies
//   probe_histogram  the probe's representation histogram (1000 x 128 values, every probe_every)
//   pr_curve         one OOD set's PR curve at evaluation (10000 + 10000 scores, 101 thresholds)
// Set beside the iteration's time (bench_training.cpp cebm_iteration) and each cadence, these give
// the share of an iteration that logging costs (README, "Watching a run").
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

#include <ATen/ATen.h>

#include "cebm/torch/io/image_grid.hpp"
#include "cebm/torch/io/tensorboard/summary_writer.hpp"

namespace {
std::string scratch() {
  const auto p = std::filesystem::temp_directory_path() / ("cebm_bench_tensorboard_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}
}  // namespace

static void metrics_row(benchmark::State& state) {
  const std::string dir = scratch();
  cebm::tensorboard::summary_writer w(dir);
  std::map<std::string, double> row;
  for (int k = 0; k < 16; ++k) row["metric_" + std::to_string(k)] = 0.1 * k;
  std::int64_t step = 0;
  for (auto _ : state) w.add_scalars(row, ++step, "train/");
  std::filesystem::remove_all(dir);
}
BENCHMARK(metrics_row)->Unit(benchmark::kMicrosecond);

static void sample_cadence(benchmark::State& state) {
  const std::string dir = scratch();
  cebm::tensorboard::summary_writer w(dir);
  at::manual_seed(0);
  // Data-like grids: mostly dark with bright strokes, as Fashion-MNIST batches compress.
  const at::Tensor data = (at::rand({64, 1, 28, 28}) * 255).to(at::kByte), buffer = (at::rand({64, 1, 28, 28}) * 255).to(at::kByte);
  const at::Tensor e_data = at::randn({128}), e_samples = at::randn({128});
  std::int64_t step = 0;
  for (auto _ : state) {
    ++step;
    w.add_image("samples/data", cebm::eval::make_grid(data), step);
    w.add_image("samples/buffer", cebm::eval::make_grid(buffer), step);
    w.add_histogram("energy/data", e_data, step);
    w.add_histogram("energy/samples", e_samples, step);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(sample_cadence)->Unit(benchmark::kMillisecond);

static void probe_histogram(benchmark::State& state) {
  const std::string dir = scratch();
  cebm::tensorboard::summary_writer w(dir);
  const at::Tensor features = at::randn({1000, 128});
  std::int64_t step = 0;
  for (auto _ : state) w.add_histogram("representation", features, ++step);
  std::filesystem::remove_all(dir);
}
BENCHMARK(probe_histogram)->Unit(benchmark::kMillisecond);

static void pr_curve(benchmark::State& state) {
  const std::string dir = scratch();
  cebm::tensorboard::summary_writer w(dir);
  const at::Tensor labels = at::cat({at::ones({10000}), at::zeros({10000})}), scores = at::randn({20000}, at::kDouble);
  std::int64_t step = 0;
  for (auto _ : state) w.add_pr_curve("ood/mnist/logp", labels, scores, ++step);
  std::filesystem::remove_all(dir);
}
BENCHMARK(pr_curve)->Unit(benchmark::kMillisecond);

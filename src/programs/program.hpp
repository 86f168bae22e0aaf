#pragma once
// What every bundled program shares, so that each program's main only wires its model: the common
// flags (preset, dataset, data, out, seed, threads, device, run-loop overrides, resume, data
// parallelism), process set-up (allocator, threads, seed), the dataset through the dataset
// registry, the closing summary (summary.json, summary.md) and the exit codes:
//   0 done, 1 bad flags (CLI11), 2 bad input or data, 3 training diverged, 4 a distributed failure.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include <thread>
#include <type_traits>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cebm/torch/data/datasets.hpp>
#include <cebm/torch/metrics/nearest_neighbor.hpp>
#include <cebm/torch/io/progress.hpp>
#include <cebm/torch/precision/precision_policy.hpp>
#include <cebm/torch/programs/exit_status.hpp>
#include <cebm/torch/train/stop_signals.hpp>
#include <cebm/torch/train/run_view.hpp>
#include <cebm/torch/distributed/process_group.hpp>
#include <cebm/version.hpp>

#include "programs/device.hpp"
#include "programs/distributed_flags.hpp"
#include "programs/validators.hpp"

namespace cebm::programs::cli {

namespace detail {
template <class O, class = void>
struct has_sgld : std::false_type {};
template <class O>
struct has_sgld<O, std::void_t<decltype(std::declval<O&>().sgld())>> : std::true_type {};
}  // namespace detail

/// The checkout's data folder, where scripts/setup.sh puts the MNIST digits (repository_data.cpp:
/// the one translation unit that holds the checkout's path, so ccache shares the others between
/// clones).
const char* repository_data_dir();

/// Where the programs look for the MNIST digits: the library's search path ($CEBM_MNIST,
/// data/mnist), then, for an installed program, share/cebm/mnist of its prefix, then the
/// checkout's data/mnist (where scripts/setup.sh puts them).
std::vector<std::string> mnist_search_path();

/// The flags of every training program.
struct run_flags {
  std::string preset = "demo", dataset = "fashion_mnist", data, out, device = "cpu", on_divergence = "abort", precision = "fp32";
  std::string init_from;  ///< --init-from: a safetensors file the model starts from
  std::uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t iterations = 0, keep_every = 0, batch_size = 0, sgld_steps = 0, train_subset = 0, eval_images = 10000;
  bool resume = false, overwrite = false, accept_changes = false, no_tensorboard = false;
  distributed_flags dist;

  /// `presets`: the program's presets, each with its meaning for the help.
  void add_to(CLI::App& app, const std::vector<std::pair<std::string, std::string>>& presets = {
                                 {"paper", "the paper's settings"}, {"demo", "minutes on a CPU"}, {"ci", "seconds"}});

  /// The run-loop options every trainer's options share, with the flags' overrides.
  template <class Options>
  Options apply(Options o, const std::string& model, const cebm::train::process_group* group) const {
    o.out_dir(out.empty() ? "runs/" + model : out);
    if (iterations) o.iterations(iterations);
    if (keep_every) o.keep_every(keep_every);
    if (batch_size) o.batch_size(batch_size);
    o.batch_size(distributed_flags::rank_batch(o.batch_size(), group));
    if constexpr (detail::has_sgld<Options>::value)
      if (sgld_steps) o.sgld(cebm::langevin_options(o.sgld()).steps(sgld_steps));
    o.tensorboard(!no_tensorboard);
    o.precision(cebm::precision_mode_from_string(precision));
    o.on_divergence(on_divergence == "rollback" ? cebm::train::divergence_policy::rollback : cebm::train::divergence_policy::abort);
    return o;
  }

  /// The run's record: what every program writes into config.json and checkpoints.
  nlohmann::json config(const std::string& model, const std::string& out_dir, std::int64_t run_iterations,
                        std::int64_t global_batch, const cebm::train::process_group* group) const;

  /// --data, or the dataset's default folder (MNIST: the first of mnist_search_path() that exists).
  std::string data_dir() const;
};

/// Allocator, threads and seed for this process; the device named by --device.
torch::Device prepare_process(int threads, std::uint64_t seed, const std::string& device);

/// --precision's words and help, the same in every program.
inline const std::vector<std::string> precision_words = {"fp32", "tf32", "bf16", "fp16"};
inline const char* const precision_help =
    "the networks' arithmetic: fp32 (default), tf32 (CUDA), bf16 or fp16 (autocast; fp16 with loss scaling)";
/// The mode --precision names, checked against this build and device (an error names what is
/// missing); what the mode means on this device goes to stderr as a note.
cebm::precision_mode prepare_precision(const std::string& word, const torch::Device& device);

/// The training split (the first --train-subset images of it) and the test split.
struct splits {
  cebm::data::image_dataset train, test;
};
splits load_splits(const run_flags& f);

/// What a training program starts from: its device, its ranks (null alone) and its data.
struct started_process {
  torch::Device device;
  std::shared_ptr<cebm::train::process_group> group;
  splits data;
};
/// Allocator, threads, seed, device and stop signals; joins the ranks (--distributed); loads the data.
started_process start_training(const run_flags& f);

/// After --resume: where the run continues, and whether the chains' noise had to restart (a run
/// saved on another kind of device).
void say_resumed(cebm::train::trained_run& run);

/// The closing check: 1-NN test accuracy of the representation (the first `images` test images
/// against as many training references) beside the same in pixels.
nlohmann::json nearest_neighbor_summary(cebm::train::trained_run& run, const splits& d, std::int64_t images,
                                               const std::string& key);

/// summary.json and summary.md in the run directory (rank 0), and the summary on stdout.
/// `representation` names what the 1-NN reads (e.g. "representation", "encoder"); `samples` the
/// PNG grids under samples/ to show.
void write_summary(cebm::train::trained_run& run, const run_flags& f, const std::string& model, const splits& d,
                          double seconds, const std::string& representation, const std::vector<std::string>& samples);

double seconds_since(std::chrono::steady_clock::time_point t0);

/// Runs a program's body, turning exceptions into one line on stderr and an exit status
/// (programs/exit_status.hpp).
int guarded(const std::function<int()>& body);

/// Parses the flags. Empty when the program goes on; otherwise its exit status: 0 after --help,
/// 1 after CLI11's message for a flag it refuses (unknown, a value a check rejects, flags that
/// exclude each other), as programs/exit_status.hpp documents, where CLI11 would exit with its
/// own code for each kind (105, 108, ...).
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv);

/// On --resume: `stored` and `now` are the configurations (JSON) the checkpoint was written with
/// and this run's. A setting that changes the run's maths (batch size, learning rates, sampler,
/// model, seed, data, …) must agree unless `accept`; those that only say how the run is executed
/// or recorded (below) may change. Throws, listing every change.
void check_resumed_settings(const std::string& stored, const std::string& now, bool accept);

/// Progress on stderr (a line redrawn on a terminal, else a line per logged iteration) and
/// messages such as a rollback.
cebm::train::training_reporter stderr_reporter(std::int64_t iterations, std::int64_t log_every);

/// The flags' run request: ranks, progress on stderr, --resume and the "resumed at" line.
template <class Options>
cebm::train::run_request run_request(const run_flags& f, const Options& o, std::shared_ptr<cebm::train::process_group> group) {
  cebm::train::run_request r;
  r.group = std::move(group);
  r.reporter = stderr_reporter(o.iterations(), o.log_every());
  r.resume = f.resume;
  r.overwrite = f.overwrite;
  r.check_settings = [accept = f.accept_changes](const std::string& stored, const std::string& now) {
    check_resumed_settings(stored, now, accept);
  };
  r.resumed = say_resumed;
  return r;
}

/// Trains `trainer` (any cebm trainer) as the flags say and writes the summary.
template <class Trainer>
int train_and_summarise(Trainer& trainer, const run_flags& f, const std::string& model, const splits& d,
                        std::shared_ptr<cebm::train::process_group> group, const std::string& representation,
                        const std::vector<std::string>& samples) {
  cebm::train::run_request r = run_request(f, trainer.options(), std::move(group));
  const auto t0 = std::chrono::steady_clock::now();
  r.after_run = [&](cebm::train::trained_run& run) { write_summary(run, f, model, d, seconds_since(t0), representation, samples); };
  cebm::train::drive(trainer, r);
  return 0;
}

}  // namespace cebm::programs::cli

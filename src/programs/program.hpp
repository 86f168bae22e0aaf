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
/// data/mnist), then the checkout's data/mnist.
inline std::vector<std::string> mnist_search_path() {
  std::vector<std::string> where = cebm::data::mnist_search_path();
  where.push_back(std::string(repository_data_dir()) + "/mnist");
  return where;
}

/// The flags of every training program.
struct run_flags {
  std::string preset = "demo", dataset = "fashion_mnist", data, out, device = "cpu", on_divergence = "abort";
  std::uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t iterations = 0, keep_every = 0, batch_size = 0, sgld_steps = 0, train_subset = 0, eval_images = 10000;
  bool resume = false, overwrite = false, accept_changes = false;
  distributed_flags dist;

  /// `presets`: the program's presets, each with its meaning for the help.
  void add_to(CLI::App& app, const std::vector<std::pair<std::string, std::string>>& presets = {
                                 {"paper", "the paper's settings"}, {"demo", "minutes on a CPU"}, {"ci", "seconds"}}) {
    app.set_config("--config", "", "TOML/INI file with flat keys (e.g. preset = \"demo\")");
    std::vector<std::string> names;
    std::string help;
    for (const auto& [name, meaning] : presets) {
      names.push_back(name);
      help += (help.empty() ? "" : "; ") + name + " (" + meaning + ")";
    }
    app.add_option("--preset", preset, help)->check(CLI::IsMember(names));
    app.add_option("--dataset", dataset, cebm::data::datasets().names())
        ->check(CLI::IsMember(cebm::data::datasets().list()));
    app.add_option("--data", data, "the dataset's folder (default: where setup puts it, for mnist and fashion_mnist)");
    app.add_option("--out", out, "run directory (default runs/<model>)");
    app.add_option("--seed", seed, "random seed (an integer >= 0)")->check(non_negative);
    app.add_option("--device", device, "cpu, cuda or cuda:N");
    app.add_option("--threads", threads, "CPU threads for libtorch")->check(cli::positive);
    app.add_option("--iterations", iterations, "override the preset's iterations")->check(cli::positive);
    app.add_option("--keep-every", keep_every, "keep checkpoints/iter_N.pt every N iterations (a learning curve's points)")
        ->check(cli::positive);
    app.add_option("--batch-size", batch_size, "override the batch size (the global batch when distributed)")
        ->check(CLI::Range(2, 1 << 20));
    app.add_option("--sgld-steps", sgld_steps, "override the Langevin steps per iteration")->check(cli::positive);
    app.add_option("--train-subset", train_subset, "train on the first N training images")->check(cli::positive);
    app.add_option("--eval-images", eval_images, "test images (and training references) in the summary's 1-NN")
        ->check(cli::positive);
    app.add_option("--on-divergence", on_divergence, "abort or rollback")->check(CLI::IsMember({"abort", "rollback"}));
    auto* resume_flag = app.add_flag("--resume", resume, "continue from <out>/checkpoints/last.pt");
    app.add_flag("--overwrite", overwrite, "start a new run in <out> although one is there (its files are removed)")
        ->excludes(resume_flag);
    app.add_flag("--accept-changes", accept_changes,
                 "with --resume: continue although settings that change the run's maths differ from the run's "
                 "(config_history.jsonl records them)")
        ->needs(resume_flag);
    dist.add_to(app);
  }

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
    o.on_divergence(on_divergence == "rollback" ? cebm::train::divergence_policy::rollback : cebm::train::divergence_policy::abort);
    return o;
  }

  /// The run's record: what every program writes into config.json and checkpoints.
  nlohmann::json config(const std::string& model, const std::string& out_dir, std::int64_t run_iterations,
                        std::int64_t global_batch, const cebm::train::process_group* group) const {
    return {{"model", model},         {"preset", preset},
            {"dataset", dataset},     {"data", data_dir()},
            {"out", out_dir},         {"seed", seed},
            {"device", device},       {"threads", threads},
            {"iterations", run_iterations}, {"batch_size", global_batch},
            {"distributed", distributed_flags::describe(group)}, {"train_subset", train_subset},
            {"on_divergence", on_divergence}, {"cebm_version", CEBM_VERSION_STRING},
            {"torch_threads", torch::get_num_threads()}};
  }

  /// --data, or the dataset's default folder (MNIST: the first of mnist_search_path() that exists).
  std::string data_dir() const {
    if (!data.empty()) return data;
    if (dataset == "mnist") return cebm::data::detail::first_existing(mnist_search_path());
    const auto& e = cebm::data::datasets().find(dataset);
    return e.default_dir ? e.default_dir() : std::string();
  }
};

/// Allocator, threads and seed for this process; the device named by --device.
inline torch::Device prepare_process(int threads, std::uint64_t seed, const std::string& device) {
  // glibc hands large activation blocks back to the OS after every step unless its mmap threshold
  // is raised; raising it makes an SGLD step ~30% faster here (benchmarks/README.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  torch::set_num_threads(threads);
  torch::manual_seed(seed);
  return parse_device(device);
}

/// The training split (the first --train-subset images of it) and the test split.
struct splits {
  cebm::data::image_dataset train, test;
};
inline splits load_splits(const run_flags& f) {
  const std::string dir = f.data_dir();
  if (dir.empty()) throw std::invalid_argument("--dataset " + f.dataset + " needs --data DIR");
  const auto train = cebm::data::load_dataset(f.dataset, dir, "train");
  const auto test = cebm::data::load_dataset(f.dataset, dir, "test");
  if (f.train_subset <= 0) return {train, test};
  return {train.subset(torch::arange(std::min(f.train_subset, train.size()))), test};
}

/// What a training program starts from: its device, its ranks (null alone) and its data.
struct started_process {
  torch::Device device;
  std::shared_ptr<cebm::train::process_group> group;
  splits data;
};
/// Allocator, threads, seed, device and stop signals; joins the ranks (--distributed); loads the data.
inline started_process start_training(const run_flags& f) {
  const torch::Device device = prepare_process(f.threads, f.seed, f.device);
  // SIGINT / SIGTERM: the run finishes its iteration, writes last.pt and exits 128 + the signal.
  cebm::train::install_stop_signals();
  auto group = f.dist.join();
  return {device, std::move(group), load_splits(f)};
}

/// After --resume: where the run continues, and whether the chains' noise had to restart (a run
/// saved on another kind of device).
inline void say_resumed(cebm::train::trained_run& run) {
  std::fprintf(stderr, "resumed at iteration %lld\n", static_cast<long long>(run.iteration()));
  if (run.resumed_with_fresh_noise())
    std::fprintf(stderr, "note: the checkpoint's sampler state comes from another kind of device; the chains' noise "
                         "restarts from seed + 1 + iteration, so this is not an exact resume\n");
}

/// The closing check: 1-NN test accuracy of the representation (the first `images` test images
/// against as many training references) beside the same in pixels.
inline nlohmann::json nearest_neighbor_summary(cebm::train::trained_run& run, const splits& d, std::int64_t images,
                                               const std::string& key) {
  const std::int64_t n_ref = std::min(images, d.train.size());
  const auto ref = d.train.subset(torch::arange(n_ref));
  const auto test = d.test.subset(torch::arange(std::min(images, d.test.size())));
  const std::int64_t classes =
      1 + std::max<std::int64_t>({0, ref.labels.max().item<std::int64_t>(), test.labels.max().item<std::int64_t>()});
  const auto nn = cebm::eval::nearest_neighbor(run.features(ref.images), ref.labels, run.features(test.images), test.labels, classes);
  const auto pixels = cebm::eval::nearest_neighbor(ref.images.flatten(1).to(torch::kFloat) / 255, ref.labels,
                                                   test.images.flatten(1).to(torch::kFloat) / 255, test.labels, classes);
  return {{"test_images", test.size()}, {"reference_images", n_ref}, {key, nn.accuracy}, {"nn1_pixels", pixels.accuracy}};
}

/// summary.json and summary.md in the run directory (rank 0), and the summary on stdout.
/// `representation` names what the 1-NN reads (e.g. "representation", "encoder"); `samples` the
/// PNG grids under samples/ to show.
inline void write_summary(cebm::train::trained_run& run, const run_flags& f, const std::string& model, const splits& d,
                          double seconds, const std::string& representation, const std::vector<std::string>& samples) {
  if (!run.main_rank) return;
  const std::string key = "nn1_" + representation;
  nlohmann::json report = {{"model", model},
                           {"preset", f.preset},
                           {"dataset", f.dataset},
                           {"iterations", run.iteration()},
                           {"train_seconds", seconds},
                           {"final", run.last_metrics()},
                           {"best_probe_1nn", run.best_probe()},
                           {"evaluation", nearest_neighbor_summary(run, d, f.eval_images, key)}};
  const std::filesystem::path dir(run.out_dir());
  std::ofstream(dir / "summary.json") << report.dump(2) << '\n';
  std::ofstream md(dir / "summary.md");
  const auto& e = report["evaluation"];
  md << "# " << model << " on " << f.dataset << " (" << f.preset << " preset)\n\n| quantity | value |\n| --- | --- |\n"
     << "| iterations | " << run.iteration() << " |\n| training time this run | " << seconds << " s |\n";
  for (const auto& [k, v] : report["final"].items()) md << "| final " << k << " | " << v.dump() << " |\n";
  md << "| 1-NN test accuracy, " << representation << " | " << e[key].get<double>() << " |\n"
     << "| 1-NN test accuracy, pixels (baseline) | " << e["nn1_pixels"].get<double>() << " |\n\n"
     << "1-NN: each of the " << e["test_images"].get<std::int64_t>() << " test images takes the label of the nearest of "
     << e["reference_images"].get<std::int64_t>() << " training images (squared L2).\n\nSamples:";
  for (const auto& s : samples) md << " ![" << s << "](samples/" << s << ".png)";
  md << "\n";
  std::printf("%s\nsummary: %s\n", report.dump(2).c_str(), (dir / "summary.md").c_str());
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Runs a program's body, turning exceptions into one line on stderr and an exit status
/// (programs/exit_status.hpp).
inline int guarded(const std::function<int()>& body) {
  return cebm::programs::guarded(body, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

/// On --resume: `stored` and `now` are the configurations (JSON) the checkpoint was written with
/// and this run's. A setting that changes the run's maths (batch size, learning rates, sampler,
/// model, seed, data, …) must agree unless `accept`; those that only say how the run is executed
/// or recorded (below) may change. Throws, listing every change.
inline void check_resumed_settings(const std::string& stored, const std::string& now, bool accept) {
  if (stored.empty() || now.empty() || accept) return;
  static const std::set<std::string> free = {
      "out", "out_dir", "device", "threads", "torch_threads", "iterations", "eval_images", "data", "cebm_version",
      "distributed", "log_every", "checkpoint_every", "keep_every", "sample_every", "probe_every", "probe_reference",
      "probe_query", "long_run_steps", "long_run_chains", "on_divergence", "max_rollbacks", "rollback_lr_scale",
      "divergence_threshold"};
  std::vector<std::string> changes;
  std::function<void(const nlohmann::json&, const nlohmann::json&, const std::string&)> compare =
      [&](const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
        if (a.is_object() && b.is_object()) {
          std::set<std::string> keys;
          for (const auto& [k, v] : a.items()) keys.insert(k);
          for (const auto& [k, v] : b.items()) keys.insert(k);
          for (const auto& k : keys)
            if (!free.count(k))
              compare(a.value(k, nlohmann::json()), b.value(k, nlohmann::json()), path.empty() ? k : path + "." + k);
        } else if (a != b) {
          changes.push_back(path + " " + (a.is_null() ? "(unset)" : a.dump()) + " -> " + (b.is_null() ? "(unset)" : b.dump()));
        }
      };
  compare(nlohmann::json::parse(stored), nlohmann::json::parse(now), "");
  if (changes.empty()) return;
  std::string list;
  for (const auto& c : changes) list += (list.empty() ? "" : ", ") + c;
  throw std::invalid_argument("--resume: the run was trained with other settings (" + list +
                              "); continuing would change its maths. Add --accept-changes to continue with the new "
                              "values (config_history.jsonl records them), or drop the flags that changed them");
}

/// Progress on stderr (a line redrawn on a terminal, else a line per logged iteration) and
/// messages such as a rollback.
inline cebm::train::training_reporter stderr_reporter(std::int64_t iterations, std::int64_t log_every) {
  auto display = std::make_shared<cebm::train::progress>(iterations, log_every, "train");
  return {[display](std::int64_t done, std::int64_t here, const std::string& values) { display->update(done, here, values); },
          [](const std::string& message) { std::fprintf(stderr, "\n%s\n", message.c_str()); }};
}

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

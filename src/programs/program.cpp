// The bundled programs' shared scaffold (program.hpp), compiled once for all four.
#include "programs/program.hpp"

#include <csignal>
#include <map>
#include <sstream>

#include <cebm/torch/io/atomic_file.hpp>

namespace cebm::programs::cli {

std::vector<std::string> mnist_search_path() {
  std::vector<std::string> where = cebm::data::mnist_search_path();
  std::error_code ec;  // an installed program: <prefix>/bin/<program> beside <prefix>/share/cebm/mnist
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) where.push_back((self.parent_path().parent_path() / "share" / "cebm" / "mnist").string());
  where.push_back(std::string(repository_data_dir()) + "/mnist");
  return where;
}

torch::Device prepare_process(int threads, std::uint64_t seed, const std::string& device) {
  // glibc hands large activation blocks back to the OS after every step unless its mmap threshold
  // is raised; raising it makes an SGLD step ~30% faster here (benchmarks/README.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  // A file-size limit (ulimit -f) then fails the write that exceeds it (EFBIG: an error naming the
  // file, exit 2, the temporary file removed) instead of killing the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  torch::set_num_threads(threads);
  torch::manual_seed(seed);
  return parse_device(device);
}

splits load_splits(const run_flags& f) {
  const std::string dir = f.data_dir();
  if (dir.empty()) throw std::invalid_argument("--dataset " + f.dataset + " needs --data DIR");
  const auto train = cebm::data::load_dataset(f.dataset, dir, "train");
  const auto test = cebm::data::load_dataset(f.dataset, dir, "test");
  if (f.train_subset <= 0) return {train, test};
  return {train.subset(torch::arange(std::min(f.train_subset, train.size()))), test};
}

cebm::precision_mode prepare_precision(const std::string& word, const torch::Device& device) {
  const cebm::precision_policy policy(cebm::precision_mode_from_string(word), device);
  const std::string note = policy.note();
  if (!note.empty()) std::fprintf(stderr, "note: %s\n", note.c_str());
  return policy.mode();
}

started_process start_training(const run_flags& f) {
  const torch::Device device = prepare_process(f.threads, f.seed, f.device);
  prepare_precision(f.precision, device);
  // SIGINT / SIGTERM: the run finishes its iteration, writes last.pt and exits 128 + the signal.
  cebm::train::install_stop_signals();
  auto group = f.dist.join();
  return {device, std::move(group), load_splits(f)};
}

void say_resumed(cebm::train::trained_run& run) {
  std::fprintf(stderr, "resumed at iteration %lld\n", static_cast<long long>(run.iteration()));
  if (run.resumed_with_fresh_noise())
    std::fprintf(stderr, "note: the checkpoint's sampler state comes from another kind of device; the chains' noise "
                         "restarts from seed + 1 + iteration, so this is not an exact resume\n");
}

nlohmann::json nearest_neighbor_summary(cebm::train::trained_run& run, const splits& d, std::int64_t images,
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

void write_summary(cebm::train::trained_run& run, const run_flags& f, const std::string& model, const splits& d,
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
  std::ostringstream md;
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
  // Whole or not at all: a full disk or a file-size limit is an error (exit 2), not an empty file.
  cebm::train::replace_file((dir / "summary.json").string(), report.dump(2) + '\n', "the summary");
  cebm::train::replace_file((dir / "summary.md").string(), md.str(), "the summary");
  std::printf("%s\nsummary: %s\n", report.dump(2).c_str(), (dir / "summary.md").c_str());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int guarded(const std::function<int()>& body) {
  const int status =
      cebm::programs::guarded(body, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (const int sig = cebm::train::stop_signal().load(); status == 0 && sig != 0)
    std::fprintf(stderr, "note: signal %d arrived after the last iteration; the run is complete and its files written\n", sig);
  return status;
}

std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // app.exit prints the help or the message
  }
}

void check_resumed_settings(const std::string& stored, const std::string& now, bool accept) {
  if (stored.empty() || now.empty() || accept) return;
  static const std::set<std::string> free = {
      "out", "out_dir", "device", "threads", "torch_threads", "iterations", "eval_images", "data", "cebm_version",
      "distributed", "log_every", "checkpoint_every", "keep_every", "sample_every", "probe_every", "probe_reference",
      "probe_query", "long_run_steps", "long_run_chains", "on_divergence", "max_rollbacks", "rollback_lr_scale",
      "divergence_threshold", "tensorboard", "init_from"};
  // Settings added after runs were written: a run that records none had this value.
  static const std::map<std::string, nlohmann::json> added = {{"precision", "fp32"}};
  std::vector<std::string> changes;
  std::function<void(const nlohmann::json&, const nlohmann::json&, const std::string&)> compare =
      [&](const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
        if (a.is_object() && b.is_object()) {
          std::set<std::string> keys;
          for (const auto& [k, v] : a.items()) keys.insert(k);
          for (const auto& [k, v] : b.items()) keys.insert(k);
          auto value = [&](const nlohmann::json& o, const std::string& k) {
            if (o.contains(k)) return o.at(k);
            const auto d = added.find(k);
            return d == added.end() ? nlohmann::json() : d->second;
          };
          for (const auto& k : keys)
            if (!free.count(k)) compare(value(a, k), value(b, k), path.empty() ? k : path + "." + k);
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

cebm::train::training_reporter stderr_reporter(std::int64_t iterations, std::int64_t log_every) {
  auto display = std::make_shared<cebm::train::progress>(iterations, log_every, "train");
  return {[display](std::int64_t done, std::int64_t here, const std::string& values) { display->update(done, here, values); },
          [](const std::string& message) { std::fprintf(stderr, "\n%s\n", message.c_str()); }};
}

void run_flags::add_to(CLI::App& app, const std::vector<std::pair<std::string, std::string>>& presets) {
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
    app.add_option("--precision", precision, precision_help)->check(CLI::IsMember(precision_words));
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
    app.add_flag("--no-tensorboard", no_tensorboard, "write no TensorBoard event files (metrics.jsonl and the grids stay)");
    app.add_option("--init-from", init_from,
                   "start from these weights: a safetensors file in cebm's names or the papers' PyTorch modules' "
                   "(evaluate --export writes one)")
        ->check(CLI::ExistingFile)
        ->excludes(resume_flag);
    dist.add_to(app);
  }

nlohmann::json run_flags::config(const std::string& model, const std::string& out_dir, std::int64_t run_iterations,
                        std::int64_t global_batch, const cebm::train::process_group* group) const {
    nlohmann::json c = {{"model", model},         {"preset", preset},
            {"dataset", dataset},     {"data", data_dir()},
            {"out", out_dir},         {"seed", seed},
            {"device", device},       {"threads", threads},
            {"iterations", run_iterations}, {"batch_size", global_batch},
            {"distributed", distributed_flags::describe(group)}, {"train_subset", train_subset},
            {"on_divergence", on_divergence}, {"cebm_version", CEBM_VERSION_STRING},
            {"torch_threads", torch::get_num_threads()}};
    if (!init_from.empty()) c["init_from"] = init_from;
    return c;
  }

std::string run_flags::data_dir() const {
    if (!data.empty()) return data;
    if (dataset == "mnist") return cebm::data::detail::first_existing(mnist_search_path());
    const auto& e = cebm::data::datasets().find(dataset);
    return e.default_dir ? e.default_dir() : std::string();
  }

}  // namespace cebm::programs::cli

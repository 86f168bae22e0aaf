// Train a conjugate EBM (CEBM, GMM-CEBM, a Gaussian–Bernoulli harmonium) or the IGEBM baseline on real
// images, then write a short training summary (summary.md, summary.json; the papers' evaluations are
// the `evaluate` program).
// Options first, then seed, threads, device, data, model, training loop, summary.
//
//   train_cebm --model cebm --preset demo --out runs/demo --threads 2
//   train_cebm --model gmm_cebm --preset paper --device cuda --out runs/gmm
//   train_cebm --out runs/demo --resume            # continue from runs/demo/checkpoints/last.pt
//   RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 train_cebm --distributed ...   # rank 0 of 2
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cebm/torch.hpp>
#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/models/cebm.hpp>
#include <cebm/torch/models/gmm_cebm.hpp>
#include <cebm/torch/models/harmonium.hpp>
#include <cebm/torch/models/igebm.hpp>
#include <cebm/torch/train/ebm_trainer.hpp>

#include "common/distributed_flags.hpp"
#include "common/device.hpp"
#include "common/resume.hpp"
#include "common/nearest_neighbor_summary.hpp"

namespace {

struct settings {
  std::string model = "cebm", preset = "demo", data = cebm::data::default_fashion_mnist_dir(), out, device = "cpu";
  std::string on_divergence = "abort";
  std::uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t iterations = 0, batch_size = 0, sgld_steps = 0, train_subset = 0, eval_images = 10000;
  double lr = 0, l2 = -1;
  bool resume = false;
  cebm_examples::distributed_flags dist;
};

template <class Model>
int train_and_report(Model model, const settings& s, cebm::train::ebm_trainer_options opts, const nlohmann::json& config,
                     torch::Device device, std::shared_ptr<cebm::train::process_group> group) {
  const auto train = cebm::data::load_fashion_mnist(s.data, "train");
  const auto test = cebm::data::load_fashion_mnist(s.data, "test");
  const auto used = s.train_subset > 0 ? train.subset(torch::arange(std::min(s.train_subset, train.size()))) : train;
  cebm::train::ebm_trainer<Model> trainer(model, used, opts, s.seed, device, config.dump(2));
  if (group) trainer.distribute(group);
  if (s.resume) cebm_examples::resume_run(trainer);
  const auto t0 = std::chrono::steady_clock::now();
  trainer.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!trainer.is_main_rank()) return 0;  // rank 0 reports

  nlohmann::json report = {{"model", s.model},           {"preset", s.preset},
                           {"iterations", trainer.iteration()}, {"train_seconds", seconds},
                           {"final", trainer.last_metrics()},   {"best_probe_1nn", trainer.best_probe()},
                           {"evaluation", cebm_examples::nearest_neighbor_summary(trainer, used, test, s.eval_images)}};
  const std::filesystem::path dir(opts.out_dir());
  std::ofstream(dir / "summary.json") << report.dump(2) << '\n';
  std::ofstream md(dir / "summary.md");
  const auto& f = report["final"];
  md << "# " << s.model << " on Fashion-MNIST (" << s.preset << " preset)\n\n"
     << "| quantity | value |\n| --- | --- |\n"
     << "| iterations | " << trainer.iteration() << " |\n| training time this run | " << seconds << " s |\n"
     << "| final loss | " << f.value("loss", NAN) << " |\n| final E(data) | " << f.value("energy_pos", NAN) << " |\n"
     << "| final E(samples) | " << f.value("energy_neg", NAN) << " |\n| final gap E(data) - E(samples) | " << f.value("gap", NAN)
     << " |\n| mean chain gradient norm | " << f.value("grad_norm", NAN) << " |\n"
     << "| 1-NN test accuracy, representation | " << report["evaluation"]["nn1_representation"].get<double>() << " |\n"
     << "| 1-NN test accuracy, pixels (baseline) | " << report["evaluation"]["nn1_pixels"].get<double>() << " |\n\n"
     << "1-NN: each of the " << report["evaluation"]["test_images"].get<std::int64_t>() << " test images takes the label of the nearest of "
     << report["evaluation"]["reference_images"].get<std::int64_t>() << " training images (squared L2).\n\n"
     << "Samples: ![data](samples/data.png) ![replay buffer](samples/buffer.png) ![long-run chains](samples/long_run.png)\n";
  std::printf("%s\nsummary: %s\n", report.dump(2).c_str(), (dir / "summary.md").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Train CEBM, GMM-CEBM, IGEBM or a harmonium on Fashion-MNIST (IDX files) and report"};
  app.set_config("--config", "", "TOML/INI file with flat keys (e.g. preset = \"demo\")");
  app.add_option("--model", s.model, "cebm, gmm_cebm, igebm or harmonium (Gaussian-Bernoulli RBM, 784 x 128)")
      ->check(CLI::IsMember({"cebm", "gmm_cebm", "igebm", "harmonium"}));
  app.add_option("--preset", s.preset, "paper, demo or ci")->check(CLI::IsMember({"paper", "demo", "ci"}));
  app.add_option("--data", s.data, "directory with the IDX files (train-images-idx3-ubyte.gz, ...)");
  app.add_option("--out", s.out, "run directory (default runs/<model>)");
  app.add_option("--seed", s.seed, "random seed");
  app.add_option("--device", s.device, "cpu, cuda or cuda:N");
  app.add_option("--threads", s.threads, "CPU threads for libtorch")->check(CLI::PositiveNumber);
  app.add_option("--iterations", s.iterations, "override the preset's iterations")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", s.batch_size, "override the batch size")->check(CLI::PositiveNumber);
  app.add_option("--sgld-steps", s.sgld_steps, "override the Langevin steps per iteration")->check(CLI::PositiveNumber);
  app.add_option("--lr", s.lr, "override the learning rate")->check(CLI::PositiveNumber);
  app.add_option("--l2", s.l2, "override the energy L2 coefficient")->check(CLI::NonNegativeNumber);
  app.add_option("--train-subset", s.train_subset, "train on the first N training images")->check(CLI::PositiveNumber);
  app.add_option("--eval-images", s.eval_images, "test images (and training references) in the report's 1-NN")
      ->check(CLI::PositiveNumber);
  app.add_option("--on-divergence", s.on_divergence, "abort or rollback")->check(CLI::IsMember({"abort", "rollback"}));
  app.add_flag("--resume", s.resume, "continue from <out>/checkpoints/last.pt");
  s.dist.add_to(app);
  CLI11_PARSE(app, argc, argv);

  try {
    // glibc hands the 26 MB activation blocks back to the OS after every step unless its mmap
    // threshold is raised; raising it makes an SGLD step ~30% faster here (benchmarks/README.md).
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
    torch::set_num_threads(s.threads);
    torch::manual_seed(s.seed);
    const torch::Device device = cebm_examples::parse_device(s.device);

    const auto group = s.dist.join();
    auto opts = cebm::train::ebm_trainer_options::preset(s.preset, s.model);
    opts.out_dir(s.out.empty() ? "runs/" + s.model : s.out);
    if (s.iterations) opts.iterations(s.iterations);
    if (s.batch_size) opts.batch_size(s.batch_size);
    const std::int64_t global_batch = opts.batch_size();
    opts.batch_size(cebm_examples::distributed_flags::rank_batch(global_batch, group.get()));
    if (s.sgld_steps) opts.sgld(cebm::langevin_options(opts.sgld()).steps(s.sgld_steps));
    if (s.lr > 0) opts.lr(s.lr);
    if (s.l2 >= 0) opts.loss(cebm::cd_options(opts.loss()).l2(s.l2));
    opts.on_divergence(s.on_divergence == "rollback" ? cebm::train::divergence_policy::rollback
                                                     : cebm::train::divergence_policy::abort);
    const nlohmann::json config = {
        {"model", s.model}, {"preset", s.preset}, {"dataset", "fashion_mnist"}, {"data", s.data}, {"out", opts.out_dir()}, {"seed", s.seed},
        {"device", s.device}, {"threads", s.threads}, {"iterations", opts.iterations()}, {"batch_size", global_batch},
        {"distributed", cebm_examples::distributed_flags::describe(group.get())},
        {"lr", opts.lr()}, {"l2", opts.loss().l2()},
        {"l2_on", opts.loss().regularize() == cebm::cd_regularizer::data_only ? "data" : "both"},
        {"sgld_steps", opts.sgld().steps()}, {"sgld_step_size", opts.sgld().step_size()},
        {"sgld_noise_std", opts.sgld().noise_std()}, {"buffer_capacity", opts.buffer().capacity()},
        {"buffer_reinit_prob", opts.buffer().reinit_prob()}, {"data_noise_std", opts.input().noise_std()},
        {"train_subset", s.train_subset}, {"on_divergence", s.on_divergence}, {"cebm_version", CEBM_VERSION_STRING},
        {"torch_threads", torch::get_num_threads()}};
    std::fprintf(stderr, "seed %llu, %d threads, device %s, run directory %s\n", (unsigned long long)s.seed,
                 torch::get_num_threads(), s.device.c_str(), opts.out_dir().c_str());

    if (s.model == "cebm") return train_and_report(cebm::models::Cebm(), s, opts, config, device, group);
    if (s.model == "gmm_cebm") return train_and_report(cebm::models::GmmCebm(), s, opts, config, device, group);
    if (s.model == "harmonium")
      return train_and_report(cebm::models::Harmonium<cebm::gaussian, cebm::bernoulli>(cebm::models::harmonium_options{}, std::vector<double>{0.0, -0.5}),
                              s, opts, config, device, group);
    return train_and_report(cebm::models::Igebm(), s, opts, config, device, group);
  } catch (const cebm::train::distributed_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 4;
  } catch (const cebm::train::divergence_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

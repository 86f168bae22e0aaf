// Train CLEL (Lee et al., ICLR 2023: a spherical latent-variable EBM guided by a contrastive latent
// encoder) on real images, then write a short training summary (summary.md, summary.json) with the
// EMA encoder's 1-NN test accuracy. Options first, then seed, threads, device, data, model,
// training loop, summary.
//
//   train_clel --preset demo --out runs/clel_demo --threads 2        # Fashion-MNIST, minutes
//   train_clel --preset paper --dataset cifar10 --data data/cifar-10-batches-bin --device cuda
//   train_clel --out runs/clel_demo --resume                         # continue from checkpoints/last.pt
//   RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 train_clel --distributed ...   # rank 1 of 2
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cebm/torch/data/cifar10.hpp>
#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/models/clel.hpp>
#include <cebm/torch/train/clel_trainer.hpp>

#include "common/distributed_flags.hpp"
#include "common/device.hpp"
#include "common/resume.hpp"
#include "common/nearest_neighbor_summary.hpp"

namespace {

struct settings {
  std::string preset = "demo", dataset = "fashion_mnist", data, out = "runs/clel", device = "cpu", size;
  std::string on_divergence = "abort";
  std::uint64_t seed = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t iterations = 0, batch_size = 0, sgld_steps = 0, train_subset = 0, eval_images = 2000;
  double ebm_lr = 0, encoder_lr = 0;
  bool resume = false;
  cebm_examples::distributed_flags dist;
};

cebm::data::image_dataset load(const settings& s, const std::string& split) {
  if (s.dataset == "cifar10") return cebm::data::load_cifar10(s.data, split);
  return cebm::data::load_fashion_mnist(s.data.empty() ? cebm::data::default_fashion_mnist_dir() : s.data, split);
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Train CLEL (EBM f, g and latent encoder h) on Fashion-MNIST or CIFAR-10 and report"};
  app.set_config("--config", "", "TOML/INI file with flat keys (e.g. preset = \"demo\")");
  app.add_option("--preset", s.preset, "paper, demo or ci")->check(CLI::IsMember({"paper", "demo", "ci"}));
  app.add_option("--dataset", s.dataset, "fashion_mnist or cifar10")->check(CLI::IsMember({"fashion_mnist", "cifar10"}));
  app.add_option("--data", s.data, "directory with the data files (Fashion-MNIST IDX .gz, or cifar-10-batches-bin)");
  app.add_option("--out", s.out, "run directory");
  app.add_option("--seed", s.seed, "random seed");
  app.add_option("--device", s.device, "cpu, cuda or cuda:N");
  app.add_option("--threads", s.threads, "CPU threads for libtorch")->check(CLI::PositiveNumber);
  app.add_option("--model-size", s.size, "override the preset's f: small, base or large")
      ->check(CLI::IsMember({"small", "base", "large"}));
  app.add_option("--iterations", s.iterations, "override the preset's iterations (also the cosine schedule's length)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", s.batch_size, "override the batch size")->check(CLI::Range(2, 1 << 20));
  app.add_option("--sgld-steps", s.sgld_steps, "override the Langevin steps per iteration")->check(CLI::PositiveNumber);
  app.add_option("--ebm-lr", s.ebm_lr, "override Adam's learning rate for f and g")->check(CLI::PositiveNumber);
  app.add_option("--encoder-lr", s.encoder_lr, "override SGD's learning rate for h")->check(CLI::PositiveNumber);
  app.add_option("--train-subset", s.train_subset, "train on the first N training images")->check(CLI::PositiveNumber);
  app.add_option("--eval-images", s.eval_images, "test images (and training references) in the report's 1-NN")
      ->check(CLI::PositiveNumber);
  app.add_option("--on-divergence", s.on_divergence, "abort or rollback")->check(CLI::IsMember({"abort", "rollback"}));
  app.add_flag("--resume", s.resume, "continue from <out>/checkpoints/last.pt");
  s.dist.add_to(app);
  CLI11_PARSE(app, argc, argv);

  try {
    // glibc hands large activation blocks back to the OS after every step unless its mmap
    // threshold is raised; raising it makes an SGLD step faster here (benchmarks/README.md).
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
    torch::set_num_threads(s.threads);
    torch::manual_seed(s.seed);
    const torch::Device device = cebm_examples::parse_device(s.device);
    if (s.dataset == "cifar10" && s.data.empty()) throw std::invalid_argument("--dataset cifar10 needs --data DIR");

    const auto group = s.dist.join();
    const auto train = load(s, "train"), test = load(s, "test");
    const auto used = s.train_subset > 0 ? train.subset(torch::arange(std::min(s.train_subset, train.size()))) : train;

    auto opts = cebm::train::clel_trainer_options::preset(s.preset);
    auto model_opts = cebm::models::clel_options(opts.model()).in_channels(used.channels()).image_size(used.height());
    if (!s.size.empty())
      model_opts.size(s.size == "small" ? cebm::nn::spherical_ebm_size::small
                      : s.size == "base" ? cebm::nn::spherical_ebm_size::base
                                         : cebm::nn::spherical_ebm_size::large);
    opts.model(model_opts).out_dir(s.out);
    if (s.iterations) opts.iterations(s.iterations);
    if (s.batch_size) opts.batch_size(s.batch_size);
    const std::int64_t global_batch = opts.batch_size();
    if (group) {  // each rank's share of the batch; the EMA half-life (in images) shrinks with it
      opts.batch_size(cebm_examples::distributed_flags::rank_batch(global_batch, group.get()));
      opts.ema_half_life_images(opts.ema_half_life_images() / group->world_size());
    }
    if (s.sgld_steps) opts.sgld(cebm::langevin_options(opts.sgld()).steps(s.sgld_steps));
    if (s.ebm_lr > 0) opts.ebm_lr(s.ebm_lr);
    if (s.encoder_lr > 0) opts.encoder_lr(s.encoder_lr);
    opts.on_divergence(s.on_divergence == "rollback" ? cebm::train::divergence_policy::rollback
                                                     : cebm::train::divergence_policy::abort);
    const char* size_name[] = {"small", "base", "large"};
    const nlohmann::json config = {
        {"model", "clel"}, {"model_size", size_name[static_cast<int>(opts.model().size())]}, {"preset", s.preset},
        {"dataset", s.dataset}, {"data", s.data.empty() ? cebm::data::default_fashion_mnist_dir() : s.data},
        {"out", opts.out_dir()}, {"seed", s.seed}, {"device", s.device}, {"threads", s.threads},
        {"iterations", opts.iterations()}, {"batch_size", global_batch},
        {"distributed", cebm_examples::distributed_flags::describe(group.get())}, {"ebm_lr", opts.ebm_lr()},
        {"ebm_betas", {opts.ebm_beta1(), opts.ebm_beta2()}}, {"warmup_iterations", opts.warmup_iterations()},
        {"encoder_lr", opts.encoder_lr()}, {"encoder_momentum", opts.encoder_momentum()},
        {"encoder_weight_decay", opts.encoder_weight_decay()}, {"l2", opts.loss().l2()}, {"beta", opts.loss().beta()},
        {"beta_test", opts.model().beta_test()}, {"temperature", opts.temperature()},
        {"sgld_steps", opts.sgld().steps()}, {"sgld_step_size", opts.sgld().step_size()},
        {"sgld_noise_std", opts.sgld().noise_std()}, {"buffer_capacity", opts.buffer().capacity()},
        {"buffer_reinit_prob", opts.buffer().reinit_prob()}, {"augmentation", "strong"},
        {"ema_half_life_images", opts.ema_half_life_images() * (group ? group->world_size() : 1)}, {"train_subset", s.train_subset},
        {"on_divergence", s.on_divergence}, {"cebm_version", CEBM_VERSION_STRING}, {"torch_threads", torch::get_num_threads()}};
    std::fprintf(stderr, "seed %llu, %d threads, device %s, run directory %s\n", (unsigned long long)s.seed,
                 torch::get_num_threads(), s.device.c_str(), opts.out_dir().c_str());

    cebm::train::clel_trainer trainer(cebm::models::Clel(opts.model()), used, opts, s.seed, device, config.dump(2));
    if (group) trainer.distribute(group);
    if (s.resume) cebm_examples::resume_run(trainer);
    const auto t0 = std::chrono::steady_clock::now();
    trainer.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!trainer.is_main_rank()) return 0;  // rank 0 reports

    const auto t1 = std::chrono::steady_clock::now();
    nlohmann::json report = {{"model", "clel"},
                             {"preset", s.preset},
                             {"dataset", s.dataset},
                             {"iterations", trainer.iteration()},
                             {"train_seconds", seconds},
                             {"final", trainer.last_metrics()},
                             {"best_probe_1nn", trainer.best_probe()},
                             {"evaluation",
                              cebm_examples::nearest_neighbor_summary(trainer, used, test, s.eval_images, "nn1_encoder")}};
    report["evaluation_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const std::filesystem::path dir(opts.out_dir());
    std::ofstream(dir / "summary.json") << report.dump(2) << '\n';
    std::ofstream md(dir / "summary.md");
    const auto& f = report["final"];
    const auto& e = report["evaluation"];
    md << "# CLEL on " << s.dataset << " (" << s.preset << " preset)\n\n"
       << "| quantity | value |\n| --- | --- |\n"
       << "| iterations | " << trainer.iteration() << " |\n| training time this run | " << seconds << " s |\n"
       << "| final L_EBM + L_LE | " << f.value("loss", NAN) << " |\n| final L_EBM | " << f.value("loss_ebm", NAN) << " |\n"
       << "| final L_LE (NT-Xent) | " << f.value("loss_encoder", NAN) << " |\n"
       << "| final e(data) | " << f.value("energy_pos", NAN) << " |\n| final e(samples) | " << f.value("energy_neg", NAN) << " |\n"
       << "| final mean cos(g(f(x)), h(t(x))) | " << f.value("alignment", NAN) << " |\n"
       << "| mean chain gradient norm | " << f.value("grad_norm", NAN) << " |\n"
       << "| 1-NN test accuracy, EMA encoder h | " << e["nn1_encoder"].get<double>() << " |\n"
       << "| 1-NN test accuracy, pixels (baseline) | " << e["nn1_pixels"].get<double>() << " |\n\n"
       << "1-NN: each of the " << e["test_images"].get<std::int64_t>() << " test images takes the label of the nearest of "
       << e["reference_images"].get<std::int64_t>() << " training images (squared L2 on the EMA encoder's h(x), eval mode).\n\n"
       << "Samples: ![data](samples/data.png) ![replay buffer](samples/buffer.png) "
          "![long-run chains of the EMA EBM](samples/long_run.png)\n";
    std::printf("%s\nsummary: %s\n", report.dump(2).c_str(), (dir / "summary.md").c_str());
    return 0;
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

// Train a conjugate EBM (any shipped latent family, fixed bias or learned mixture), the IGEBM or a
// Gaussian–Bernoulli harmonium on real images through the model registry, then write a short
// training summary (summary.md, summary.json; the papers' evaluations are the `evaluate` program).
//
//   train_cebm --preset demo --out runs/demo --threads 2                  # CEBM on Fashion-MNIST
//   train_cebm --latent gamma --mixture --dataset mnist --out runs/gamma  # a mixture of Gamma biases
//   train_cebm --model gmm_cebm --preset paper --dataset cifar10 --data DIR --device cuda
//   train_cebm --out runs/demo --resume            # continue from runs/demo/checkpoints/last.pt
//   RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 train_cebm --distributed ...   # rank 0 of 2
#include <cstdio>
#include <string>

#include <cebm/torch/programs/shipped_models.hpp>

#include <cebm/torch/programs/entry_points.hpp>
#include "programs/program.hpp"

namespace {

/// The registry kind of `--latent F [--mixture]`: cebm / gmm_cebm for the Gaussian, else
/// cebm_F / mixture_cebm_F.
std::string kind_of_latent(const std::string& latent, bool mixture) {
  if (latent == "gaussian") return mixture ? "gmm_cebm" : "cebm";
  return (mixture ? "mixture_cebm_" : "cebm_") + latent;
}

}  // namespace

namespace cebm::programs {

int train_cebm_main(int argc, char** argv) {
  cli::run_flags f;
  std::string model, latent;
  bool mixture = false;
  double lr = 0, l2 = -1;
  std::int64_t latent_dim = 0;
  auto& registry = cebm::programs::models();
  CLI::App app{"Train a conjugate EBM (any latent family), the IGEBM or a harmonium on real images and report"};
  f.add_to(app);
  auto* model_flag = app.add_option("--model", model, "a registered kind: " + registry.kinds(true) + " (default cebm)");
  auto* latent_flag = app.add_option("--latent", latent, "the conjugate bias family: gaussian, bernoulli, categorical, "
                                                         "poisson, gamma or von_mises_fisher")
                          ->check(CLI::IsMember({"gaussian", "bernoulli", "categorical", "poisson", "gamma", "von_mises_fisher"}));
  app.add_flag("--mixture", mixture, "with --latent: a learned mixture of biases (GMM-CEBM for gaussian)")->needs(latent_flag);
  model_flag->excludes(latent_flag);
  app.add_option("--latent-dim", latent_dim, "override the number of latent coordinates K (128)")->check(cli::positive);
  app.add_option("--lr", lr, "override the learning rate")->check(cli::positive);
  app.add_option("--l2", l2, "override the energy L2 coefficient")->check(cli::non_negative);
  if (const auto status = cli::parse_flags(app, argc, argv)) return *status;

  return cli::guarded([&] {
    const std::string kind = !latent.empty() ? kind_of_latent(latent, mixture) : model.empty() ? "cebm" : model;
    const auto& entry = registry.find(kind);
    if (!entry.train) throw std::invalid_argument("--model " + kind + ": not trained by train_cebm (trainable: " + registry.kinds(true) + ")");
    const auto proc = cli::start_training(f);  // device, ranks and data

    cebm::programs::ebm_training job;
    job.options = f.apply(entry.trainer_options(f.preset, f.dataset), kind, proc.group.get());
    if (lr > 0) job.options.lr(lr);
    if (l2 >= 0) job.options.loss(cebm::cd_options(job.options.loss()).l2(l2));
    job.model_options = entry.model_options({proc.data.train.channels(), proc.data.train.height()}, f.dataset);
    if (latent_dim > 0) {  // the encoder's (CEBM), the trunk's (IGEBM) or the hidden units (harmonium)
      if (job.model_options.contains("encoder")) job.model_options["encoder"]["latent_dim"] = latent_dim;
      else if (job.model_options.contains("trunk")) job.model_options["trunk"]["latent_dim"] = latent_dim;
      else if (job.model_options.contains("hidden")) job.model_options["hidden"] = latent_dim;
      else throw std::invalid_argument("--latent-dim: " + kind + " has no latent coordinates to size");
    }
    job.train = proc.data.train;
    job.seed = f.seed;
    job.init_from = f.init_from;
    job.device = proc.device;
    job.run = cli::run_request(f, job.options, proc.group);
    job.config = f.config(kind, job.options.out_dir(), job.options.iterations(),
                          f.batch_size ? f.batch_size : entry.trainer_options(f.preset, f.dataset).batch_size(), proc.group.get());
    const auto t0 = std::chrono::steady_clock::now();
    job.run.after_run = [&](cebm::train::trained_run& run) {
      cli::write_summary(run, f, kind, proc.data, cli::seconds_since(t0), "representation",
                                   {"data", "buffer", "long_run"});
    };
    std::fprintf(stderr, "%s on %s: seed %llu, %d threads, device %s, run directory %s\n", kind.c_str(), f.dataset.c_str(),
                 (unsigned long long)f.seed, torch::get_num_threads(), f.device.c_str(), job.options.out_dir().c_str());
    entry.train(job);
    return 0;
  });
}

}  // namespace cebm::programs

// Train one of the CEBM paper's non-energy baselines on real images: the VAE, the GMM-VAE (learned
// mixture prior) or BIGAN, with the same run directory, checkpoints, probe and `evaluate` report
// as train_cebm.
//
//   train_baseline --model vae --preset demo --out runs/vae_demo --threads 2
//   train_baseline --model vae --dataset cifar10 --data DIR --device cuda --out runs/vae_cifar
//   train_baseline --model gmm_vae --out runs/gmm_vae --resume
#include <cstdio>
#include <string>

#include <cebm/torch/models/bigan.hpp>
#include <cebm/torch/models/vae.hpp>
#include <cebm/torch/train/bigan_trainer.hpp>
#include <cebm/torch/train/vae_trainer.hpp>

#include <cebm/torch/programs/entry_points.hpp>
#include "programs/program.hpp"

namespace cebm::programs {

int train_baseline_main(int argc, char** argv) {
  cli::run_flags f;
  std::string model = "vae";
  double lr = 0;
  std::int64_t latent_dim = 0, components = 50;
  CLI::App app{"Train a VAE, GMM-VAE or BIGAN baseline on real images and report"};
  f.add_to(app, {{"paper", "the paper's text: latent 128, Adam lr 1e-4, batch 100, 100 epochs"},
                 {"commands", "VAE, GMM-VAE: the authors' run commands: latent 50, lr 1e-3, batch 100, 100 epochs"},
                 {"demo", "minutes on a CPU: 1,500 iterations, lr 1e-3, latent 128"},
                 {"ci", "seconds"}});
  app.add_option("--model", model, "vae, gmm_vae or bigan")->check(CLI::IsMember({"vae", "gmm_vae", "bigan"}));
  app.add_option("--lr", lr, "override the learning rate")->check(cli::positive);
  app.add_option("--latent-dim", latent_dim, "latent dimensions (default: the preset's; paper 128, commands 50)")
      ->check(cli::positive);
  app.add_option("--components", components, "gmm_vae: mixture components of the prior (paper 50)")->check(cli::positive);
  if (const auto status = cli::parse_flags(app, argc, argv)) return *status;

  return cli::guarded([&] {
    if (!f.init_from.empty())
      throw std::invalid_argument("--init-from: train_baseline's models (VAE, GMM-VAE, BIGAN) do not import weights; "
                                  "train_cebm and train_clel do");
    const auto proc = cli::start_training(f);  // device, ranks and data
    if (latent_dim == 0) latent_dim = cebm::train::vae_trainer_options::preset_latent_dim(f.preset);
    const bool colour = proc.data.train.channels() == 3 && proc.data.train.height() == 32;
    if (!colour && !(proc.data.train.channels() == 1 && proc.data.train.height() == 28))
      throw std::invalid_argument("--dataset " + f.dataset + ": the baselines take 1x28x28 or 3x32x32 images, got " +
                                  std::to_string(proc.data.train.channels()) + "x" + std::to_string(proc.data.train.height()) + "x" +
                                  std::to_string(proc.data.train.width()));
    auto describe = [&](auto o) {
      if (lr > 0) o.lr(lr);
      nlohmann::json config = f.config(model, o.out_dir(), o.iterations(), o.batch_size() * (proc.group ? proc.group->world_size() : 1), proc.group.get());
      config["lr"] = o.lr();
      config["latent_dim"] = latent_dim;
      std::fprintf(stderr, "%s on %s: seed %llu, %d threads, device %s, run directory %s\n", model.c_str(), f.dataset.c_str(),
                   (unsigned long long)f.seed, torch::get_num_threads(), f.device.c_str(), o.out_dir().c_str());
      return std::make_pair(o, config);
    };
    const std::vector<std::string> samples = {"data", "samples"};
    if (model == "bigan") {
      if (f.preset == "commands")
        throw std::invalid_argument("--preset commands: the authors' run commands are the VAEs'; bigan takes paper, demo or ci");
      if (colour) throw std::invalid_argument("--model bigan: only the paper's 1x28x28 architecture is shipped");
      auto [o, config] = describe(f.apply(cebm::train::bigan_trainer_options::preset(f.preset), model, proc.group.get()));
      config["instance_noise"] = o.instance_noise();
      config["betas"] = {o.beta1(), o.beta2()};
      cebm::train::bigan_trainer trainer(cebm::models::Bigan(cebm::models::bigan_options::mnist(latent_dim)), proc.data.train, o,
                                         f.seed, proc.device, config.dump(2));
      return cli::train_and_summarise(trainer, f, model, proc.data, proc.group, "representation", samples);
    }
    auto [o, config] = describe(f.apply(cebm::train::vae_trainer_options::preset(f.preset, model), model, proc.group.get()));
    const auto options = (colour ? cebm::models::vae_options::cifar(latent_dim) : cebm::models::vae_options::mnist(latent_dim))
                             .components(components);
    if (model == "gmm_vae") {
      config["components"] = components;
      cebm::train::vae_trainer<cebm::models::GmmVae> trainer(cebm::models::GmmVae(options), proc.data.train, o, f.seed, proc.device,
                                                             config.dump(2));
      return cli::train_and_summarise(trainer, f, model, proc.data, proc.group, "representation", samples);
    }
    cebm::train::vae_trainer<cebm::models::Vae> trainer(cebm::models::Vae(options), proc.data.train, o, f.seed, proc.device, config.dump(2));
    return cli::train_and_summarise(trainer, f, model, proc.data, proc.group, "representation", samples);
  });
}

}  // namespace cebm::programs
